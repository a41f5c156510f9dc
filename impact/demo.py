"""Attendance per term for the demo's pupils at four academies, so the impact report's outcomes have
figures: the summer term before last year, last year's three terms and this autumn. Pupils whose family
was supported start a little lower and, after support, close part of the gap (a made-up association for
the demo, nothing more). Idempotent like the rest of the demo."""

import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from support.dates import academic_year_start_for
from support.models import Pupil, PupilAttendance, School, Term
from vouchers.selectors import voucher_support_events

SCHOOLS = 4


@transaction.atomic
def impact_demo_seed() -> list[str]:
    if PupilAttendance.objects.exists() or not School.objects.exists():
        return []
    this_year = academic_year_start_for(timezone.localdate())
    last = this_year - 1
    terms = [
        (last - 1, Term.SUMMER),
        (last, Term.AUTUMN),
        (last, Term.SPRING),
        (last, Term.SUMMER),
        (this_year, Term.AUTUMN),
    ]
    start, end = timezone.localdate().replace(year=last, month=9, day=1), timezone.localdate()
    supported = {family_id for family_id, *_ in voucher_support_events(start, end)}
    rng = random.Random(18)
    rows = []
    schools = list(School.objects.order_by("pk")[:SCHOOLS])
    for pupil_id, school_id, family_id in (
        Pupil.objects.filter(school__in=schools).order_by("pk").values_list("pk", "school_id", "family_id")
    ):
        base = rng.uniform(88, 99)
        helped = family_id in supported
        if helped:
            base -= rng.uniform(3, 7)
        for index, (year, term) in enumerate(terms):
            value = base + rng.uniform(-2, 2) + (index * 0.8 if helped else 0)
            rows.append(
                PupilAttendance(
                    pupil_id=pupil_id,
                    school_id=school_id,
                    academic_year=year,
                    term=term,
                    percent=Decimal(f"{min(max(value, 40), 100):.1f}"),
                )
            )
    PupilAttendance.objects.bulk_create(rows, batch_size=1000)
    return [f"Attendance: {len(rows)} term figures for pupils at {len(schools)} academies."]
