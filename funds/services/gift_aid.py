"""Gift Aid: donors' declarations, claims from HMRC and the Gift Aid HMRC pays into the funds.

- A **declaration** (``gift_aid_declaration_record``) names the donor as HMRC needs (title, first name,
  last name, house name or number, home address, postcode), is dated, and covers gifts in the four years
  before that date (``covers_past``), on it, and after it (``covers_future``) until it is cancelled
  (``gift_aid_declaration_cancel``: gifts from the cancellation day on are not covered; gifts already
  claimed under it stay claimed, so it cannot be cancelled from before one of them).
- A **claim** (``gift_aid_claim_prepare``) takes the claimable donations (``funds.selectors.gift_aid``)
  and holds each one once: the donations' rows are locked in primary-key order, then their donors'
  declarations (so a cancellation cannot slip between the read and the commit), the choice is read
  again after the lock, and a partial unique index on the claim's rows refuses a donation held twice.
  ``prepared → submitted`` (HMRC's reference) ``→ paid``: the Gift Aid comes into each fund whose
  donations were claimed, as income dated the day HMRC paid. A prepared claim may be withdrawn,
  which frees its donations.

Only finance records and claims (a trust admin holds every role). Every change is audited.
"""

import datetime
import re

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from funds.models import Donation, Fund, GiftAidClaim, GiftAidClaimItem, GiftAidDeclaration
from funds.selectors.gift_aid import (
    SCHEDULE_MAX_ROWS,
    claim_fund_totals,
    claimable_donations,
    gift_aid_on,
    overclaimed_items,
    overclaimed_to_give_back,
)
from funds.services.ledger import SourceFacts, fund_income_record, register_ledger_source
from funds.transitions import GIFT_AID_CLAIM_FLOW
from support.audit import audit_record
from support.bounds import DATE_MIN
from support.errors import ConflictError, SupportError
from support.models import Role
from support.scopes import scope_for

PAST_YEARS = 4
# HMRC's schedule takes letters, spaces, hyphens, apostrophes and full stops in names.
_NAME = re.compile(r"^[^\W\d_](?:[^\W\d_]|[ '.\-])*$")
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")


def _require_finance(actor: AbstractBaseUser, doing: str) -> None:
    if not scope_for(actor).has_role(Role.FINANCE):
        raise SupportError(f"Only finance can {doing}.", code="forbidden")


def _today(today: datetime.date | None) -> datetime.date:
    return today or timezone.localdate()


