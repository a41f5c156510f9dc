"""Printing for welcome packs: a packing list per school, a gift slip per pupil, the supplier order summary.

Each renderer takes gifts already scoped by the caller (from ``gifts_visible_to``) and returns bytes.
A gift slip goes home with the child, so it shows the pupil's first name and class only.

Nothing here prints a size that was not recorded (``uniform.sizes.size_label``): an item that comes in
sizes and has none recorded prints "Size needed", and only a one-size item prints "One size". The
packing list lists the packs still waiting for a size, with their count at the top, instead of leaving
them out.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet, Sum
from django.utils import timezone

from support.csv_safe import csv_text
from support.models import School
from support.money import pounds
from support.pdf import render_pdf
from uniform.models import Gift, GiftLine, StockLevel
from uniform.sizes import size_label

STYLESHEET = "uniform/pdf/print.css"
YEAR_LABELS = {0: "Reception", 7: "Year 7"}


def year_label(year_group: int) -> str:
    return YEAR_LABELS.get(year_group, f"Year {year_group}")


def _pdf(template: str, context: dict, *, cache_key: str) -> bytes:
    return render_pdf(
        template, {"trust_name": settings.TRUST_NAME, **context}, stylesheet=STYLESHEET, cache_key=cache_key
    )


def _with_lines(gifts: QuerySet[Gift]) -> list[Gift]:
    return list(
        gifts.select_related("pupil", "school")
        .prefetch_related("lines__item")
        .order_by("year_group", "pupil__surname", "pupil__legal_forename", "pk")
    )


@dataclass(frozen=True)
class PrintLine:
    item: str
    size: str  # what to print: the recorded size, "One size", or "Size needed"
    quantity: int
    size_needed: bool


def print_lines(gift: Gift) -> list[PrintLine]:
    return [
        PrintLine(
            item=line.item.name,
            size=size_label(line.item.sizes, line.size),
            quantity=line.quantity,
            size_needed=bool(line.item.sizes) and not line.size,
        )
        for line in gift.lines.all()
    ]


def render_packing_list_pdf(*, school: School, gifts: QuerySet[Gift], academic_year: int) -> bytes:
    """The packs to pick (sizes all recorded, not packed yet) with a 'received by' line each and the
    totals to pick; then every pupil whose pack still needs a size, counted at the top, so nobody is
    silently left out. ``gifts``: the packs not yet packed (waiting for sizes or sized)."""
    ready, size_needed = [], []
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for gift in _with_lines(gifts.filter(status__in=[Gift.Status.AWAITING_SIZES, Gift.Status.SIZED])):
        lines = print_lines(gift)
        entry = {"gift": gift, "class": year_label(gift.year_group), "lines": lines}
        if any(line.size_needed for line in lines):
            entry["missing"] = [line.item for line in lines if line.size_needed]
            size_needed.append(entry)
            continue
        ready.append(entry)
        for line in lines:
            totals[(line.item, line.size)] += line.quantity
    return _pdf(
        "uniform/pdf/packing_list.html",
        {
            "school": school,
            "academic_year": academic_year,
            "gifts": ready,
            "size_needed": size_needed,
            "totals": sorted((name, size, qty) for (name, size), qty in totals.items()),
            "printed_at": timezone.localtime(),
        },
        cache_key=f"uniform-packing-list:{school.pk}:{academic_year}",
    )


def render_gift_slips_pdf(*, gifts: QuerySet[Gift]) -> bytes:
    """One slip a pupil: first name, class and what is in the pack. No surname, nothing about the family."""
    slips = [
        {
            "first_name": gift.pupil.known_as,
            "class": f"{year_label(gift.year_group)}, {gift.school.name}",
            "lines": print_lines(gift),
        }
        for gift in _with_lines(gifts)
    ]
    return _pdf("uniform/pdf/gift_slips.html", {"slips": slips}, cache_key="uniform-gift-slips")


@dataclass(frozen=True)
class OrderRow:
    supplier: str
    item: str
    size: str  # what to print (``size_label``): a recorded size, "One size" or "Size needed"
    needed: int
    in_stock: int | None  # None: stock of the item is not tracked
    to_order: int
    unit_cost_pence: int

    @property
    def cost_pence(self) -> int:
        return self.to_order * self.unit_cost_pence


def order_summary(*, school: School, gifts: QuerySet[Gift]) -> list[OrderRow]:
    """Totals per item and size of the packs not yet handed over, less the stock held (tracked items)."""
    needed = (
        GiftLine.objects.filter(gift__in=gifts.exclude(status=Gift.Status.HANDED_OVER), item__school=school)
        .values(
            "item_id",
            "item__supplier",
            "item__name",
            "item__sizes",
            "item__unit_cost_pence",
            "item__track_stock",
            "size",
        )
        .annotate(total=Sum("quantity"))
        .order_by("item__supplier", "item__name", "size")
    )
    stock = {
        (item_id, size): quantity
        for item_id, size, quantity in StockLevel.objects.filter(item__school=school).values_list(
            "item_id", "size", "quantity"
        )
    }
    rows = []
    for row in needed:
        in_stock = stock.get((row["item_id"], row["size"]), 0) if row["item__track_stock"] else None
        rows.append(
            OrderRow(
                supplier=row["item__supplier"] or "No supplier recorded",
                item=row["item__name"],
                size=size_label(row["item__sizes"], row["size"]),
                needed=row["total"],
                in_stock=in_stock,
                to_order=max(0, row["total"] - (in_stock or 0)),
                unit_cost_pence=row["item__unit_cost_pence"],
            )
        )
    return rows


def order_summary_csv(rows: list[OrderRow]) -> str:
    return csv_text(
        (
            [
                row.supplier,
                row.item,
                row.size,
                row.needed,
                "not tracked" if row.in_stock is None else row.in_stock,
                row.to_order,
                pounds(row.unit_cost_pence, symbol=False),
                pounds(row.cost_pence, symbol=False),
            ]
            for row in rows
        ),
        header=["Supplier", "Item", "Size", "Needed", "In stock", "To order", "Unit cost (£)", "Cost (£)"],
    )


def render_order_summary_pdf(*, school: School, rows: list[OrderRow], academic_year: int) -> bytes:
    return _pdf(
        "uniform/pdf/order_summary.html",
        {
            "school": school,
            "academic_year": academic_year,
            "rows": rows,
            "total_pence": sum(row.cost_pence for row in rows),
            "printed_at": timezone.localtime(),
        },
        cache_key=f"uniform-order-summary:{school.pk}:{academic_year}",
    )
