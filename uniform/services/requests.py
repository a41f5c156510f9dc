"""Requests for a coat, a pair of shoes or uniform for a pupil in need: create, decide, fulfil.

The flow is ``requested → approved → ordered | from stock → handed over``, and ``requested | approved
→ rejected`` with a reason. Every move is a conditional update on the current status (0 rows means
someone else moved it first: ``ConflictError``) and writes an audit event.

Decisions (see each docstring):

- **Periods.** A coat counts against a winter season, named by the year it starts (default 1 October
  to 31 March): a request on 15 February 2027 belongs to the 2026 season. A request *outside* the
  season (April to September) counts toward the coming season, because that is the winter the coat is
  for. Shoes and uniform count against the academic year (1 September to 31 August).
- **Policy.** ``Policy.coats_per_season`` coats and ``Policy.shoes_per_year`` pairs of shoes per pupil
  per period; a rejected request does not count. Uniform for need has no per-period limit.
- **Items and price.** Every request names one of the school's own active items of its kind (a coat,
  shoes, an item of uniform) and one of that item's sizes (``uniform.sizes``), and costs the item's unit
  cost × quantity. So a request always reaches the ledger: a commitment when approved.
- **Approval.** Beyond policy, a request waits for a pastoral lead of the pupil's school (who gives a
  reason). So does a request that costs nothing (an item priced at £0): a lead approves it only by
  recording why it costs nothing (donated, second-hand), in ``no_cost_reason``, audited. Then money:
  a request whose cost is at or below ``Policy.approval_threshold_pence`` commits that cost against the
  school's fund (``funds.services.ledger.fund_for_school``: its own hardship budget, else the standby
  fund) and is approved; above the threshold, or when the fund cannot afford it, it waits for finance
  (``funds.services.approvals``), who approve (committing the money), reject, or send it back for changes.
  A request sent back is revised by staff at the school and goes through the same routing again.
- **Money.** Handing over makes the commitment actual spend; rejecting an approved request releases it.
- **Stock.** "From stock" takes the item from the school's new stock when it is tracked
  (``uniform.services.stock``). Second-hand stock in the request's size is offered first
  (``request_secondhand_offer``); staff choose it (``request_mark_from_secondhand``) or new. Met from
  second-hand, the request's commitment is released and it is recorded at £0 ("met from second-hand
  stock"), the movement keeping what it saved.
"""

import calendar
import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone

from funds.models import Fund
from funds.selectors.positions import fund_position
from funds.services.approvals import approvals_needed, spend_request_open, spend_request_withdraw
from funds.services.ledger import (
    SpendItem,
    fund_commitment_release,
    fund_for_school,
    fund_spend_actual,
    fund_spend_commit,
    fund_spend_commit_many,
)
from support.audit import audit_event, audit_record, audit_record_many
from support.dates import academic_year_start_for
from support.errors import ConflictError, SupportError
from support.models import Policy, Pupil
from support.money import pounds
from support.permissions import has_perm
from support.scopes import require_school, scope_for
from support.selectors import pupils_visible_to
from uniform.models import SECONDHAND, Condition, ItemKind, SupportRequest, UniformItem
from uniform.selectors import support_requests_visible_to
from uniform.services.stock import secondhand_condition_for, secondhand_in_stock, stock_take_for_request
from uniform.sizes import check_size
from uniform.transitions import REQUEST_FLOW

Status = SupportRequest.Status
MAX_QUANTITY = 10
MAX_DRIVE = 500
AUTO_APPROVED = "Within policy: approved automatically."


# --- Periods and policy ------------------------------------------------------------------------


def _on(year: int, month: int, day: int) -> datetime.date:
    """The date, with the day clamped to the month's length (a season "ending 31 February")."""
    return datetime.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def coat_season_for(day: datetime.date, policy: Policy) -> int:
    """The start year of the coat season ``day`` counts against.

    In the season: the season it is in (15 February 2027 → 2026). Outside it: the coming season
    (20 May 2027 → 2027), because a coat asked for in the summer is for the next winter.
    """
    start = _on(day.year, policy.coat_season_start_month, policy.coat_season_start_day)
    end = _on(day.year, policy.coat_season_end_month, policy.coat_season_end_day)
    if start > end:  # the season crosses the new year (the default, October to March)
        return day.year if day >= start or day > end else day.year - 1
    return day.year if day <= end else day.year + 1  # a season within one calendar year


def coat_season_bounds(season: int, policy: Policy) -> tuple[datetime.date, datetime.date]:
    start = _on(season, policy.coat_season_start_month, policy.coat_season_start_day)
    crosses = (policy.coat_season_end_month, policy.coat_season_end_day) < (
        policy.coat_season_start_month,
        policy.coat_season_start_day,
    )
    end_year = season + 1 if crosses else season
    return start, _on(end_year, policy.coat_season_end_month, policy.coat_season_end_day)


