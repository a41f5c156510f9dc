"""Races that only a real database with row locks can show (CI's PostgreSQL pass)."""

import threading

import pytest
from django.db import close_old_connections, connection

from support import services
from support.errors import ConflictError
from support.models import AuditEvent, FamilyDuplicate, Pupil
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
    barrier = threading.Barrier(len(leads))
    outcomes: list[str] = []

    def decide(n: int) -> None:
        try:
            barrier.wait()
            if n % 2:
                services.family_duplicate_keep_apart(duplicate=duplicate, actor=leads[n])
            else:
                keep = first if n % 4 else second
                services.family_duplicate_merge(duplicate=duplicate, actor=leads[n], keep=keep)
            outcomes.append("won")
        except ConflictError:
            outcomes.append("conflict")
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=decide, args=(n,)) for n in range(len(leads))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["conflict"] * 7 + ["won"]
    decided = AuditEvent.objects.filter(action__in=["family.merged", "family.duplicate_kept_apart"])
    assert decided.count() == 1
    duplicate.refresh_from_db()
    assert duplicate.status != FamilyDuplicate.Status.OPEN
    # Whatever won, no pupil was lost or duplicated.
    assert Pupil.objects.count() == 2
