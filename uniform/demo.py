"""Uniform items, welcome packs and some stock for every demo school. Idempotent like the rest of the demo.

No gifts: a pastoral lead generates the intake's packs from the Uniform page, as they would for real.
"""

from django.db import transaction

from support.models import Phase, School
from uniform.models import ItemKind, StockLevel, StockMovement, UniformItem, WelcomePack, WelcomePackItem

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


@transaction.atomic
def uniform_demo_seed() -> list[str]:
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.filter(username="admin").first()
    if admin is None:
        return []
    seeded = 0
    for school in School.objects.filter(phase__in=INTAKE).order_by("pk"):
        if UniformItem.objects.filter(school=school, kind=ItemKind.UNIFORM).exists():
            continue
        year_group, items = INTAKE[school.phase]
        pack = WelcomePack.objects.create(school=school, year_group=year_group)
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
        seeded += 1
    if not seeded:
        return []
    return [f"Welcome uniform: items, a welcome pack and opening stock at {seeded} schools (no gifts yet)."]