def period_for(kind: str, day: datetime.date, policy: Policy) -> int:
    """The period a request of ``kind`` made on ``day`` counts against, as its start year."""
    if kind == ItemKind.COAT:
        return coat_season_for(day, policy)
    return academic_year_start_for(day)


def policy_limit(kind: str, policy: Policy) -> int | None:
    """How many of ``kind`` a pupil may have per period without a lead; None for no limit."""
    return {ItemKind.COAT: policy.coats_per_season, ItemKind.SHOES: policy.shoes_per_year}.get(kind)


def counted_requests(*, pupil: Pupil, kind: str, period: int) -> QuerySet[SupportRequest]:
    """The requests that count toward the pupil's limit: all but rejected ones."""
    return SupportRequest.objects.filter(pupil=pupil, kind=kind, period=period).exclude(
        status=Status.REJECTED
    )


@dataclass(frozen=True)
class PupilHistory:
    """What a pupil has had (or has asked for) this coat season and this academic year."""

    season: int
    year: int
    coats: list[SupportRequest]
    shoes: list[SupportRequest]
    uniform: list[SupportRequest]
    coat_limit: int
    shoe_limit: int

    @property
    def season_label(self) -> str:
        return f"winter {self.season}–{str(self.season + 1)[-2:]}"

    @property
    def year_label(self) -> str:
        return f"{self.year}–{str(self.year + 1)[-2:]}"


def pupil_history(
    *, user: AbstractBaseUser, pupil: Pupil, today: datetime.date | None = None
) -> PupilHistory:
    """The pupil's non-rejected requests this coat season and academic year, as ``user`` sees them."""
    policy = Policy.current()
    today = today or timezone.localdate()
    season, year = coat_season_for(today, policy), academic_year_start_for(today)
    rows = list(
        support_requests_visible_to(user)
        .filter(pupil=pupil, period__in={season, year})
        .exclude(status=Status.REJECTED)
        .select_related("item")
    )
    return PupilHistory(
        season=season,
        year=year,
        coats=[r for r in rows if r.kind == ItemKind.COAT and r.period == season],
        shoes=[r for r in rows if r.kind == ItemKind.SHOES and r.period == year],
        uniform=[r for r in rows if r.kind == ItemKind.UNIFORM and r.period == year],
        coat_limit=policy.coats_per_season,
        shoe_limit=policy.shoes_per_year,
    )


def _check_item(*, item: UniformItem | None, kind: str, school_id: int, school_name: str) -> UniformItem:
    """The item a request names: one of the school's own active items of its kind."""
    label = {ItemKind.COAT: "coat", ItemKind.SHOES: "pair of shoes"}.get(kind, "item of uniform")
    if item is None:
        raise SupportError(f"Choose the {label} from {school_name}'s items.", field="item")
    if item.school_id != school_id or not item.is_active:
        raise SupportError(f"Choose a {label} {school_name} offers.", field="item")
    if item.kind != kind:
        raise SupportError(f"{item.name} is not a {ItemKind(kind).label.lower()} item.", field="item")
    return item


# --- Create ------------------------------------------------------------------------------------


def _clean_text(value: str, *, field: str, required_message: str, limit: int = 300) -> str:
    value = (value or "").strip()
    if not value:
        raise SupportError(required_message, field=field)
    if len(value) > limit:
        raise SupportError(f"Keep this to {limit} characters or fewer.", field=field)
    return value


def _snapshot(request: SupportRequest) -> dict[str, Any]:
    return {
        "pupil": request.pupil_id,
        "school": request.school_id,
        "kind": request.kind,
        "item": request.item_id,
        "size": request.size,
        "quantity": request.quantity,
        "urgency": request.urgency,
        "period": request.period,
        "status": request.status,
        "beyond_policy": request.beyond_policy,
        "cost_pence": request.cost_pence,
        "no_cost_reason": request.no_cost_reason,
    }


def _check_asked(
    *, pupil: Pupil, kind: str, item: UniformItem | None, size: str, quantity: int
) -> tuple[UniformItem, str]:
    """The item, size and quantity a request asks for, checked: returns the item and the size in its
    one spelling."""
    if kind not in ItemKind.values:
        raise SupportError("Choose a coat, shoes or uniform.", field="kind")
    item = _check_item(item=item, kind=kind, school_id=pupil.school_id, school_name=pupil.school.name)
    if kind != ItemKind.UNIFORM and quantity != 1:
        raise SupportError("Coats and shoes are requested one at a time.", field="quantity")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise SupportError(f"Ask for between 1 and {MAX_QUANTITY}.", field="quantity")
    return item, check_size(name=item.name, sizes=item.sizes, value=size)


