"""Writing the audit trail. Services call ``audit_record`` for every create, state change and override."""

import datetime
import decimal
import uuid
from collections.abc import Iterable
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
    event.save()
    return event


def audit_record_many(events: list[AuditEvent], *, batch_size: int = 1000) -> None:
    AuditEvent.objects.bulk_create(events, batch_size=batch_size)
