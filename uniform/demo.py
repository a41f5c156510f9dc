"""Uniform items, welcome packs and some stock for every demo school; a year and more of coats and shoes
for pupils in need across the trust, and today's requests at the first demo lead's schools, paid from the
standby fund. Idempotent like the rest of the demo.

The history's coats and shoes are handed over and paid for with the dates it happened, mostly in the
winter: with the vouchers they take the standby fund down to its last few hundred pounds in the autumn
term, so today's requests wait for finance and finance turns one down.

No gifts this year: a pastoral lead generates the intake's packs from the Uniform page, as they would
for real; their cost is committed against the trust's welcome uniform budget (a fund of its own). Last
year's intake (today's Year 1 and Year 8) had theirs handed over in September and October, so the impact
report has welcome uniform coverage to show beside this year's (they were paid from before the welcome
budget began, so they carry no ledger entries).
"""

import datetime
import random
from bisect import bisect_left

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from funds.models import Fund
from support.models import Phase, Pupil, School
from uniform.models import (
    Gift,
    ItemKind,
    StockLevel,
    StockMovement,
    SupportRequest,
    UniformItem,
    WelcomePack,
    WelcomePackItem,
)

# Sizes in their one spelling (uniform.sizes): children's by age, adults' by letter, shoes Child/Adult.
CHILD = ["3-4", "5-6", "7-8", "9-10"]
TEEN = ["11-12", "13-14", "S", "M", "L"]
# (name, sizes, unit cost in pence, supplier, track stock, how many in the intake pack)
PRIMARY = [
    ("Sweatshirt", CHILD, 9_50, "Smart Kids Schoolwear", True, 2),
    ("Polo shirt", CHILD, 4_25, "Smart Kids Schoolwear", True, 3),
    ("PE kit", CHILD, 11_00, "Active Schools Ltd", True, 1),
    ("Book bag", [], 4_50, "Riverton Print & Bag", False, 1),
]
SECONDARY = [
    ("Blazer", TEEN, 28_00, "Castle Schoolwear", True, 1),
    ("Tie", [], 5_50, "Castle Schoolwear", True, 1),
    ("Jumper", TEEN, 14_00, "Castle Schoolwear", True, 1),
    ("PE kit", TEEN, 16_50, "Active Schools Ltd", True, 1),
]
INTAKE = {Phase.PRIMARY: (0, PRIMARY), Phase.SECONDARY: (7, SECONDARY)}
# Coats and shoes every school can ask for (not in the welcome pack): (kind, name, sizes, unit cost).
OUTDOOR = {
    Phase.PRIMARY: [
        (ItemKind.COAT, "Winter coat", CHILD, 22_00),
        (
            ItemKind.SHOES,
            "School shoes",
            [f"Child {n}" for n in (10, 11, 12, 13)] + ["Adult 1", "Adult 2"],
            24_00,
        ),
    ],
    Phase.SECONDARY: [
        (ItemKind.COAT, "Winter coat", TEEN, 32_00),
        (ItemKind.SHOES, "School shoes", [f"Adult {n}" for n in range(3, 11)], 35_00),
    ],
}
WELCOME_FUND = "Welcome uniform budget"
WELCOME_BUDGET_PENCE = 70_000_00  # about 1,250 packs at £47 (primary) or £64 (secondary)