def years_before(day: datetime.date, years: int) -> datetime.date:
    """``day`` ``years`` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def normalise_postcode(text: str) -> str:
    """A UK postcode as HMRC's schedule wants it: capitals, one space before the last three characters.
    Refuses anything else (a foreign address is written "X" on HMRC's form: not taken here)."""
    compact = re.sub(r"\s+", "", text or "").upper()
    match = _POSTCODE.match(compact)
    if not match:
        raise SupportError("Enter a UK postcode, like RV1 2AB.", field="postcode", code="invalid")
    return f"{match.group(1)} {match.group(2)}"


def _name(value: str, *, field: str, label: str, limit: int, required: bool = True) -> str:
    value = " ".join((value or "").split())
    if not value:
        if required:
            raise SupportError(f"Enter the donor's {label}.", field=field, code="required")
        return ""
    if len(value) > limit:
        raise SupportError(f"The {label} must be {limit} characters or fewer.", field=field, code="invalid")
    if not _NAME.match(value):
        raise SupportError(
            f"The {label} can only have letters, spaces, hyphens, apostrophes and full stops.",
            field=field,
            code="invalid",
        )
    return value


def declaration_span(
    declared_on: datetime.date, *, covers_past: bool, covers_future: bool
) -> tuple[datetime.date, datetime.date | None]:
    """The first and last day a declaration covers (None: no end until it is cancelled)."""
    start = years_before(declared_on, PAST_YEARS) if covers_past else declared_on
    return start, None if covers_future else declared_on


def _declaration_facts(declaration: GiftAidDeclaration) -> dict:
    # The audit log is read by trust admins; it keeps what was declared and when, not the home address.
    return {
        "donor": declaration.donor,
        "declared_on": declaration.declared_on,
        "covers_past": declaration.covers_past,
        "covers_future": declaration.covers_future,
    }


@transaction.atomic
def gift_aid_declaration_record(
    *,
    donor: str,
    title: str = "",
    first_name: str,
    last_name: str,
    house: str,
    address: str,
    postcode: str,
    declared_on: datetime.date,
    covers_past: bool,
    covers_future: bool,
    actor: AbstractBaseUser,
    today: datetime.date | None = None,
) -> GiftAidDeclaration:
    """Finance records a donor's Gift Aid declaration, as the donor made it (on paper, online or by
    phone, with the confirmation HMRC requires sent). ``donor`` is the name their donations are
    recorded under; the declaration covers those gifts in its span."""
    _require_finance(actor, "record Gift Aid declarations")
    donor = (donor or "").strip()  # as fund_donation_record keeps it, so the two names match
    if not donor:
        raise SupportError("Say which donor made the declaration.", field="donor", code="required")
    if len(donor) > 200:
        raise SupportError("The donor's name must be 200 characters or fewer.", field="donor", code="invalid")
    title = _name(title, field="title", label="title", limit=4, required=False)
    first_name = _name(first_name, field="first_name", label="first name or initial", limit=35)
    last_name = _name(last_name, field="last_name", label="last name", limit=35)
    house = " ".join((house or "").split())
    if not house:
        raise SupportError("Enter the house name or number.", field="house", code="required")
    if len(house) > 40 or house.startswith(("=", "+", "-", "@")):
        raise SupportError(
            "Enter the house name or number (40 characters or fewer).", field="house", code="invalid"
        )
    address = (address or "").strip()
    if not address:
        raise SupportError("Enter the donor's home address.", field="address", code="required")
    if len(address) > 500:
        raise SupportError("The address must be 500 characters or fewer.", field="address", code="invalid")
    postcode = normalise_postcode(postcode)
    today = _today(today)
    if not isinstance(declared_on, datetime.date):
        raise SupportError("Enter the date of the declaration.", field="declared_on", code="required")
    if declared_on > today:
        raise SupportError(
            "The declaration's date must be today or in the past.", field="declared_on", code="future_date"
        )
    if declared_on < DATE_MIN:
        raise SupportError("Enter a later date.", field="declared_on", code="invalid")
    covers_from, covers_to = declaration_span(
        declared_on, covers_past=bool(covers_past), covers_future=bool(covers_future)
    )
    declaration = GiftAidDeclaration.objects.create(
        donor=donor,
        title=title,
        first_name=first_name,
        last_name=last_name,
        house=house,
        address=address,
        postcode=postcode,
        declared_on=declared_on,
        covers_past=bool(covers_past),
        covers_future=bool(covers_future),
        covers_from=covers_from,
        covers_to=covers_to,
        recorded_by=actor,
    )
    audit_record(
        actor=actor,
        action="gift_aid.declaration_recorded",
        subject=declaration,
        after=_declaration_facts(declaration),
    )
    return declaration


@transaction.atomic
def gift_aid_declaration_cancel(
    *,
    declaration: GiftAidDeclaration,
    cancelled_on: datetime.date,
    reason: str = "",
    actor: AbstractBaseUser,
) -> GiftAidDeclaration:
    """The donor cancelled: gifts received on or after ``cancelled_on`` are no longer covered. A
    cancellation cannot reach back before a gift already claimed under the declaration."""
    _require_finance(actor, "cancel Gift Aid declarations")
    declaration = GiftAidDeclaration.objects.select_for_update().get(pk=declaration.pk)
    if declaration.cancelled_on is not None:
        raise ConflictError("This declaration has already been cancelled.", code="already_cancelled")
    if not isinstance(cancelled_on, datetime.date):
        raise SupportError(
            "Enter the date the cancellation takes effect.", field="cancelled_on", code="required"
        )
    if cancelled_on < declaration.declared_on:
        raise SupportError(
            "A cancellation cannot take effect before the declaration was made.", field="cancelled_on"
        )
    last_claimed = (
        GiftAidClaimItem.objects.filter(declaration=declaration, released=False)
        .order_by("-donation__received_on")
        .values_list("donation__received_on", flat=True)
        .first()
    )
    if last_claimed is not None and cancelled_on <= last_claimed:
        raise ConflictError(
            f"Gift Aid has been claimed under this declaration on a gift of {last_claimed:%-d %B %Y}: "
            "the cancellation must take effect after it.",
            field="cancelled_on",
            code="claimed_after",
        )
    declaration.cancelled_on = cancelled_on
    declaration.cancel_reason = (reason or "").strip()[:500]
    declaration.cancelled_by = actor
    declaration.save(update_fields=["cancelled_on", "cancel_reason", "cancelled_by", "updated_at"])
    audit_record(
        actor=actor,
        action="gift_aid.declaration_cancelled",
        subject=declaration,
        before={"cancelled_on": None},
        after={"cancelled_on": cancelled_on},
        note=declaration.cancel_reason,
    )
    return declaration


@transaction.atomic
def gift_aid_claim_prepare(
    *,
    actor: AbstractBaseUser,
    donation_ids: list[int] | None = None,
    today: datetime.date | None = None,
) -> GiftAidClaim:
    """A new claim of the claimable donations (the oldest ``SCHEDULE_MAX_ROWS``), or of exactly
    ``donation_ids`` (what the check page showed): refused, changing nothing, when any of them is no
    longer claimable (another claim took it meanwhile, a declaration was cancelled, an entry reversed)."""
    _require_finance(actor, "claim Gift Aid")
    today = _today(today)
    wanted = claimable_donations(today=today)
    if donation_ids is not None:
        donation_ids = sorted({int(pk) for pk in donation_ids})
        if not donation_ids:
            raise SupportError("Choose the donations to claim on.", code="required")
        if len(donation_ids) > SCHEDULE_MAX_ROWS:
            raise SupportError(f"A claim holds at most {SCHEDULE_MAX_ROWS:,} donations.", code="too_many")
        candidates = donation_ids
    else:
        candidates = list(wanted.values_list("pk", flat=True)[:SCHEDULE_MAX_ROWS])
        if not candidates:
            raise SupportError("No donations are waiting for a Gift Aid claim.", code="nothing_to_claim")
    # Lock the donations in primary-key order (a second claim waits here), then read the choice again:
    # each statement sees what the claims before it committed.
    list(Donation.objects.select_for_update().filter(pk__in=candidates).order_by("pk").values_list("pk"))
    # And their donors' declarations, as a cancellation does first: a cancellation racing this claim either
    # commits before the read below (its gifts drop out) or waits and then sees them claimed (refused).
    donors = Donation.objects.filter(pk__in=candidates).values("donor")
    list(
        GiftAidDeclaration.objects.select_for_update()
        .filter(donor__in=donors)
        .order_by("pk")
        .values_list("pk")
    )
    rows = list(wanted.filter(pk__in=candidates).values_list("pk", "amount_pence", "declaration_id"))
    if len(rows) != len(candidates):
        if donation_ids is None and rows:
            pass  # the whole list was asked for: claim what is still claimable
        else:
            raise ConflictError(
                f"{len(candidates) - len(rows)} of these donations can no longer be claimed (another claim "
                "took them, or their declaration or entry changed). Look at the claimable donations again.",
                code="no_longer_claimable",
            )
    total = sum(amount for _pk, amount, _d in rows)
    claim = GiftAidClaim.objects.create(
        prepared_on=today,
        prepared_by=actor,
        donations_pence=total,
        gift_aid_pence=sum(gift_aid_on(amount) for _pk, amount, _d in rows),
    )
    adjusted = _give_back_overclaimed(claim, [pk for pk, _a, _d in rows])
    try:
        with transaction.atomic():
            GiftAidClaimItem.objects.bulk_create(
                GiftAidClaimItem(
                    claim=claim,
                    donation_id=pk,
                    declaration_id=declaration_id,
                    amount_pence=amount,
                    gift_aid_pence=gift_aid_on(amount),
                )
                for pk, amount, declaration_id in rows
            )
    except IntegrityError:
        # The index caught a donation another claim holds (a path round the lock): claim nothing.
        raise ConflictError(
            "Another claim holds some of these donations. Look at the claimable donations again.",
            code="no_longer_claimable",
        ) from None
    audit_record(
        actor=actor,
        action="gift_aid.claim_prepared",
        subject=claim,
        after={
            "donations": [pk for pk, _a, _d in rows],
            "donations_pence": claim.donations_pence,
            "gift_aid_pence": claim.gift_aid_pence,
            "adjustment_pence": claim.adjustment_pence,
            "adjusts": adjusted,
        },
    )
    return claim


def _give_back_overclaimed(claim: GiftAidClaim, donation_ids: list[int]) -> list[int]:
    """Give back, on ``claim``, the Gift Aid overclaimed on earlier claims' gifts since reversed (HMRC's
    "Adjustment for Gift Aid overclaimed"; what ``overclaimed_to_give_back`` chooses). The rows are locked
    in primary-key order and chosen again after the lock, so two claims prepared at once never give the
    same Gift Aid back twice. Returns the rows' ids."""
    list(overclaimed_items().select_for_update(of=("self",)).values_list("pk"))
    taken, back = overclaimed_to_give_back(donation_ids)
    if taken:
        free = GiftAidClaimItem.objects.filter(pk__in=taken, adjusted_in__isnull=True)
        moved = free.update(adjusted_in=claim)
        if moved != len(taken):  # another claim gave some back meanwhile (a path round the lock)
            raise ConflictError(
                "Another claim is giving back the same overclaimed Gift Aid. Prepare the claim again.",
                code="no_longer_claimable",
            )
        claim.adjustment_pence = back
        claim.save(update_fields=["adjustment_pence", "updated_at"])
    return taken


@transaction.atomic
def gift_aid_claim_submit(
    *,
    claim: GiftAidClaim,
    hmrc_reference: str,
    submitted_on: datetime.date | None = None,
    actor: AbstractBaseUser,
    today: datetime.date | None = None,
) -> GiftAidClaim:
    """Finance has sent the claim's schedule through HMRC's Charities Online: record its reference."""
    _require_finance(actor, "submit Gift Aid claims")
    today = _today(today)
    hmrc_reference = " ".join((hmrc_reference or "").split())
    if not hmrc_reference:
        raise SupportError(
            "Enter the reference HMRC gave the claim.", field="hmrc_reference", code="required"
        )
    if len(hmrc_reference) > 40:
        raise SupportError("HMRC's reference is 40 characters or fewer.", field="hmrc_reference")
    submitted_on = submitted_on or today
    if submitted_on > today or submitted_on < claim.prepared_on:
        raise SupportError(
            "The date submitted must be between the day the claim was prepared and today.",
            field="submitted_on",
        )
    before = GIFT_AID_CLAIM_FLOW.claim(
        claim, "submit", submitted_on=submitted_on, submitted_by=actor, hmrc_reference=hmrc_reference
    )
    audit_record(
        actor=actor,
        action="gift_aid.claim_submitted",
        subject=claim,
        before={"status": before},
        after={"status": claim.status, "submitted_on": submitted_on, "hmrc_reference": hmrc_reference},
    )
    return claim


@transaction.atomic
def gift_aid_claim_paid(
    *,
    claim: GiftAidClaim,
    paid_on: datetime.date,
    actor: AbstractBaseUser,
    today: datetime.date | None = None,
) -> GiftAidClaim:
    """HMRC paid the claim: the Gift Aid on each fund's donations comes into that fund as income dated
    ``paid_on`` (the day the money reached the trust's account)."""
    _require_finance(actor, "record Gift Aid payments")
    today = _today(today)
    if not isinstance(paid_on, datetime.date):
        raise SupportError("Enter the date HMRC paid.", field="paid_on", code="required")
    if paid_on > today:
        raise SupportError(
            "The date HMRC paid must be today or in the past.", field="paid_on", code="future_date"
        )
    if claim.submitted_on and paid_on < claim.submitted_on:
        raise SupportError("HMRC cannot have paid before the claim was submitted.", field="paid_on")
    before = GIFT_AID_CLAIM_FLOW.claim(claim, "pay", paid_on=paid_on, paid_by=actor)
    note = f"Gift Aid claim {claim.pk}" + (f", HMRC {claim.hmrc_reference}" if claim.hmrc_reference else "")
    entries = []
    for fund_id, gift_aid_pence in claim_fund_totals(claim):
        if gift_aid_pence <= 0:
            continue
        entries.append(
            fund_income_record(
                fund=Fund.objects.get(pk=fund_id),
                source=claim,
                amount_pence=gift_aid_pence,
                category="gift_aid",
                occurred_on=paid_on,
                actor=actor,
                note=note,
                today=today,
            ).pk
        )
    audit_record(
        actor=actor,
        action="gift_aid.claim_paid",
        subject=claim,
        before={"status": before},
        after={"status": claim.status, "paid_on": paid_on, "entries": entries},
    )
    return claim


@transaction.atomic
def gift_aid_claim_withdraw(*, claim: GiftAidClaim, reason: str, actor: AbstractBaseUser) -> GiftAidClaim:
    """A prepared claim is not going to HMRC: its donations are free for another claim."""
    _require_finance(actor, "withdraw Gift Aid claims")
    reason = (reason or "").strip()
    if not reason:
        raise SupportError("Give a reason for withdrawing the claim.", field="reason", code="required")
    gave_back = claim.adjustment_pence
    # The overclaimed Gift Aid it was to give back waits for the next claim.
    before = GIFT_AID_CLAIM_FLOW.claim(claim, "withdraw", withdrawn_reason=reason[:500], adjustment_pence=0)
    released = claim.items.filter(released=False).update(released=True)
    GiftAidClaimItem.objects.filter(adjusted_in=claim).update(adjusted_in=None)
    audit_record(
        actor=actor,
        action="gift_aid.claim_withdrawn",
        subject=claim,
        before={"status": before},
        after={"status": claim.status, "released": released, "adjustment_freed_pence": gave_back},
        note=reason,
    )
    return claim


def _describe_claims(ids: list[str]) -> dict[str, SourceFacts]:
    """A claim behind a Gift Aid income entry, as finance reads it on the ledger: no donor's address."""
    facts = {}
    for claim in GiftAidClaim.objects.filter(pk__in=[int(i) for i in ids if i.isdigit()]):
        facts[str(claim.pk)] = SourceFacts(
            title=f"Gift Aid claim {claim.pk}",
            facts=[
                ("Status", claim.get_status_display()),
                ("Prepared", f"{claim.prepared_on:%-d %B %Y}"),
                ("HMRC reference", claim.hmrc_reference or "–"),
                ("Paid", f"{claim.paid_on:%-d %B %Y}" if claim.paid_on else "–"),
            ],
        )
    return facts


register_ledger_source(GiftAidClaim, _describe_claims)
