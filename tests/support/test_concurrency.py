"""Races that only a real database with row locks can show (CI's PostgreSQL pass)."""

import pytest

from support import services
from support.errors import ConflictError
from support.models import AuditEvent, FamilyDuplicate, Pupil
from tests.concurrency import storm
from tests.factories import FamilyFactory, PupilFactory, SchoolFactory, make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_it_lets_exactly_one_of_many_concurrent_decisions_win():
    school = SchoolFactory()
    first, second = FamilyFactory(lead_carer_name="Eve East"), FamilyFactory(lead_carer_name="Eve East")
    PupilFactory(family=first, school=school)
    PupilFactory(family=second, school=school)
    duplicate = FamilyDuplicate.objects.create(
        family_a=first, family_b=second, reason="Same carer name and postcode"
    )
    leads = [make_user(f"lead_{n}", "lead", schools=[school]) for n in range(8)]

    def decide(n: int) -> str:
        try:
            if n % 2:
                services.family_duplicate_keep_apart(duplicate=duplicate, actor=leads[n])
            else:
                keep = first if n % 4 else second
                services.family_duplicate_merge(duplicate=duplicate, actor=leads[n], keep=keep)
        except ConflictError:
            return "conflict"
        return "won"

    outcomes = storm(len(leads), decide)
    assert sorted(outcomes) == ["conflict"] * 7 + ["won"]
    decided = AuditEvent.objects.filter(action__in=["family.merged", "family.duplicate_kept_apart"])
    assert decided.count() == 1
    duplicate.refresh_from_db()
    assert duplicate.status != FamilyDuplicate.Status.OPEN
    # Whatever won, no pupil was lost or duplicated.
    assert Pupil.objects.count() == 2
