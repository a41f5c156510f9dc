"""School rolls: a pupil on two rolls (dual registration) is seen by both schools, a roll the pupil
left no longer counts, and existing pupils start on one main roll each."""

import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from support.models import Enrolment, Registration
from support.selectors import families_visible_to, family_search, pupils_visible_to
from tests.factories import FamilyFactory, PupilFactory


def dual_register(pupil, school) -> Enrolment:
    return Enrolment.objects.create(
        pupil=pupil, school=school, registration=Registration.SUBSIDIARY, joined=timezone.localdate()
    )


def test_it_shows_a_dual_registered_pupil_and_family_to_both_schools(
    family_b, school_a, pastoral_a, pastoral_b
):
    bobby = family_b.pupils.get()
    assert not pupils_visible_to(pastoral_a).filter(pk=bobby.pk).exists()

    dual_register(bobby, school_a)

    for user in (pastoral_a, pastoral_b):
        assert list(pupils_visible_to(user).filter(family=family_b)) == [bobby]
        assert families_visible_to(user).filter(pk=family_b.pk).exists()
    assert list(family_search(user=pastoral_a, query="Brook", school_id=school_a.pk)) == [family_b]


def test_it_stops_showing_a_pupil_once_they_left_the_roll(family_b, school_b, pastoral_b):
    bobby = family_b.pupils.get()
    Enrolment.objects.filter(pupil=bobby, school=school_b).update(left_on=timezone.localdate())

    assert not pupils_visible_to(pastoral_b).filter(pk=bobby.pk).exists()
    assert not families_visible_to(pastoral_b).filter(pk=family_b.pk).exists()


def test_it_counts_a_dual_registered_pupil_on_each_schools_roll_on_the_admin_home(
    client_for, admin, family_b, school_a
):
    dual_register(family_b.pupils.get(), school_a)

    overview = {s.pk: s.pupils_total for s in client_for(admin).get("/").context["school_overview"]}

    assert overview[school_a.pk] == 1  # family_b's pupil, on A's roll as subsidiary


def test_it_keeps_the_main_roll_in_step_when_a_pupils_school_is_changed_by_hand(family_b, school_a, school_b):
    bobby = family_b.pupils.get()
    bobby.school = school_a
    bobby.save()

    rolls = {(r.school_id, r.registration, r.left_on is None) for r in bobby.enrolments.all()}
    assert rolls == {(school_b.pk, "main", False), (school_a.pk, "main", True)}


def test_it_puts_every_existing_pupil_on_one_main_roll_in_the_migration(school_a, school_b):
    pupils = [
        PupilFactory(school=school, family=FamilyFactory()) for school in (school_a, school_b, school_a)
    ]
    Enrolment.objects.all().delete()
    migration = importlib.import_module("support.migrations.0014_pupil_school_rolls")

    migration.one_main_roll_each(apps, None)

    rolls = sorted(Enrolment.objects.values_list("pupil_id", "school_id", "registration", "left_on"))
    assert rolls == sorted((p.pk, p.school_id, "main", None) for p in pupils)


@pytest.mark.parametrize(("persona", "allowed"), [("lead_b", True), ("lead_a", False), ("pastoral_b", False)])
def test_it_lets_only_a_lead_of_that_school_take_a_pupil_off_its_roll_from_the_family_page(
    request, client_for, family_b, school_a, school_b, persona, allowed
):
    bobby = family_b.pupils.get()
    dual_register(bobby, school_a)
    user = request.getfixturevalue(persona)
    page = client_for(request.getfixturevalue("lead_b")).get(f"/families/{family_b.pk}/").content.decode()
    assert "Take off Beta Secondary Academy" in page
    assert "On roll at" in page

    client_for(user).post(
        f"/pupils/{bobby.pk}/leave/",
        {"school": school_b.pk, "left_on": timezone.localdate().isoformat(), "confirm": "yes"},
    )

    left = Enrolment.objects.get(pupil=bobby, school=school_b).left_on
    assert (left is not None) == allowed
    assert Enrolment.objects.get(pupil=bobby, school=school_a).left_on is None


def test_taking_a_pupil_off_the_roll_asks_first_and_changes_nothing_until_confirmed(
    client_for, lead_b, family_b, school_b
):
    bobby = family_b.pupils.get()
    client = client_for(lead_b)
    data = {"school": school_b.pk, "left_on": timezone.localdate().isoformat()}
    response = client.post(f"/pupils/{bobby.pk}/leave/", data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Are you sure you want to take" in page
    assert "govuk-button--warning" in page
    assert Enrolment.objects.get(pupil=bobby, school=school_b).left_on is None
    client.post(f"/pupils/{bobby.pk}/leave/", {**data, "confirm": "yes"})
    assert Enrolment.objects.get(pupil=bobby, school=school_b).left_on == timezone.localdate()
