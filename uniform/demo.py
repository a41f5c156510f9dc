"""Uniform items, welcome packs and some stock for every demo school; coat and shoe requests at the first
demo lead's schools, paid from the standby fund. Idempotent like the rest of the demo.

No gifts: a pastoral lead generates the intake's packs from the Uniform page, as they would for real;
their cost is committed against the trust's welcome uniform budget (a fund of its own).
"""

from django.db import transaction
from django.utils import timezone

from support.models import Fund, Phase, Pupil, School
from uniform.models import ItemKind, StockLevel, StockMovement, UniformItem, WelcomePack, WelcomePackItem

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
WELCOME_BUDGET_PENCE = 30_000_00


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
    requests = _requests_demo_seed()
    return [
        f"Welcome uniform: items, a welcome pack and opening stock at {seeded} schools (no gifts yet).",
        f"Coats, shoes and uniform: {requests} requests at the first lead's schools, one for finance.",
    ]


def _welcome_fund() -> Fund:
    """The trust's welcome uniform budget: welcome packs are everyone's, not paid from the standby fund."""
    from django.contrib.auth import get_user_model

    from support.fund import financial_year_bounds, financial_year_for, fund_donation_record

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


def _requests_demo_seed() -> int:
    """Coat and shoe requests for pupils in need at the first demo lead's schools: most approved at once
    and their cost committed, some handed over (actual spend), and one uniform request above the
    approval threshold waiting for finance. Returns how many were made."""
    from django.contrib.auth import get_user_model

    from support.scopes import scope_for
    from uniform.request_services import request_create, request_hand_over, request_mark_ordered

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