@transaction.atomic
def uniform_demo_seed() -> list[str]:
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.filter(username="admin").first()
    if admin is None:
        return []
    welcome_fund = _welcome_fund()
    seeded = 0
    for school in School.objects.filter(phase__in=INTAKE).order_by("pk"):
        if UniformItem.objects.filter(school=school, kind=ItemKind.UNIFORM).exists():
            continue
        year_group, items = INTAKE[school.phase]
        pack = WelcomePack.objects.create(school=school, year_group=year_group, fund=welcome_fund)
        for n, (name, sizes, cost, supplier, track, quantity) in enumerate(items):
            item = UniformItem.objects.create(
                school=school,
                name=name,
                sizes=sizes,
                unit_cost_pence=cost,
                supplier=supplier,
                track_stock=track,
            )
            WelcomePackItem.objects.create(pack=pack, item=item, quantity=quantity)
            if not track:
                continue
            for i, size in enumerate(sizes or [""]):
                count = 5 + (n * 7 + i * 3 + school.pk) % 20
                StockLevel.objects.create(item=item, size=size, quantity=count)
                StockMovement.objects.create(
                    item=item,
                    size=size,
                    change=count,
                    kind=StockMovement.Kind.RECEIPT,
                    note="Opening stock",
                    by=admin,
                )
        for kind, name, sizes, cost in OUTDOOR[school.phase]:
            UniformItem.objects.create(
                school=school,
                kind=kind,
                name=name,
                sizes=sizes,
                unit_cost_pence=cost,
                supplier="Trust supplier",
                track_stock=False,  # bought for each request, not kept in stock,
            )
        seeded += 1
    if not seeded:
        return []
    history = _requests_history(today=timezone.localdate())
    packs = _welcome_history(today=timezone.localdate())
    requests = _requests_demo_seed()
    refused = _finance_refuses_one()
    over = _branded_demo_seed()
    secondhand = _secondhand_demo_seed()
    return [
        f"Welcome uniform: items, a welcome pack and opening stock at {seeded} schools "
        f"(no gifts yet this year; {packs} of last year's intake handed over).",
        f"Coats and shoes: {history} handed over since 1 September last year.",
        f"Coats, shoes and uniform: {requests} requests at the first lead's schools today; "
        f"{SupportRequest.objects.filter(status=SupportRequest.Status.AWAITING_FINANCE).count()} wait for "
        f"finance, {refused} turned down by finance.",
        f"Branded items: required ones marked at every school; {over} over the legal limit.",
        f"Second-hand uniform: {secondhand} donated blazers taken in at the first lead's secondary; "
        "one request met from them at £0, one approved and waiting.",
    ]


def _welcome_fund() -> Fund:
    """The trust's welcome uniform budget: welcome packs are everyone's, not paid from the standby fund."""
    from django.contrib.auth import get_user_model

    from funds.services.ledger import financial_year_bounds, financial_year_for, fund_donation_record

    fund, created = Fund.objects.get_or_create(name=WELCOME_FUND)
    finance = get_user_model().objects.filter(username="finance").first()
    if created and finance is not None:
        fund_donation_record(
            fund=fund,
            donor="The trust's central budget",
            amount_pence=WELCOME_BUDGET_PENCE,
            received_on=financial_year_bounds(financial_year_for(timezone.localdate()))[0],
            gift_aid=False,
            actor=finance,
        )
    return fund