def _require_in_need(pupil: Pupil) -> None:
    if not pupil.in_need:
        raise SupportError(
            f"{pupil.known_as} is not marked in need. Mark them in need on the family's page first.",
            field="pupil",
            code="not_in_need",
        )


def _priced(
    *, pupil: Pupil, kind: str, item: UniformItem, quantity: int, today: datetime.date
) -> tuple[str, bool, int]:
    """The period a request made on ``today`` counts in, whether it is beyond the policy there, and its
    cost in pence."""
    policy = Policy.current()
    period = period_for(kind, today, policy)
    limit = policy_limit(kind, policy)
    beyond = limit is not None and counted_requests(pupil=pupil, kind=kind, period=period).count() >= limit
    return period, beyond, item.unit_cost_pence * quantity


# --- Routing: the one rule ----------------------------------------------------------------------
# Where a request goes is decided in two steps, used by the request itself (``request_create``,
# ``request_revise``, ``_route``) and by the check pages' quotes (``request_quote``,
# ``request_revise_quote``) alike, so a quote can never disagree with what sending does.

BEYOND_POLICY = "It is beyond the policy for this period, so a lead decides."
NO_COST = "It costs nothing, so a lead records why and decides."
WITHIN_POLICY = "It is within policy: it is approved and paid from the fund."
FUND_SHORT = "The fund cannot afford it at the moment, so finance decides."


def _lead_first(*, beyond: bool, cost_pence: int) -> str:
    """Why a lead decides before the money is looked at ('' when no lead needs to)."""
    if beyond:
        return BEYOND_POLICY
    if not cost_pence:
        return NO_COST
    return ""


def _over_threshold(policy: Policy) -> str:
    return f"It costs more than {pounds(policy.approval_threshold_pence)}, so finance decides."


def _finance_reason(cost_pence: int, *, fund_pays: Callable[[], bool]) -> str:
    """Why finance decides a priced request ('' when the school's fund pays it now).

    ``fund_pays`` is asked only when the cost is within the approval threshold: the quote asks the fund
    position whether it could pay; ``_route`` commits the spend and answers whether it went through.
    """
    if approvals_needed(cost_pence) > 0:
        return _over_threshold(Policy.current())
    if not fund_pays():
        return FUND_SHORT
    return ""


@dataclass(frozen=True)
class RequestQuote:
    """What a request would cost and where it would go if sent now (``request_quote``)."""

    cost_pence: int
    beyond_policy: bool
    goes_to: str  # "approved", "lead" or "finance"
    why: str

    @property
    def needs_finance(self) -> bool:
        return self.goes_to == "finance"


def _quote(*, school, cost_pence: int, beyond: bool) -> RequestQuote:
    lead = _lead_first(beyond=beyond, cost_pence=cost_pence)
    if lead:
        return RequestQuote(cost_pence, beyond, "lead", lead)
    fund = fund_for_school(school)
    finance = _finance_reason(
        cost_pence, fund_pays=lambda: fund_position(fund=fund).available_pence >= cost_pence
    )
    if finance:
        return RequestQuote(cost_pence, False, "finance", finance)
    return RequestQuote(cost_pence, False, "approved", WITHIN_POLICY)


def request_quote(
    *,
    pupil: Pupil,
    kind: str,
    size: str,
    actor: AbstractBaseUser,
    today: datetime.date,
    item: UniformItem | None = None,
    quantity: int = 1,
) -> RequestQuote:
    """What ``request_create`` would do with this request on ``today``, writing nothing: the same checks,
    the same price and policy count, and the same routing rule (``_lead_first``, ``_finance_reason``)."""
    require_school(actor, pupil.school)
    item, size = _check_asked(pupil=pupil, kind=kind, item=item, size=size, quantity=quantity)
    _require_in_need(pupil)
    _period, beyond, cost = _priced(pupil=pupil, kind=kind, item=item, quantity=quantity, today=today)
    return _quote(school=pupil.school, cost_pence=cost, beyond=beyond)


