"""Finance's approval of spend above the policy thresholds: one service for every app.

A feature app asks (``spend_request_open``) when something it is about to pay for costs more than
``Policy.approval_threshold_pence`` (or the fund is short). The thing asked for is the request's
``source``. Finance then:

- **approves**: above ``Policy.second_approval_threshold_pence`` two different finance users must
  approve; the last approval commits the money (``funds.services.ledger.fund_spend_commit``, with finance's
  override reason when the fund is short) and tells the source's app;
- **rejects** with a note, or **sends it back for changes** with a note.

The requester is e-mailed each decision (after commit). The app that owns the source reacts through
the handler it registered (``register_spend_handler``), so the core never imports a feature app.
Every move is audited and made by a conditional update that the request's transitions table
(``funds.transitions.SPEND_FLOW``) allows, so two finance users deciding at once cannot both win.
"""

from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from funds.models import Fund, SpendRequest
from funds.selectors import spend_requests_visible_to
from funds.selectors.positions import FundPosition, fund_positions
from funds.services.ledger import fund_spend_commit
from funds.transitions import SPEND_FLOW
from support.audit import audit_record
from support.errors import ConflictError, SupportError
from support.jobs import enqueue_on_commit
from support.models import Policy, Role, School
from support.money import pounds
from support.scopes import scope_for

Status = SpendRequest.Status


class SpendHandler(Protocol):
    """What the app that owns a source does when finance decides."""

    def approved(self, source: models.Model, *, actor: AbstractBaseUser, note: str) -> None: ...

    def rejected(self, source: models.Model, *, actor: AbstractBaseUser, note: str) -> None: ...

    def sent_back(self, source: models.Model, *, actor: AbstractBaseUser, note: str) -> None: ...

    def url(self, source: models.Model) -> str:
        """Where staff at the school see the source (for the e-mail to the requester)."""
        ...


_HANDLERS: dict[str, SpendHandler] = {}


def register_spend_handler(model: type[models.Model], handler: SpendHandler) -> None:
    _HANDLERS[model._meta.label_lower] = handler


def _handler(spend_request: SpendRequest) -> SpendHandler:
    content_type = spend_request.source_type
    return _HANDLERS[f"{content_type.app_label}.{content_type.model}"]


def _source(spend_request: SpendRequest) -> models.Model:
    return spend_request.source_type.get_object_for_this_type(pk=spend_request.source_id)


def approvals_needed(amount_pence: int, policy: Policy | None = None) -> int:
    """How many finance approvers spend of ``amount_pence`` needs (1 or 2); 0 at or below the threshold."""
    policy = policy or Policy.current()
    if amount_pence > policy.second_approval_threshold_pence:
        return 2
    return 1 if amount_pence > policy.approval_threshold_pence else 0


def _require_finance(actor: AbstractBaseUser) -> None:
    if not scope_for(actor).is_finance:
        raise SupportError("Only finance can decide on spend from the fund.", code="forbidden")


def _snapshot(spend_request: SpendRequest) -> dict:
    return {
        "status": spend_request.status,
        "fund": spend_request.fund_id,
        "amount_pence": spend_request.amount_pence,
        "approvals_needed": spend_request.approvals_needed,
        "first_approved_by": spend_request.first_approved_by_id,
    }


