"""Gift Aid reads: which declaration covers a gift, which donations a claim may take, a claim's schedule.

A donation is **claimable** when Gift Aid was asked for on it (``Donation.gift_aid``), a declaration
from its donor (the same name) covers the day it was received, its income was not reversed, no claim
that is not withdrawn holds it, and HMRC's time limit has not passed: a claim must be made within four
years of the end of the financial year (1 September to 31 August) the gift was received in.

A gift reversed after its claim went to HMRC (submitted or paid) was **overclaimed**: its Gift Aid is
given back on the next claim, as HMRC's "Adjustment for Gift Aid overclaimed" (``overclaimed_items``).

HMRC's schedule (Charities Online) has one row per donation: title, first name, last name, house name or
number, postcode, aggregated donations, sponsored event, donation date (DD/MM/YY) and amount (pounds and
pence, no £ sign); at most ``SCHEDULE_MAX_ROWS`` rows.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Exists, F, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Cast, Coalesce

from funds.models import Donation, GiftAidClaim, GiftAidClaimItem, GiftAidDeclaration, LedgerEntry
from funds.selectors import donation_is_reversed, donations_visible_to
from support.dates import academic_year_bounds, academic_year_start_for
from support.money import pence_to_pounds

# HMRC's online schedule takes up to 1,000 donations; a claim holds no more.
SCHEDULE_MAX_ROWS = 1000
# A claim must reach HMRC within four years of the end of the financial year of the gift.
CLAIM_YEARS = 4
SCHEDULE_HEADER = (
    "Title",
    "First name or initial",
    "Last name",
    "House name or number",
    "Postcode",
    "Aggregated donations",
    "Sponsored event",
    "Donation date",
    "Amount",
)


def gift_aid_on(amount_pence: int) -> int:
    """Basic-rate Gift Aid on a gift: 25p for every £1, rounded down to the penny."""
    return amount_pence // 4


def earliest_claimable(today: datetime.date) -> datetime.date:
    """The first day of the oldest financial year whose gifts may still be claimed ``today``."""
    start, _end = academic_year_bounds(academic_year_start_for(today) - CLAIM_YEARS)
    return start


def covering_declarations(donor, day) -> QuerySet[GiftAidDeclaration]:
    """Declarations from ``donor`` that cover a gift received on ``day`` (values or ``OuterRef``s), oldest
    first. The same rule as ``GiftAidDeclaration.covers``."""
    return (
        GiftAidDeclaration.objects.filter(donor=donor, anonymised_at__isnull=True, covers_from__lte=day)
        .filter(Q(covers_to__isnull=True) | Q(covers_to__gte=day))
        .filter(Q(cancelled_on__isnull=True) | Q(cancelled_on__gt=day))
        .order_by("declared_on", "pk")
    )


def _held_by_a_claim() -> Exists:
    return Exists(GiftAidClaimItem.objects.filter(donation=OuterRef("pk"), released=False))


def with_gift_aid_state(donations: QuerySet[Donation]) -> QuerySet[Donation]:
    """``donations`` with ``declaration_id`` (the oldest declaration covering each, or None) and
    ``gift_aid_claimed`` (a claim holds it); ``gift_aid_state`` reads them."""
    covering = covering_declarations(OuterRef("donor"), OuterRef("received_on"))
    return donations.annotate(
        declaration_id=Subquery(covering.values("pk")[:1]), gift_aid_claimed=_held_by_a_claim()
    )


GIFT_AID_STATES = {
    "not_asked": "No",
    "no_declaration": "No declaration covers it",
    "claimable": "Declared: to claim",
    "claimed": "Claimed",
}


def gift_aid_state(donation: Donation) -> str:
    """One of ``GIFT_AID_STATES`` for a donation read through ``with_gift_aid_state``."""
    if not donation.gift_aid:
        return "not_asked"
    if getattr(donation, "gift_aid_claimed", False):
        return "claimed"
    return "claimable" if getattr(donation, "declaration_id", None) else "no_declaration"


def claimable_donations(*, today: datetime.date) -> QuerySet[Donation]:
    """Every donation a new claim may take (see the module's docstring), oldest first, each with
    ``declaration_id``. Unscoped: the services' own read; doors use ``claimable_donations_for``."""
    asked = Donation.objects.filter(gift_aid=True, received_on__gte=earliest_claimable(today))
    return (
        with_gift_aid_state(asked)
        .filter(declaration_id__isnull=False, gift_aid_claimed=False)
        .exclude(donation_is_reversed())
        .select_related("fund")
        .order_by("received_on", "pk")
    )


def claimable_donations_for(user, *, today: datetime.date) -> QuerySet[Donation]:
    return claimable_donations(today=today).filter(pk__in=donations_visible_to(user).values("pk"))


@dataclass(frozen=True)
class ClaimableTotals:
    count: int
    donations_pence: int
    gift_aid_pence: int


def claimable_totals(donations: QuerySet[Donation]) -> ClaimableTotals:
    """How many, how much given and how much Gift Aid (per donation, rounded down), in one query."""
    rows = list(donations.values_list("amount_pence", flat=True)[:SCHEDULE_MAX_ROWS])
    return ClaimableTotals(len(rows), sum(rows), sum(gift_aid_on(p) for p in rows))


def claim_items(claim: GiftAidClaim) -> QuerySet[GiftAidClaimItem]:
    """A claim's rows, in the schedule's order (the day each gift was received)."""
    return (
        claim.items.select_related("donation", "donation__fund", "declaration")
        .order_by("donation__received_on", "donation_id")
        .all()
    )


def _claims_gift_aid_income_reversed() -> Exists:
    """True for a claim's row whose fund's Gift Aid income from that claim finance has reversed (HMRC took
    the payment back, or it was recorded in error): that Gift Aid is already out of the fund, and giving
    back a reversed gift's share of it on a later claim would take it out twice."""
    return Exists(
        LedgerEntry.objects.filter(
            kind=LedgerEntry.Kind.REVERSAL,
            reverses__kind=LedgerEntry.Kind.INCOME,
            reverses__category="gift_aid",
            reverses__source_type=ContentType.objects.get_for_model(GiftAidClaim),
            reverses__source_id=Cast(OuterRef("claim_id"), output_field=CharField()),
            reverses__fund_id=OuterRef("donation__fund_id"),
        )
    )


def overclaimed_items() -> QuerySet[GiftAidClaimItem]:
    """Rows of claims sent to HMRC (submitted or paid) whose gift has since been reversed and whose Gift
    Aid no later claim has given back yet, nor the reversal of the claim's Gift Aid income for the gift's
    fund: oldest first."""
    return (
        GiftAidClaimItem.objects.filter(
            released=False,
            adjusted_in__isnull=True,
            claim__status__in=(GiftAidClaim.Status.SUBMITTED, GiftAidClaim.Status.PAID),
        )
        .filter(donation_is_reversed("donation_id"))
        .exclude(_claims_gift_aid_income_reversed())
        .order_by("pk")
    )


def overclaimed_to_give_back(donation_ids: list[int]) -> tuple[list[int], int]:
    """What a claim of ``donation_ids`` gives back of the Gift Aid overclaimed (``overclaimed_items``):
    oldest first, each fund's own only as far as the claim's Gift Aid for that fund covers it (so no
    fund's income from the claim goes below nothing; the rest waits for a later claim). Returns the
    rows' ids and their Gift Aid. The check page previews it; ``gift_aid_claim_prepare`` takes it."""
    room: dict[int, int] = defaultdict(int)
    claimed = Donation.objects.filter(pk__in=donation_ids).values_list("fund_id", "amount_pence")
    for fund_id, amount in claimed:
        room[fund_id] += gift_aid_on(amount)
    taken, back = [], 0
    waiting = overclaimed_items().values_list("pk", "donation__fund_id", "gift_aid_pence")
    for pk, fund_id, gift_aid_pence in waiting:
        if gift_aid_pence <= room[fund_id]:
            room[fund_id] -= gift_aid_pence
            taken.append(pk)
            back += gift_aid_pence
    return taken, back


def overclaimed_pence() -> int:
    """Gift Aid overclaimed and waiting for the next claim to give it back."""
    return int(overclaimed_items().aggregate(total=Coalesce(Sum("gift_aid_pence"), 0))["total"])


def claim_earliest_donation(claim: GiftAidClaim) -> datetime.date | None:
    """The schedule's "Earliest donation date in the period": the first gift the claim holds."""
    return claim.items.aggregate(day=Min("donation__received_on"))["day"]


def claim_adjustments(claim: GiftAidClaim) -> QuerySet[GiftAidClaimItem]:
    """The earlier claims' rows whose overclaimed Gift Aid this claim gives back."""
    return claim.adjustments.select_related("donation", "donation__fund", "claim").order_by("pk")


def _per_fund(items: QuerySet[GiftAidClaimItem]) -> dict[int, int]:
    rows = items.values(fund_id=F("donation__fund_id")).annotate(total=Coalesce(Sum("gift_aid_pence"), 0))
    return {row["fund_id"]: int(row["total"]) for row in rows.order_by("fund_id")}


def claim_fund_totals(claim: GiftAidClaim) -> list[tuple[int, int]]:
    """(fund id, Gift Aid pence) per fund: what each fund receives when HMRC pays the claim, its rows' Gift
    Aid less what it gives back for that fund's reversed gifts (``gift_aid_claim_prepare`` keeps each
    fund's difference at zero or more)."""
    given = _per_fund(claim.items.all())
    back = _per_fund(claim.adjustments.all())
    return [(fund_id, total - back.get(fund_id, 0)) for fund_id, total in sorted(given.items())]


def schedule_date(day: datetime.date) -> str:
    """HMRC's schedule date: DD/MM/YY."""
    return day.strftime("%d/%m/%y")


def schedule_amount(pence: int) -> Decimal:
    """HMRC's schedule amount: pounds and pence as a number, no £ sign."""
    return pence_to_pounds(pence)


def claim_schedule_rows(claim: GiftAidClaim) -> Iterator[list]:
    """The claim's schedule rows, in ``SCHEDULE_HEADER``'s order (dates as DD/MM/YY text)."""
    for item in claim_items(claim):
        declaration, donation = item.declaration, item.donation
        yield [
            declaration.title,
            declaration.first_name,
            declaration.last_name,
            declaration.house,
            declaration.postcode,
            "",  # every gift is its own row: none aggregated
            "Yes" if donation.sponsored else "",
            schedule_date(donation.received_on),
            schedule_amount(item.amount_pence),
        ]