@transaction.atomic
def request_create(
    *,
    pupil: Pupil,
    kind: str,
    size: str,
    reason: str,
    urgency: str,
    actor: AbstractBaseUser,
    item: UniformItem | None = None,
    quantity: int = 1,
) -> SupportRequest:
    """Ask for a coat, a pair of shoes or an item of uniform for ``pupil``, who must be flagged in need.

    Refused for a pupil not in need or not at one of the actor's schools, no item or an item of another
    school or kind, or a size the item does not come in (read in any spelling ``uniform.sizes``
    knows, kept in the item's). It costs the item's unit cost × ``quantity``; coats and shoes come one
    at a time.

    ``beyond_policy`` is set when the pupil already has the policy's count of non-rejected requests of
    this kind in the period. Within policy and priced, the request is routed by its cost (approved and
    committed, or to finance); beyond policy or at £0 it waits in the lead's queue.
    """
    require_school(actor, pupil.school)
    if urgency not in SupportRequest.Urgency.values:
        raise SupportError("Choose how urgent it is.", field="urgency")
    reason = _clean_text(reason, field="reason", required_message="Say why the pupil needs it.")
    item, size = _check_asked(pupil=pupil, kind=kind, item=item, size=size, quantity=quantity)

    # Lock the pupil so two staff asking at once cannot both count as the first of the period.
    pupil = Pupil.objects.select_for_update().select_related("school").get(pk=pupil.pk)
    _require_in_need(pupil)
    period, beyond, cost = _priced(
        pupil=pupil, kind=kind, item=item, quantity=quantity, today=timezone.localdate()
    )
    request = SupportRequest.objects.create(
        pupil=pupil,
        school=pupil.school,
        kind=kind,
        item=item,
        size=size,
        quantity=quantity,
        reason=reason,
        urgency=urgency,
        period=period,
        status=Status.REQUESTED,
        beyond_policy=beyond,
        requested_by=actor,
        cost_pence=cost,
    )
    audit_record(actor=actor, action="support_request.created", subject=request, after=_snapshot(request))
    if _lead_first(beyond=beyond, cost_pence=cost):
        return request  # a lead decides first
    return _route(request=request, actor=actor, move="route", note=AUTO_APPROVED)


# --- Money ------------------------------------------------------------------------------------


def _open_finance_review(
    request: SupportRequest, *, fund: Fund, reason: str, actor: AbstractBaseUser
) -> None:
    """Put a request's cost before finance (a spend request on the school's fund)."""
    spend_request_open(
        fund=fund,
        source=request,
        amount_pence=request.cost_pence,
        category=request.kind,
        school=request.school,
        summary=request_summary(request),
        # Finance reads why the money needs a decision, never the school's case for the pupil.
        reason=reason,
        actor=actor,
    )


def request_summary(request: SupportRequest) -> str:
    """What is asked for, as finance reads it: no pupil name, no case notes."""
    what = (
        f"{request.quantity} × {request.item.name}"
        if request.kind == ItemKind.UNIFORM and request.item
        else (request.get_kind_display())
    )
    return f"{what}, size {request.size_label}, {request.school.name}"


def _route(*, request: SupportRequest, actor: AbstractBaseUser, move: str, note: str) -> SupportRequest:
    """Move an agreed request on by its cost: approved (money committed, or none needed) or to finance.

    The caller holds the request (just created, or locked). Returns the moved request. A request at £0
    moves on only when a lead has recorded why it costs nothing (``request_approve``).
    """
    if not request.cost_pence and not request.no_cost_reason:
        raise SupportError(
            "This request costs £0.00: record why it costs nothing (donated, second-hand) to approve it.",
            field="no_cost_reason",
            code="no_cost_reason_required",
        )
    if request.cost_pence:
        fund = fund_for_school(request.school)

        def commit() -> bool:
            try:
                fund_spend_commit(
                    fund=fund,
                    source=request,
                    amount_pence=request.cost_pence,
                    category=request.kind,
                    school=request.school,
                    actor=actor,
                )
            except SupportError as exc:
                if exc.code != "insufficient_funds":
                    raise
                return False
            return True

        why_finance = _finance_reason(request.cost_pence, fund_pays=commit)
        if why_finance:
            moved = _move(
                request=request,
                actor=actor,
                move=move,
                target=Status.AWAITING_FINANCE,
                action="support_request.sent_to_finance",
                note=why_finance,
            )
            _open_finance_review(moved, fund=fund, reason=why_finance, actor=actor)
            return moved
    automatic = note == AUTO_APPROVED
    return _move(
        request=request,
        actor=actor,
        move=move,
        target=Status.APPROVED,
        action="support_request.approved",
        note=note,
        audit_extra={"automatic": True} if automatic else None,
        decided_by=None if automatic else actor,
        decided_at=timezone.now(),
        decision_reason=note,
    )


# --- Moves -------------------------------------------------------------------------------------


def _move(
    *,
    request: SupportRequest,
    actor: AbstractBaseUser,
    move: str,
    action: str,
    target: str | None = None,
    note: str = "",
    audit_extra: dict[str, Any] | None = None,
    **fields: Any,
) -> SupportRequest:
    """Make ``move`` of ``REQUEST_FLOW`` on ``request`` with a conditional update, and audit it."""
    before = REQUEST_FLOW.claim(request, move, target=target, **fields)
    after: dict[str, Any] = {"status": request.status}
    after.update({key: value for key, value in fields.items() if key.endswith("_pence")})
    after.update(audit_extra or {})
    audit_record(
        actor=actor,
        action=action,
        subject=request,
        before={"status": before},
        after=after,
        note=note,
    )
    return request