@transaction.atomic
def spend_request_open(
    *,
    fund: Fund,
    source: models.Model,
    amount_pence: int,
    category: str,
    school: School | None,
    summary: str,
    reason: str,
    actor: AbstractBaseUser,
) -> SpendRequest:
    """Put spend for ``source`` in finance's queue. The caller has checked ``actor`` may ask for it.

    At least one approver, even at or below the threshold (the caller asks because the fund is short).
    Finance users are e-mailed that something waits for them.
    """
    if isinstance(amount_pence, bool) or not isinstance(amount_pence, int) or amount_pence <= 0:
        raise SupportError("Spend must be a positive amount.", field="amount_pence")
    source_type = ContentType.objects.get_for_model(source)
    if source._meta.label_lower not in _HANDLERS:
        raise ValueError(f"No spend handler registered for {source._meta.label_lower}")
    if SpendRequest.objects.filter(
        source_type=source_type, source_id=str(source.pk), status=Status.PENDING
    ).exists():
        raise ConflictError("This is already waiting for finance.", code="already_pending")
    spend_request = SpendRequest.objects.create(
        fund=fund,
        source_type=source_type,
        source_id=str(source.pk),
        school=school,
        category=category,
        amount_pence=amount_pence,
        summary=summary[:200],
        reason=reason,
        requested_by=actor,
        approvals_needed=max(1, approvals_needed(amount_pence)),
    )
    audit_record(
        actor=actor, action="spend_request.opened", subject=spend_request, after=_snapshot(spend_request)
    )
    finance_emails = list(
        get_user_model()
        .objects.filter(memberships__role=Role.FINANCE, memberships__is_active=True, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
    if finance_emails:
        enqueue_on_commit(
            "support.send_email",
            finance_emails,
            f"Waiting for finance: {spend_request.summary}",
            f"{spend_request.summary} for {school.name if school else 'the trust'}, "
            f"{pounds(amount_pence)} from {fund.name}, waits for your approval"
            f"{' (two approvers needed)' if spend_request.approvals_needed == 2 else ''}.\n\n"
            f"Why: {reason}\n\nThe approvals queue: {_site_url('finance_approvals')}",
        )
    return spend_request


def _site_url(name: str, *args: object) -> str:
    return settings.SITE_URL + reverse(name, args=args)


def _tell_requester(spend_request: SpendRequest, decision: str, note: str) -> None:
    email = spend_request.requested_by.email
    if not email:
        return
    link = settings.SITE_URL + _handler(spend_request).url(_source(spend_request))
    body = (
        f"Finance has {decision} your request: {spend_request.summary} "
        f"({pounds(spend_request.amount_pence)} from {spend_request.fund.name})."
    )
    if note:
        body += f"\n\nNote from finance: {note}"
    body += f"\n\nSee the request: {link}"
    enqueue_on_commit("support.send_email", [email], f"Request {decision}: {spend_request.summary}", body)


@transaction.atomic
def spend_request_approve(
    *, spend_request: SpendRequest, actor: AbstractBaseUser, note: str = "", override_reason: str = ""
) -> SpendRequest:
    """A finance user approves. The first of two approvals only records itself; the last commits the money.

    Refused for someone who is not finance, for the same person approving twice, and when the fund's
    available money is short unless ``override_reason`` is given (checked by ``fund_spend_commit``).
    Each step is a conditional update, so two approvers at once cannot both give the first approval,
    nor both the last; a refusal from the fund undoes the approval with the transaction.
    """
    _require_finance(actor)
    note = note.strip()
    now = timezone.now()
    approve = SPEND_FLOW["approve"]
    first = SpendRequest.objects.filter(
        pk=spend_request.pk,
        status__in=approve.sources,
        approvals_needed=2,
        first_approved_by__isnull=True,
    ).update(first_approved_by=actor, first_approved_at=now, updated_at=now)
    if first:
        spend_request.refresh_from_db()
        audit_record(
            actor=actor,
            action="spend_request.first_approval",
            subject=spend_request,
            after={"first_approved_by": actor.pk},
            note=note,
        )
        return spend_request
    # The last approval: one approver was enough, or another finance user gave the first.
    last = Q(approvals_needed__lt=2) | (Q(first_approved_by__isnull=False) & ~Q(first_approved_by=actor))
    try:
        before_status = SPEND_FLOW.claim(
            spend_request, "approve", where=last, decided_by=actor, decided_at=now, decision_note=note
        )
    except ConflictError:
        if spend_request.status in approve.sources and spend_request.first_approved_by_id == actor.pk:
            raise ConflictError(
                "You gave the first approval: a second finance approver must give the other.",
                code="same_approver",
            ) from None
        raise
    # Hold the fund from here (the order every approval takes: request, then fund), so a reversal
    # waits for this approval rather than changing what it is about to commit against.
    Fund.objects.select_for_update().get(pk=spend_request.fund_id)
    source = _source(spend_request)
    commitment = fund_spend_commit(
        fund=spend_request.fund,
        source=source,
        amount_pence=spend_request.amount_pence,
        category=spend_request.category,
        school=spend_request.school,
        actor=actor,
        override_reason=override_reason,
    )
    # The row is this transaction's since the claim above: no one else can move it meanwhile.
    SpendRequest.objects.filter(pk=spend_request.pk).update(
        commitment=commitment, override_reason=commitment.override_reason
    )
    spend_request.refresh_from_db()
    audit_record(
        actor=actor,
        action="spend_request.approved",
        subject=spend_request,
        before={**_snapshot(spend_request), "status": before_status},
        after={**_snapshot(spend_request), "commitment": commitment.pk},
        note=note,
    )
    _handler(spend_request).approved(source, actor=actor, note=note)
    _tell_requester(spend_request, "approved", note)
    return spend_request


def _close(
    *, spend_request: SpendRequest, actor: AbstractBaseUser, note: str, move: str, decision: str
) -> SpendRequest:
    _require_finance(actor)
    note = note.strip()
    if not note:
        raise SupportError(f"Say why the request is {decision}.", field="note", code="required")
    before_status = SPEND_FLOW.claim(
        spend_request, move, decided_by=actor, decided_at=timezone.now(), decision_note=note
    )
    audit_record(
        actor=actor,
        action=f"spend_request.{spend_request.status}",
        subject=spend_request,
        before={**_snapshot(spend_request), "status": before_status},
        after=_snapshot(spend_request),
        note=note,
    )
    source = _source(spend_request)
    handler = _handler(spend_request)
    if spend_request.status == Status.REJECTED:
        handler.rejected(source, actor=actor, note=note)
    else:
        handler.sent_back(source, actor=actor, note=note)
    _tell_requester(spend_request, decision, note)
    return spend_request


@transaction.atomic
def spend_request_reject(*, spend_request: SpendRequest, actor: AbstractBaseUser, note: str) -> SpendRequest:
    """Finance says no, with a note the requester reads."""
    return _close(spend_request=spend_request, actor=actor, note=note, move="reject", decision="rejected")


@transaction.atomic
def spend_request_send_back(
    *, spend_request: SpendRequest, actor: AbstractBaseUser, note: str
) -> SpendRequest:
    """Finance asks for changes (a cheaper item, a clearer reason), with a note the requester reads."""
    return _close(spend_request=spend_request, actor=actor, note=note, move="send-back", decision="sent back")


@transaction.atomic
def spend_request_withdraw(
    *, source: models.Model, actor: AbstractBaseUser, note: str
) -> SpendRequest | None:
    """The source's app withdraws a waiting request (the school rejected or changed it). Idempotent."""
    source_type = ContentType.objects.get_for_model(source)
    withdraw = SPEND_FLOW["withdraw"]
    spend_request = SpendRequest.objects.filter(
        source_type=source_type, source_id=str(source.pk), status__in=withdraw.sources
    ).first()
    if spend_request is None:
        return None
    try:
        before_status = SPEND_FLOW.claim(
            spend_request, "withdraw", decided_at=timezone.now(), decision_note=note
        )
    except ConflictError:
        return None  # finance decided it meanwhile: nothing waits any more
    audit_record(
        actor=actor,
        action="spend_request.withdrawn",
        subject=spend_request,
        before={**_snapshot(spend_request), "status": before_status},
        after=_snapshot(spend_request),
        note=note,
    )
    return spend_request


# --- Reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    request: SpendRequest
    position: FundPosition

    @property
    def available_after_pence(self) -> int:
        """What the fund would have available once this is approved."""
        return self.position.available_pence - self.request.amount_pence

    @property
    def needs_second(self) -> bool:
        return self.request.approvals_needed == 2 and self.request.first_approved_by_id is not None


def approval_queue(*, user: AbstractBaseUser) -> list[QueueRow]:
    """Waiting requests, oldest first, each with its fund's position now (two queries for all funds)."""
    pending = list(
        spend_requests_visible_to(user).filter(status=Status.PENDING).order_by("requested_at", "pk")
    )
    positions = fund_positions(r.fund_id for r in pending)
    return [QueueRow(request, positions[request.fund_id]) for request in pending]


def spend_request_for(source: models.Model) -> SpendRequest | None:
    """The latest spend request for ``source`` (to show its state and finance's note on the source's page)."""
    return (
        SpendRequest.objects.filter(
            source_type=ContentType.objects.get_for_model(source), source_id=str(source.pk)
        )
        .select_related("decided_by", "first_approved_by")
        .order_by("-pk")
        .first()
    )
