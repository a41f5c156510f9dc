"""The names table school staff's name search reads on PostgreSQL (``FamilySearchName``, issue 15.1's
speed): its triggers keep it in step with families, pupils and rolls, so the search finds exactly what
the scope rules allow, through current rolls only."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from support import selectors
from support.models import Enrolment, Family, FamilySearchName, Pupil, Registration
from support.services import family_update
from tests.factories import FamilyFactory, PupilFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _rows(family) -> set[tuple[int, str]]:
    return set(FamilySearchName.objects.filter(family=family).values_list("school_id", "name"))


def _found(user, query: str, school_id: int | None = None) -> list[int]:
    found = selectors.family_search(user=user, query=query, school_id=school_id)
    return list(found.values_list("pk", flat=True))


@pytest.fixture
def okafor(school_a):
    family = FamilyFactory(lead_carer_name="Mrs Grace Okafor")
    pupil = PupilFactory(
        family=family, school=school_a, preferred_forename="Tobi", legal_forename="Tobias", surname="Okafor"
    )
    return family, pupil


def test_a_pupil_on_a_roll_gives_its_family_the_carers_and_the_pupils_names_at_that_school(
    okafor, school_a, pastoral_a, pastoral_b
):
    family, _pupil = okafor
    assert _rows(family) == {(school_a.pk, "grace okafor"), (school_a.pk, "Tobi Tobias Okafor")}
    assert _found(pastoral_a, "Okafur") == [family.pk]
    assert _found(pastoral_a, "Tobiaz") == [family.pk]
    assert _found(pastoral_b, "Okafor") == []


def test_the_search_reads_the_names_table_for_school_staff(okafor, pastoral_a):
    with CaptureQueriesContext(connection) as queries:
        _found(pastoral_a, "Okafor")
    assert any("support_familysearchname" in q["sql"] for q in queries.captured_queries)


def test_leaving_the_roll_takes_the_names_away(okafor, pastoral_a):
    family, pupil = okafor
    Enrolment.objects.filter(pupil=pupil).update(left_on=datetime.date.today() + datetime.timedelta(days=1))
    assert _rows(family) == set()
    assert _found(pastoral_a, "Okafor") == []
    Enrolment.objects.filter(pupil=pupil).update(left_on=None)
    assert _found(pastoral_a, "Okafor") == [family.pk]


def test_a_sibling_at_another_school_is_found_only_there(okafor, school_a, school_b, pastoral_a, pastoral_b):
    family, _pupil = okafor
    PupilFactory(
        family=family, school=school_b, preferred_forename="", legal_forename="Zainab", surname="Okafor"
    )
    assert (school_b.pk, " Zainab Okafor") in _rows(family)
    assert _found(pastoral_b, "Zainab") == [family.pk]
    assert _found(pastoral_a, "Zainab") == []  # school A staff see the family, never school B's child
    assert _found(pastoral_a, "Tobi") == [family.pk]
    assert _found(pastoral_b, "Tobi") == []


def test_a_second_roll_adds_the_pupil_at_that_school_too(okafor, school_b, pastoral_b):
    family, pupil = okafor
    Enrolment.objects.create(
        pupil=pupil, school=school_b, registration=Registration.SUBSIDIARY, joined=datetime.date.today()
    )
    assert _found(pastoral_b, "Tobi") == [family.pk]
    Enrolment.objects.filter(pupil=pupil, school=school_b).delete()
    assert _found(pastoral_b, "Tobi") == []


def test_renames_moves_merges_and_deletions_follow(okafor, school_a, pastoral_a):
    family, pupil = okafor
    family_update(family=family, actor=pastoral_a, lead_carer_name="Grace Adeyemi")
    assert _found(pastoral_a, "Adeyemi") == [family.pk]
    Pupil.objects.filter(pk=pupil.pk).update(surname="Okonkwo")
    assert (school_a.pk, "Tobi Tobias Okonkwo") in _rows(family)
    other = FamilyFactory(lead_carer_name="Ben Able")
    Pupil.objects.filter(pk=pupil.pk).update(family=other)
    assert _rows(family) == set()  # no pupil on a roll any more
    assert (school_a.pk, "ben able") in _rows(other)
    assert _found(pastoral_a, "Okonkwo") == [other.pk]
    Family.objects.filter(pk=other.pk).update(merged_into=family)
    assert _rows(other) == set()  # merged away: found through the family it was merged into
    Family.objects.filter(pk=other.pk).update(merged_into=None)
    Pupil.objects.filter(pk=pupil.pk).delete()
    assert _rows(other) == set()


def test_a_sibling_at_another_school_neither_finds_nor_ranks_a_family_for_a_school(
    okafor, school_a, school_b, pastoral_a
):
    family, _pupil = okafor
    PupilFactory(
        family=family, school=school_b, preferred_forename="", legal_forename="Zainab", surname="Patel"
    )
    near = FamilyFactory(lead_carer_name="Sam Patal")
    PupilFactory(family=near, school=school_a, surname="Patal")
    # School B's Zainab Patel would score the Okafors 1.0 for "Patel"; at school A they are not found at all.
    assert _found(pastoral_a, "Patel") == [near.pk]


def test_school_staff_and_the_trust_admin_rank_alike(school_a, admin, pastoral_a):
    exact = FamilyFactory(lead_carer_name="Sam Patel")
    PupilFactory(family=exact, school=school_a, surname="Patel")
    near = FamilyFactory(lead_carer_name="Sam Patal")
    PupilFactory(family=near, school=school_a, surname="Patal")
    assert _found(admin, "Patel") == _found(pastoral_a, "Patel") == [exact.pk, near.pk]
    assert _found(admin, "Patel", school_id=school_a.pk) == [exact.pk, near.pk]


def test_the_trust_admin_finds_a_pupil_on_no_roll(okafor, admin, pastoral_a):
    family, pupil = okafor
    Enrolment.objects.filter(pupil=pupil).delete()
    assert _found(pastoral_a, "Tobias") == []
    assert _found(admin, "Tobias") == [family.pk]  # the whole trust's pupils, on a roll or not