@transaction.atomic
def request_approve(
    *, request: SupportRequest, actor: AbstractBaseUser, reason: str = "", no_cost_reason: str = ""
) -> SupportRequest:
    """A pastoral lead of the pupil's school approves a waiting request. Beyond policy needs a reason;
    a request that costs £0 needs ``no_cost_reason`` (why: donated, second-hand), kept and audited.

    The money then decides where it goes (see the module's docstring): approved, or on to finance.
    """
    require_school(actor, request.school, lead=True)
    reason = (reason or "").strip()
    if request.beyond_policy and not reason:
        raise SupportError(
            "This is beyond the policy for the period: give a reason for approving it.",
            field="reason",
            code="reason_required",
        )
    if len(reason) > 300:
        raise SupportError("Keep this to 300 characters or fewer.", field="reason")
    no_cost_reason = (no_cost_reason or "").strip()
    if len(no_cost_reason) > 300:
        raise SupportError("Keep this to 300 characters or fewer.", field="no_cost_reason")
    request = _locked(request)
    REQUEST_FLOW.check(request, "approve")
    if not request.cost_pence and no_cost_reason:
        request.no_cost_reason = no_cost_reason
        request.save(update_fields=["no_cost_reason", "updated_at"])
        audit_record(
            actor=actor,
            action="support_request.no_cost_recorded",
            subject=request,
            before={"cost_pence": 0, "no_cost_reason": ""},
            after={"cost_pence": 0, "no_cost_reason": no_cost_reason},
            note=no_cost_reason,
        )
    return _route(request=request, actor=actor, move="approve", note=reason or no_cost_reason)


def _locked(request: SupportRequest) -> SupportRequest:
    return (
        SupportRequest.objects.select_for_update(of=("self",))
        .select_related("school", "item")
        .get(pk=request.pk)
    )


@transaction.atomic
def request_reject(*, request: SupportRequest, actor: AbstractBaseUser, reason: str) -> SupportRequest:
    """A pastoral lead rejects a request, with a reason, until it is ordered or taken from stock.

    Money committed for it is released; a request waiting for finance leaves finance's queue.
    """
    require_school(actor, request.school, lead=True)
    reason = _clean_text(reason, field="reason", required_message="Give a reason for rejecting the request.")
    rejected = _move(
        request=request,
        actor=actor,
        move="reject",
        action="support_request.rejected",
        note=reason,
        decided_by=actor,
        decided_at=timezone.now(),
        decision_reason=reason,
    )
    fund_commitment_release(source=rejected, actor=actor, note="Request rejected by the school")
    spend_request_withdraw(source=rejected, actor=actor, note="Rejected by the school: " + reason)
    return rejected


@transaction.atomic
def request_mark_ordered(*, request: SupportRequest, actor: AbstractBaseUser) -> SupportRequest:
    """Staff at the school record that an approved request has been ordered from the supplier."""
    require_school(actor, request.school)
    return _move(
        request=request,
        actor=actor,
        move="ordered",
        action="support_request.ordered",
    )


@transaction.atomic
def request_mark_from_stock(*, request: SupportRequest, actor: AbstractBaseUser) -> SupportRequest:
    """Staff at the school record that an approved request is met from the school's stock.

    A uniform item whose stock is tracked is taken from stock in the same transaction; too little
    stock refuses the move and changes nothing.
    """
    require_school(actor, request.school)
    moved = _move(
        request=request,
        actor=actor,
        move="from-stock",
        action="support_request.from_stock",
    )
    stock_take_for_request(request=moved, actor=actor)
    return moved


SECONDHAND_NO_COST = "Met from second-hand stock ({condition}): no cost to the fund."


def request_secondhand_offer(*, request: SupportRequest) -> dict[str, int]:
    """Second-hand stock of the request's item in its size, per condition (best first), while it can still
    be met from stock; empty when there is none, or the request is past that step."""
    if request.item is None or request.status != Status.APPROVED:
        return {}
    return secondhand_in_stock(item=request.item, size=request.size)


