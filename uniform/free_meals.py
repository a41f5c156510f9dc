"""Coats, shoes and uniform for need are support the school gave: the lead's free-school-meals check
counts the requests (welcome packs go to every pupil, so they do not count)."""

import datetime

from django.db.models import Count

from support.free_meals import register_support_given
from uniform.models import SupportRequest


def families_given_items(school_ids: list[int], start: datetime.date, end: datetime.date) -> dict[int, int]:
    rows = (
        SupportRequest.objects.filter(school_id__in=school_ids, requested_at__date__range=(start, end))
        .exclude(status=SupportRequest.Status.REJECTED)
        .values("pupil__family_id")
        .annotate(n=Count("pk"))
        .values_list("pupil__family_id", "n")
    )
    return dict(rows)


def register() -> None:
    register_support_given("coats, shoes and uniform", families_given_items)
