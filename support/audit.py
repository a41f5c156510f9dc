"""Writing the audit trail. Services call ``audit_record`` for every create, state change and override."""

import datetime
import decimal
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import models

from support.models import AuditEvent


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of ``instance`` as JSON-safe values (foreign keys as ids)."""
    result: dict[str, Any] = {}
    for name in fields:
        field = instance._meta.get_field(name)
        attname = getattr(field, "attname", name)
        result[name] = _json_value(getattr(instance, attname))
    return result


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose values differ, as (before, after)."""
    keys = [key for key in after if before.get(key) != after[key]]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}


def audit_event(
    *,
    actor: AbstractBaseUser | None,
    action: str,
    subject: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
) -> AuditEvent:
    """An unsaved event, for callers that bulk-create many at once."""
    return AuditEvent(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=actor.get_username() if actor is not None and actor.is_authenticated else "system",
        action=action,
        subject_type=ContentType.objects.get_for_model(subject) if subject is not None else None,
        subject_id=str(subject.pk) if subject is not None else "",
        subject_repr=str(subject)[:200] if subject is not None else "",
        before={key: _json_value(value) for key, value in (before or {}).items()},
        after={key: _json_value(value) for key, value in (after or {}).items()},
        note=note,
    )


# Events recorded inside ``audit_together`` wait here, to be written in one statement.
_pending: ContextVar[list[AuditEvent] | None] = ContextVar("audit_pending", default=None)


@contextmanager
def audit_together() -> Iterator[None]:
    """Write the audit events recorded inside the block in one INSERT when it ends without an error.

    For a use case on a hot path that records several (a redemption and the fund's spend): one round
    trip instead of one per event. Use it inside the use case's transaction, so the events commit or
    roll back with what they describe; events recorded inside have no primary key until the block ends.
    """
    if _pending.get() is not None:  # already collecting: the outer block writes them
        yield
        return
    events: list[AuditEvent] = []
    token = _pending.set(events)
    try:
        yield
    finally:
        _pending.reset(token)
    if events:
        AuditEvent.objects.bulk_create(events)


def audit_record(
    *,
    actor: AbstractBaseUser | None,
    action: str,
    subject: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
) -> AuditEvent:
    """Write one audit event now (inside the caller's transaction)."""
    event = audit_event(actor=actor, action=action, subject=subject, before=before, after=after, note=note)
    if (pending := _pending.get()) is not None:
        pending.append(event)
    else:
        event.save()
    return event


def audit_record_many(events: list[AuditEvent], *, batch_size: int = 1000) -> None:
    if (pending := _pending.get()) is not None:
        pending.extend(events)
        return
    AuditEvent.objects.bulk_create(events, batch_size=batch_size)