@transaction.atomic
def request_mark_from_secondhand(
    *, request: SupportRequest, actor: AbstractBaseUser, condition: str = ""
) -> SupportRequest:
    """Staff at the school meet an approved request from donated second-hand stock instead of new.

    The stock is taken (in ``condition``, or the best condition that has enough), the money committed
    for the request is released, and the request is recorded at £0 with why: the fund pays nothing. The
    stock movement keeps the saving (the item's unit cost new). Refused, changing nothing, when there is
    not enough second-hand stock in the size.
    """
    require_school(actor, request.school)
    request = _locked(request)
    REQUEST_FLOW.check(request, "from-secondhand")
    if request.item is None:
        raise SupportError("This request names no item, so it cannot be met from stock.", code="no_stock")
    if condition and condition not in SECONDHAND:
        raise SupportError("Choose as new, good or worn.", field="condition")
    condition = (
        condition
        or secondhand_condition_for(item=request.item, size=request.size, quantity=request.quantity)
        or ""
    )
    if not condition:
        raise ConflictError(
            f"There is not enough second-hand {request.item.name} in size {request.size_label} in stock.",
            code="no_stock",
        )
    before = _snapshot(request)
    reason = SECONDHAND_NO_COST.format(
        condition=Condition(condition).label.removeprefix("Second-hand, ").lower()
    )
    moved = _move(
        request=request,
        actor=actor,
        move="from-secondhand",
        action="support_request.from_secondhand",
        note=reason,
        audit_extra={"condition": condition, "saved_pence": before["cost_pence"]},
        cost_pence=0,
        no_cost_reason=reason,
    )
    stock_take_for_request(request=moved, actor=actor, condition=condition)
    fund_commitment_release(source=moved, actor=actor, note="Met from second-hand stock")
    return moved


@transaction.atomic
def request_hand_over(*, request: SupportRequest, actor: AbstractBaseUser) -> SupportRequest:
    """Staff at the school record that the pupil (or their family) has been given the item."""
    require_school(actor, request.school)
    moved = _move(
        request=request,
        actor=actor,
        move="handed-over",
        action="support_request.handed_over",
        handed_over_by=actor,
        handed_over_at=timezone.now(),
    )
    fund_spend_actual(source=moved, actor=actor)
    return moved


def _check_revision(
    *, request: SupportRequest, item: UniformItem | None, size: str, quantity: int
) -> tuple[UniformItem, str]:
    """The item, size and quantity a sent-back request is changed to, checked (``request_revise``)."""
    item = _check_item(
        item=item, kind=request.kind, school_id=request.school_id, school_name=request.school.name
    )
    if request.kind != ItemKind.UNIFORM and quantity != 1:
        raise SupportError("Coats and shoes are requested one at a time.", field="quantity")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise SupportError(f"Ask for between 1 and {MAX_QUANTITY}.", field="quantity")
    return item, check_size(name=item.name, sizes=item.sizes, value=size)


def request_revise_quote(
    *,
    request: SupportRequest,
    actor: AbstractBaseUser,
    size: str,
    item: UniformItem | None = None,
    quantity: int = 1,
) -> RequestQuote:
    """What ``request_revise`` would do with these changes now, writing nothing: the same checks and the
    same routing rule. A changed request is not counted against the policy again (it already was)."""
    require_school(actor, request.school)
    REQUEST_FLOW.check(request, "revise")
    item, size = _check_revision(request=request, item=item, size=size, quantity=quantity)
    return _quote(school=request.school, cost_pence=item.unit_cost_pence * quantity, beyond=False)


@transaction.atomic
def request_revise(
    *,
    request: SupportRequest,
    actor: AbstractBaseUser,
    size: str,
    reason: str,
    item: UniformItem | None = None,
    quantity: int = 1,
) -> SupportRequest:
    """Staff at the school change a request finance sent back (another item, size or number, a clearer
    reason) and send it on again: approved if it is now within the threshold and affordable, otherwise
    back to finance."""
    require_school(actor, request.school)
    request = _locked(request)
    REQUEST_FLOW.check(request, "revise")
    reason = _clean_text(reason, field="reason", required_message="Say why the pupil needs it.")
    item, size = _check_revision(request=request, item=item, size=size, quantity=quantity)
    before = _snapshot(request)
    request.item, request.size, request.quantity, request.reason = item, size, quantity, reason
    request.cost_pence = item.unit_cost_pence * quantity
    request.save(update_fields=["item", "size", "quantity", "reason", "cost_pence", "updated_at"])
    audit_record(
        actor=actor,
        action="support_request.revised",
        subject=request,
        before=before,
        after=_snapshot(request),
    )
    if _lead_first(beyond=False, cost_pence=request.cost_pence):
        return _move(
            request=request,
            actor=actor,
            move="revise",
            target=Status.REQUESTED,
            action="support_request.resubmitted",
            note="It now costs £0.00, so a lead records why before approving it.",
        )
    return _route(request=request, actor=actor, move="revise", note="Changed as finance asked.")