# Coats and shoes handed over a school day across the trust, by month (September first).
OUTDOOR_PER_DAY = {
    ItemKind.COAT: [0.0, 3.0, 4.0, 2.5, 1.5, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    ItemKind.SHOES: [3.0, 1.0, 0.6, 0.4, 0.6, 0.4, 0.4, 0.3, 0.4, 0.3, 0.2, 0.5],
}
RESERVE_PENCE = 700_00  # left in the standby fund for today's requests and the walk-through's vouchers
FUND_SHORT_REASON = "The standby fund has too little available, so finance decides."


def _requests_history(*, today: datetime.date) -> int:
    """Coats and shoes for pupils in need from 1 September last year to yesterday: asked for, approved
    (committed) the same day and handed over (spent) a week or two later, bulk-created in batches with
    those dates. One coat a season and one pair of shoes a year per pupil. A request the standby fund
    could not pay for without going below ``RESERVE_PENCE`` on any later day is left out (it would have
    gone to finance). The first demo lead's own in-need pupils are left for today's requests."""
    from django.contrib.auth import get_user_model

    from funds.models import LedgerEntry, SpendRequest
    from funds.services.ledger import financial_year_bounds, financial_year_for, standby_fund
    from support.demo import BATCH, at_local, explicit_timestamps, school_staff
    from support.models import Policy
    from support.scopes import scope_for
    from uniform.services.requests import period_for

    lead = get_user_model().objects.filter(username="lead_a").first()
    finance = get_user_model().objects.filter(username="finance").first()
    kept = set(scope_for(lead).school_ids) if lead else set()
    fund = standby_fund()
    policy = Policy.current()
    rng = random.Random(20261001)
    first = financial_year_bounds(financial_year_for(today) - 1)[0]
    items = {
        (item.school_id, item.kind): item
        for item in UniformItem.objects.filter(kind__in=[ItemKind.COAT, ItemKind.SHOES])
    }
    pupils = [
        (pk, school_id)
        for pk, school_id in Pupil.objects.filter(in_need=True).order_by("pk").values_list("pk", "school_id")
        if school_id not in kept and (school_id, ItemKind.COAT) in items
    ]
    days = [first + datetime.timedelta(days=n) for n in range((today - first).days + 1)]
    available = _available_by_day(fund, days)
    staff = {school_id: school_staff(school_id) for school_id in {school_id for _, school_id in pupils}}
    given: set[tuple[int, str, int]] = set()
    now = timezone.now()
    requests: list[SupportRequest] = []
    for index, day in enumerate(days[:-1]):
        if day.weekday() >= 5:
            continue
        month = (day.month - 9) % 12
        for kind, rates in OUTDOOR_PER_DAY.items():
            rate = rates[month]
            for _ in range(int(rate) + (rng.random() < rate - int(rate))):
                pupil_id, school_id = pupils[rng.randrange(len(pupils))]
                period = period_for(kind, day, policy)
                item = items[(school_id, kind)]
                if (pupil_id, kind, period) in given:
                    continue
                asked = at_local(day, rng.randint(9, 15), rng.randrange(60))
                decided, finance_says = asked, None
                lowest = min(available[index:])
                if lowest - item.unit_cost_pence < RESERVE_PENCE:
                    # The fund is short: most schools do not ask; the rest go to finance.
                    if finance is None or day + datetime.timedelta(days=2) >= today or rng.random() < 0.8:
                        continue
                    decided = asked + datetime.timedelta(days=rng.randint(1, 2))
                    affordable = lowest - item.unit_cost_pence >= RESERVE_PENCE // 2
                    if kind == ItemKind.COAT and affordable and rng.random() < 0.5:
                        finance_says = (
                            "approved",
                            "Urgent: no coat in this cold; the trustee's payment is due",
                        )
                    else:
                        finance_says = (
                            "rejected",
                            "The standby fund is short: ask the school's hardship budget",
                        )
                rejected = finance_says is not None and finance_says[0] == "rejected"
                if not rejected:
                    given.add((pupil_id, kind, period))
                    for later in range(index, len(days)):
                        available[later] -= item.unit_cost_pence
                handed = min(decided + datetime.timedelta(days=rng.randint(5, 15)), now)
                request = SupportRequest(
                    pupil_id=pupil_id,
                    school_id=school_id,
                    kind=kind,
                    item=item,
                    size=item.sizes[rng.randrange(len(item.sizes))],
                    reason="Outgrown, and the family cannot replace it"
                    if kind == ItemKind.COAT
                    else "Worn through",
                    period=period,
                    status=SupportRequest.Status.REJECTED if rejected else SupportRequest.Status.HANDED_OVER,
                    requested_by=staff[school_id],
                    requested_at=asked,
                    decided_by=finance if finance_says else staff[school_id],
                    decided_at=decided,
                    decision_reason=finance_says[1] if rejected else "",
                    handed_over_by=None if rejected else staff[school_id],
                    handed_over_at=None if rejected else handed,
                    cost_pence=item.unit_cost_pence,
                    updated_at=decided if rejected else handed,
                )
                request.finance_says = finance_says
                requests.append(request)
    source_type = ContentType.objects.get_for_model(SupportRequest)
    with explicit_timestamps(SupportRequest):
        for start in range(0, len(requests), BATCH):
            batch = SupportRequest.objects.bulk_create(requests[start : start + BATCH])
            entries, commitments = [], {}
            for request in batch:
                if request.status == SupportRequest.Status.REJECTED:
                    continue
                common = {
                    "fund": fund,
                    "amount_pence": request.cost_pence,
                    "source_type": source_type,
                    "source_id": str(request.pk),
                    "school_id": request.school_id,
                    "category": request.kind,
                }
                override = request.finance_says[1] if request.finance_says else ""
                for kind, at, note in [
                    (LedgerEntry.Kind.COMMITMENT, request.decided_at, ""),
                    (LedgerEntry.Kind.COMMITMENT_RELEASE, request.handed_over_at, "made actual"),
                    (LedgerEntry.Kind.SPEND, request.handed_over_at, ""),
                ]:
                    entries.append(
                        LedgerEntry(
                            kind=kind,
                            note=note,
                            override_reason=override if kind == LedgerEntry.Kind.COMMITMENT else "",
                            occurred_on=timezone.localdate(at),
                            created_at=at,
                            created_by=request.decided_by
                            if kind == LedgerEntry.Kind.COMMITMENT
                            else request.handed_over_by,
                            **common,
                        )
                    )
                    if kind == LedgerEntry.Kind.COMMITMENT:
                        commitments[request.pk] = entries[-1]
            LedgerEntry.objects.bulk_create(entries, batch_size=BATCH)
            SpendRequest.objects.bulk_create(
                [
                    SpendRequest(
                        fund=fund,
                        source_type=source_type,
                        source_id=str(request.pk),
                        school_id=request.school_id,
                        category=request.kind,
                        amount_pence=request.cost_pence,
                        summary=f"{request.item.name}, size {request.size}",
                        reason=f"{request.reason}. {FUND_SHORT_REASON}",
                        requested_by=request.requested_by,
                        requested_at=request.requested_at,
                        status=request.finance_says[0],
                        decided_by=finance,
                        decided_at=request.decided_at,
                        decision_note=request.finance_says[1],
                        override_reason=request.finance_says[1]
                        if request.finance_says[0] == "approved"
                        else "",
                        commitment=commitments.get(request.pk),
                    )
                    for request in batch
                    if request.finance_says
                ]
            )
    return len(requests)


def _available_by_day(fund, days: list[datetime.date]) -> list[int]:
    """The fund's available money at the end of each of ``days``, from its ledger (one grouped query)."""
    from django.db.models import Sum

    from funds.models import LedgerEntry
    from funds.selectors.positions import balance_effect, committed_effect

    rows = (
        LedgerEntry.objects.filter(fund=fund)
        .values("occurred_on")
        .annotate(balance=Sum(balance_effect()), committed=Sum(committed_effect()))
        .order_by("occurred_on")
    )
    change = [0] * len(days)
    opening = 0
    for row in rows:
        effect = row["balance"] - row["committed"]
        index = bisect_left(days, row["occurred_on"])
        if index == 0 and row["occurred_on"] < days[0]:
            opening += effect
        elif index < len(days):
            change[index] += effect
    available, running = [], opening
    for amount in change:
        running += amount
        available.append(running)
    return available


def _finance_refuses_one() -> int:
    """Finance turns down the costliest request waiting for it: the fund is short. Returns 1, or 0."""
    from django.contrib.auth import get_user_model

    from funds.models import SpendRequest
    from funds.services.approvals import spend_request_reject

    finance = get_user_model().objects.filter(username="finance").first()
    waiting = SpendRequest.objects.filter(status=SpendRequest.Status.PENDING).order_by("-amount_pence", "pk")
    if finance is None or waiting.count() < 2:
        return 0
    spend_request_reject(
        spend_request=waiting.first(),
        actor=finance,
        note="The standby fund is short until the second trustee's payment arrives: ask again then.",
    )
    return 1


def _requests_demo_seed() -> int:
    """Coat and shoe requests for pupils in need at the first demo lead's schools: most approved at once
    and their cost committed, some handed over (actual spend), and one uniform request above the
    approval threshold waiting for finance. Returns how many were made."""
    from django.contrib.auth import get_user_model

    from support.scopes import scope_for
    from uniform.services.requests import request_create, request_hand_over, request_mark_ordered

    users = get_user_model().objects.in_bulk(["lead_a"], field_name="username")
    lead = users.get("lead_a")
    if lead is None:
        return 0
    made = 0
    for school_id in sorted(scope_for(lead).school_ids):
        items = {
            item.kind: item
            for item in UniformItem.objects.filter(school_id=school_id, kind__in=["coat", "shoes"])
        }
        pupils = list(Pupil.objects.filter(school_id=school_id, in_need=True).order_by("pk")[:6])
        for n, pupil in enumerate(pupils):
            kind = ItemKind.COAT if n % 2 == 0 else ItemKind.SHOES
            item = items[kind]
            request = request_create(
                pupil=pupil,
                kind=kind,
                item=item,
                size=item.sizes[n % len(item.sizes)],
                reason="Outgrown, and the family cannot replace it this winter"
                if kind == ItemKind.COAT
                else "Shoes worn through",
                urgency="routine",
                actor=lead,
            )
            made += 1
            if n < 2 and request.status == request.Status.APPROVED:
                request = request_mark_ordered(request=request, actor=lead)
                request_hand_over(request=request, actor=lead)
    # One above the approval threshold, so finance has something in its queue.
    blazer = UniformItem.objects.filter(
        school_id__in=scope_for(lead).school_ids, kind=ItemKind.UNIFORM, name="Blazer"
    ).first()
    pupil = blazer and Pupil.objects.filter(school_id=blazer.school_id, in_need=True).order_by("-pk").first()
    if pupil is not None:
        request_create(
            pupil=pupil,
            kind=ItemKind.UNIFORM,
            item=blazer,
            quantity=4,
            size=blazer.sizes[0],
            reason="House fire: the family lost all their school uniform; blazers for the four siblings here",
            urgency="urgent",
            actor=lead,
        )
        made += 1
    return made


# Branded and required at every school: within the law (3; 4 at a secondary with a tie), except the first
# demo lead's primary, which also requires its branded polo shirt (4 of 3: the branded-items page shows it).
BRANDED = {
    Phase.PRIMARY: ["Sweatshirt", "PE kit", "Book bag"],
    Phase.SECONDARY: ["Blazer", "Tie", "PE kit"],
}
OVER_THE_LIMIT = "Polo shirt"


def _lead_schools(phase: str) -> list[School]:
    from django.contrib.auth import get_user_model

    from support.scopes import scope_for

    lead = get_user_model().objects.filter(username="lead_a").first()
    if lead is None:
        return []
    return list(School.objects.filter(pk__in=scope_for(lead).school_ids, phase=phase).order_by("pk"))


def _branded_demo_seed() -> int:
    """Mark each school's branded required items; returns how many schools are over the limit."""
    for phase, names in BRANDED.items():
        UniformItem.objects.filter(school__phase=phase, kind=ItemKind.UNIFORM, name__in=names).update(
            branded=True, required=True
        )
    UniformItem.objects.filter(kind=ItemKind.UNIFORM, name="Tie").update(is_tie=True)
    over = _lead_schools(Phase.PRIMARY)[:1]
    UniformItem.objects.filter(school__in=over, name=OVER_THE_LIMIT).update(branded=True, required=True)
    return len(over)


def _secondhand_demo_seed() -> int:
    """Donated blazers at the first demo lead's secondary school, whose Year 7 pack does not promise new:
    one in-need pupil's blazer request met from them at £0, another approved and waiting for staff to
    choose second-hand or new. Returns how many blazers were donated."""
    from django.contrib.auth import get_user_model

    from uniform.services.requests import request_create, request_mark_from_secondhand
    from uniform.services.stock import stock_donation_receive

    lead = get_user_model().objects.filter(username="lead_a").first()
    school = next(iter(_lead_schools(Phase.SECONDARY)), None)
    blazer = school and UniformItem.objects.filter(school=school, name="Blazer").first()
    if lead is None or not blazer:
        return 0
    WelcomePack.objects.filter(school=school).update(promise_new=False)
    donated = 0
    for size, condition, count in ((blazer.sizes[0], "good", 4), (blazer.sizes[1], "as_new", 2)):
        stock_donation_receive(
            item=blazer, size=size, quantity=count, condition=condition, actor=lead, note="Summer fair"
        )
        donated += count
    # In-need pupils without a request yet (the 4-blazer request above took the newest).
    asked = SupportRequest.objects.filter(school=school).values("pupil_id")
    pupils = Pupil.objects.filter(school=school, in_need=True).exclude(pk__in=asked).order_by("-pk")[:2]
    for n, pupil in enumerate(pupils):
        request = request_create(
            pupil=pupil, kind=ItemKind.UNIFORM, item=blazer, size=blazer.sizes[n], reason="Outgrown",
            urgency="routine", actor=lead,
        )  # fmt: skip
        if n == 0 and request.status == SupportRequest.Status.APPROVED:
            request_mark_from_secondhand(request=request, actor=lead)
    return donated


def _welcome_history(*, today: datetime.date) -> int:
    """Last year's intake (today's Year 1 at the primaries, Year 8 at the secondaries): nine in ten packs
    handed over in the first weeks of the year, the rest never collected. Returns how many were handed
    over."""
    from support.dates import academic_year_start_for
    from support.demo import at_local, school_staff

    rng = random.Random(20250901)
    last_year = academic_year_start_for(today) - 1
    gifts = []
    for school in School.objects.filter(phase__in=INTAKE).order_by("pk"):
        year_group = INTAKE[school.phase][0]
        staff = school_staff(school.pk)
        for pupil_id in (
            Pupil.objects.filter(school=school, year_group=year_group + 1)
            .order_by("pk")
            .values_list("pk", flat=True)
        ):
            gift = Gift(pupil_id=pupil_id, school=school, academic_year=last_year, year_group=year_group)
            if rng.random() < 0.9:
                day = datetime.date(last_year, 9, 2) + datetime.timedelta(days=rng.randrange(45))
                gift.status = Gift.Status.HANDED_OVER
                gift.handed_over_at = at_local(day, rng.randint(8, 15))
                gift.handed_over_by = staff
            else:
                gift.status = Gift.Status.SIZED
            gifts.append(gift)
    Gift.objects.bulk_create(gifts, batch_size=500)
    return sum(1 for gift in gifts if gift.status == Gift.Status.HANDED_OVER)
