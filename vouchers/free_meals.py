"""Vouchers are support the school gave: the lead's free-school-meals check counts them."""

import datetime

from django.db.models import Count

from support.free_meals import register_support_given
from vouchers.models import Voucher


def families_given_vouchers(
    school_ids: list[int], start: datetime.date, end: datetime.date
) -> dict[int, int]:
    rows = (
        Voucher.objects.filter(school_id__in=school_ids, issued_at__date__range=(start, end))
        .values("family_id")
        .annotate(n=Count("pk"))
        .values_list("family_id", "n")
    )
    return dict(rows)


def register() -> None:
    register_support_given("vouchers", families_given_vouchers)