class FinanceDecisions:
    """What a coat, shoe or uniform request does when finance decides (``funds.services.approvals``)."""

    @staticmethod
    def _decided(source: SupportRequest, actor: AbstractBaseUser, note: str, verb: str) -> None:
        slug = verb.replace(" ", "-")
        _move(
            request=source,
            actor=actor,
            move=f"finance-{slug}",
            action=f"support_request.{verb.replace(' ', '_')}",
            note=note,
            decided_by=actor,
            decided_at=timezone.now(),
            decision_reason=(note or f"{verb.capitalize()} by finance.")[:300],
        )

    def approved(self, source: SupportRequest, *, actor: AbstractBaseUser, note: str) -> None:
        self._decided(source, actor, note, "approved")

    def rejected(self, source: SupportRequest, *, actor: AbstractBaseUser, note: str) -> None:
        self._decided(source, actor, note, "rejected")

    def sent_back(self, source: SupportRequest, *, actor: AbstractBaseUser, note: str) -> None:
        self._decided(source, actor, note, "sent back")

    def url(self, source: SupportRequest) -> str:
        return reverse("support_request_detail", args=[source.pk])


def request_next_steps(*, request: SupportRequest, user: AbstractBaseUser) -> list[str]:
    """The moves of ``REQUEST_FLOW`` ``user`` may make on ``request`` now, in the table's order: a lead's
    moves for leads of the request's school, the rest for staff at it, each only with its permission."""
    scope = scope_for(user)
    is_lead = scope.is_admin or request.school_id in scope.lead_school_ids
    is_staff = scope.is_admin or request.school_id in scope.school_ids
    return [
        move.name
        for move in REQUEST_FLOW.moves_from(request.status)
        if (is_lead if move.lead else is_staff) and has_perm(user, move.permission)  # type: ignore[arg-type]
    ]


# --- Winter drive ------------------------------------------------------------------------------


def winter_drive_pupils(*, user: AbstractBaseUser, today: datetime.date | None = None) -> QuerySet[Pupil]:
    """Pupils in need at the user's lead schools with no coat (non-rejected request) this season."""
    scope = scope_for(user)
    season = coat_season_for(today or timezone.localdate(), Policy.current())
    pupils = pupils_visible_to(user).filter(in_need=True)
    if not scope.is_admin:
        pupils = pupils.filter(school_id__in=scope.lead_school_ids)
    had_coat = (
        support_requests_visible_to(user)
        .filter(pupil=OuterRef("pk"), kind=ItemKind.COAT, period=season)
        .exclude(status=Status.REJECTED)
    )
    return pupils.exclude(Exists(had_coat)).select_related("school").order_by("school__name", "surname", "pk")


@dataclass(frozen=True)
class DriveCoat:
    """The coat one pupil gets in a winter drive: one of their school's coats, in one of its sizes."""

    item_id: int
    size: str


@transaction.atomic
def requests_winter_drive(
    *,
    pupil_coats: dict[int, DriveCoat],
    actor: AbstractBaseUser,
    reason: str,
    today: datetime.date | None = None,
) -> list[SupportRequest]:
    """A lead raises coat requests for many pupils in need at once: ``{pupil id: DriveCoat}``.

    All or nothing: refused if any pupil is not in need, not at one of the actor's lead schools,
    unknown, or any coat is not one of the pupil's school's active coats in one of its sizes. Pupils who
    already have a coat request this season are skipped (someone raised one meanwhile), so running the
    drive twice adds nothing. Each request is priced from its coat and routed like any other: within
    the threshold, the coats of each fund are committed together and approved (or all go to finance
    when that fund cannot afford them), above it they go to finance, and a coat at £0 waits for a lead
    to record why it costs nothing. Bulk inserts whatever the number of pupils; only the requests sent
    to finance cost a few queries each.
    """
    reason = _clean_text(reason, field="reason", required_message="Say why these pupils need a coat.")
    if not pupil_coats:
        raise SupportError("Choose at least one pupil.", field="pupils")
    if len(pupil_coats) > MAX_DRIVE:
        raise SupportError(f"Raise at most {MAX_DRIVE} requests at once.", field="pupils")
    scope = scope_for(actor)
    pupils = list(
        Pupil.objects.select_for_update()
        .filter(pk__in=list(pupil_coats))
        .select_related("school")
        .order_by("pk")
    )
    if len(pupils) != len(pupil_coats):
        raise SupportError("Some of these pupils are not at your schools.", field="pupils", code="forbidden")
    items = UniformItem.objects.in_bulk({coat.item_id for coat in pupil_coats.values()})
    sizes: dict[int, str] = {}
    for pupil in pupils:
        if not (scope.is_admin or pupil.school_id in scope.lead_school_ids):
            raise SupportError(
                "Only a pastoral lead at each pupil's school can raise these requests.", code="forbidden"
            )
        if not pupil.in_need:
            raise SupportError(f"{pupil.known_as} {pupil.surname} is not marked in need.", field="pupils")
        coat = pupil_coats[pupil.pk]
        item = _check_item(
            item=items.get(coat.item_id),
            kind=ItemKind.COAT,
            school_id=pupil.school_id,
            school_name=pupil.school.name,
        )
        try:
            sizes[pupil.pk] = check_size(name=item.name, sizes=item.sizes, value=coat.size)
        except SupportError as exc:
            raise SupportError(f"{pupil.known_as} {pupil.surname}: {exc.message}", field="size") from None
    policy = Policy.current()
    season = coat_season_for(today or timezone.localdate(), policy)
    counts: dict[int, int] = {}
    for pupil_id in (
        SupportRequest.objects.filter(pupil_id__in=[p.pk for p in pupils], kind=ItemKind.COAT, period=season)
        .exclude(status=Status.REJECTED)
        .values_list("pupil_id", flat=True)
    ):
        counts[pupil_id] = counts.get(pupil_id, 0) + 1
    requests = [
        SupportRequest(
            pupil=pupil,
            school=pupil.school,
            kind=ItemKind.COAT,
            item=items[pupil_coats[pupil.pk].item_id],
            size=sizes[pupil.pk],
            reason=reason,
            urgency=SupportRequest.Urgency.ROUTINE,
            period=season,
            status=Status.REQUESTED,
            requested_by=actor,
            cost_pence=items[pupil_coats[pupil.pk].item_id].unit_cost_pence,
        )
        for pupil in pupils
        if not counts.get(pupil.pk)
    ]
    created = SupportRequest.objects.bulk_create(requests, batch_size=500)
    audit_record_many(
        [
            audit_event(
                actor=actor,
                action="support_request.created",
                subject=request,
                after={**_snapshot(request), "winter_drive": True},
                note=reason,
            )
            for request in created
        ]
    )
    _route_drive(created, actor=actor)
    return created


