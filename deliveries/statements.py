"""The deliveries' part of a partner's monthly statement, beside the counter's redemptions: each item
recorded as delivered in the month (date, what, school, value). Counted by when the charity recorded it,
as redemptions are, so a finished month's statement stays final even when a delivery is recorded late
(its row shows the day it was delivered). It names no family, like the rest of the statement."""

import datetime

from django.db.models import Sum

from deliveries.models import Referral
from support.dates import month_instants
from support.money import pounds
from vouchers.statements import StatementSection, register_statement_section

HEADERS = ["Date delivered", "Item", "Service", "Referring school", "Value (£)"]


def deliveries_section(*, partner, month: datetime.date) -> StatementSection | None:
    start, end = month_instants(month)
    delivered = Referral.objects.filter(
        service__voucher_type__partner=partner,
        state=Referral.State.DELIVERED,
        closed_at__gte=start,
        closed_at__lt=end,
    )
    if not Referral.objects.filter(service__voucher_type__partner=partner).exists():
        return None  # a partner that delivers nothing has no such section
    rows = [
        [f"{on:%d/%m/%Y}", what or item, service, school, pounds(value, symbol=False)]
        for on, item, what, service, school, value in delivered.order_by("closed_at", "pk").values_list(
            "delivered_on", "item__name", "delivered_what", "service__voucher_type__name", "school__name",
            "value_pence",
        )
    ]  # fmt: skip
    total = delivered.aggregate(total=Sum("value_pence"))["total"] or 0
    return StatementSection(
        title="Deliveries", headers=HEADERS, rows=rows, count=len(rows), value_pence=total,
        empty="Nothing was delivered in the month.",
    )  # fmt: skip


def register() -> None:
    register_statement_section("deliveries", deliveries_section)
