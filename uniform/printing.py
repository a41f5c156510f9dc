"""Printing for welcome packs: a packing list per school, a gift slip per pupil, the supplier order summary.

Each renderer takes gifts already scoped by the caller (from ``gifts_visible_to``) and returns bytes.
A gift slip goes home with the child, so it shows the pupil's first name and class only.
"""

import csv
import io
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet, Sum
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import CSS, HTML

from support.csv_safe import safe_row
from support.models import School
from support.money import pounds
from uniform.models import Gift, GiftLine, StockLevel

STYLESHEET = "uniform/pdf/print.css"
YEAR_LABELS = {0: "Reception", 7: "Year 7"}


def year_label(year_group: int) -> str:
    return YEAR_LABELS.get(year_group, f"Year {year_group}")


def _pdf(template: str, context: dict) -> bytes:
    html = render_to_string(template, {"trust_name": settings.TRUST_NAME, **context})
    return HTML(string=html).write_pdf(stylesheets=[CSS(string=render_to_string(STYLESHEET))])


def _with_lines(gifts: QuerySet[Gift]) -> list[Gift]:
    return list(
        gifts.select_related("pupil", "school")
        .prefetch_related("lines__item")
        .order_by("year_group", "pupil__surname", "pupil__legal_forename", "pk")
    )


def render_packing_list_pdf(*, school: School, gifts: QuerySet[Gift], academic_year: int) -> bytes:
    """What to pick for each pupil's pack, the totals to pick, and a 'received by' line per pack."""
    listed = _with_lines(gifts)
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for gift in listed:
        for line in gift.lines.all():
            totals[(line.item.name, line.size)] += line.quantity
    return _pdf(
        "uniform/pdf/packing_list.html",
        {
            "school": school,
            "academic_year": academic_year,
            "gifts": [{"gift": g, "class": year_label(g.year_group), "lines": g.lines.all()} for g in listed],
            "totals": sorted((name, size, qty) for (name, size), qty in totals.items()),
            "printed_at": timezone.localtime(),
        },
    )


def render_gift_slips_pdf(*, gifts: QuerySet[Gift]) -> bytes:
    """One slip a pupil: first name, class and what is in the pack. No surname, nothing about the family."""
    slips = [
        {
            "first_name": gift.pupil.known_as,
            "class": f"{year_label(gift.year_group)}, {gift.school.name}",
            "lines": gift.lines.all(),
        }
        for gift in _with_lines(gifts)
    ]
    return _pdf("uniform/pdf/gift_slips.html", {"slips": slips})


@dataclass(frozen=True)
class OrderRow:
    supplier: str
    item: str
    size: str
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
            "item_id", "item__supplier", "item__name", "item__unit_cost_pence", "item__track_stock", "size"
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
                size=row["size"],
                needed=row["total"],
                in_stock=in_stock,
                to_order=max(0, row["total"] - (in_stock or 0)),
                unit_cost_pence=row["item__unit_cost_pence"],
            )
        )
    return rows


def order_summary_csv(rows: list[OrderRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["Supplier", "Item", "Size", "Needed", "In stock", "To order", "Unit cost (£)", "Cost (£)"]
    )
    for row in rows:
        writer.writerow(
            safe_row(
                [
                    row.supplier,
                    row.item,
                    row.size or "(not recorded)",
                    row.needed,
                    "not tracked" if row.in_stock is None else row.in_stock,
                    row.to_order,
                    pounds(row.unit_cost_pence, symbol=False),
                    pounds(row.cost_pence, symbol=False),
                ]
            )
        )
    return out.getvalue()


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
    )