def _route_drive(created: list[SupportRequest], *, actor: AbstractBaseUser) -> None:
    """Route a winter drive's new requests by their cost, as ``_route`` does one at a time, in bulk."""
    funds: dict[int, Fund] = {}
    by_fund: dict[int, list[SupportRequest]] = {}
    to_finance: list[tuple[SupportRequest, str]] = []
    policy = Policy.current()
    threshold_note = _over_threshold(policy)
    for request in created:
        if not request.cost_pence:
            continue  # a lead records why it costs nothing, then approves it
        if request.school_id not in funds:
            funds[request.school_id] = fund_for_school(request.school)
        fund = funds[request.school_id]
        if approvals_needed(request.cost_pence, policy) == 0:
            by_fund.setdefault(fund.pk, []).append(request)
        else:
            to_finance.append((request, threshold_note))
    approved: list[SupportRequest] = []
    fund_objects = {fund.pk: fund for fund in funds.values()}
    for fund_pk, within in by_fund.items():
        try:
            with transaction.atomic():
                fund_spend_commit_many(
                    fund=fund_objects[fund_pk],
                    items=[
                        SpendItem(source=r, amount_pence=r.cost_pence, category=r.kind, school=r.school)
                        for r in within
                    ],
                    actor=actor,
                )
        except SupportError as exc:
            if exc.code != "insufficient_funds":
                raise
            to_finance += [(request, FUND_SHORT) for request in within]
        else:
            approved += within
    now = timezone.now()
    # The requests were made in this transaction: the table's "route" move, for all of them at once.
    route = REQUEST_FLOW["route"]
    SupportRequest.objects.filter(pk__in=[r.pk for r in approved], status__in=route.sources).update(
        status=Status.APPROVED, decided_at=now, decision_reason=AUTO_APPROVED, updated_at=now
    )
    SupportRequest.objects.filter(pk__in=[r.pk for r, _ in to_finance], status__in=route.sources).update(
        status=Status.AWAITING_FINANCE, updated_at=now
    )
    for request in approved:
        request.status, request.decided_at, request.decision_reason = Status.APPROVED, now, AUTO_APPROVED
    for request, _ in to_finance:
        request.status = Status.AWAITING_FINANCE
    audit_record_many(
        [
            audit_event(
                actor=actor,
                action="support_request.approved",
                subject=request,
                before={"status": Status.REQUESTED},
                after={"status": Status.APPROVED, "cost_pence": request.cost_pence, "automatic": True},
                note=AUTO_APPROVED,
            )
            for request in approved
        ]
        + [
            audit_event(
                actor=actor,
                action="support_request.sent_to_finance",
                subject=request,
                before={"status": Status.REQUESTED},
                after={"status": Status.AWAITING_FINANCE},
                note=note,
            )
            for request, note in to_finance
        ]
    )
    for request, why_finance in to_finance:
        _open_finance_review(request, fund=funds[request.school_id], reason=why_finance, actor=actor)
