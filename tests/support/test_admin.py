"""The core's admin writes through the services that own the use case, and shows their refusals on the
form: a school's safeguarding leads, a pupil's in-need flag, a family's details."""

import pytest
from django.urls import reverse

from support.models import AuditEvent, Pupil
from tests.admin_forms import post_admin_form
from tests.factories import PupilFactory

pytestmark = pytest.mark.django_db


def _errors(response) -> str:
    assert response.status_code == 200, response.status_code  # the form again, not a redirect
    return response.content.decode()


def test_it_sets_a_schools_leads_through_the_service(client_for, admin, school_a):
    path = reverse("admin:support_school_change", args=[school_a.pk])
    leads = {"safeguarding_lead": "Dana Lead", "safeguarding_deputy": "Dev"}
    response = post_admin_form(client_for(admin), path, name="Alpha Academy", **leads)
    assert response.status_code == 302
    school_a.refresh_from_db()
    assert (school_a.name, school_a.safeguarding_lead, school_a.safeguarding_deputy) == (
        "Alpha Academy",
        "Dana Lead",
        "Dev",
    )
    leads = AuditEvent.objects.get(action="school.safeguarding_leads_set")
    assert leads.after == {"safeguarding_lead": "Dana Lead", "safeguarding_deputy": "Dev"}
    # The plain audited save keeps to the fields the service does not own.
    assert AuditEvent.objects.get(action="school.updated").after == {"name": "Alpha Academy"}


def test_it_shows_the_services_refusal_of_a_deputy_without_a_lead(client_for, admin, school_a):
    path = reverse("admin:support_school_change", args=[school_a.pk])
    page = _errors(post_admin_form(client_for(admin), path, name="Renamed", safeguarding_deputy="Dev"))
    assert "Enter the designated safeguarding lead&#x27;s name." in page
    school_a.refresh_from_db()
    assert (school_a.name, school_a.safeguarding_deputy) == ("Alpha Primary Academy", "")
    assert not AuditEvent.objects.filter(action__startswith="school.").exists()


def test_it_flags_a_pupil_in_need_through_the_service_with_its_reason(client_for, admin, family_a):
    pupil = family_a.pupils.get()
    path = reverse("admin:support_pupil_change", args=[pupil.pk])
    response = post_admin_form(client_for(admin), path, in_need="on", in_need_reason="Dad lost his job")
    assert response.status_code == 302
    pupil.refresh_from_db()
    assert pupil.in_need
    event = AuditEvent.objects.get(action="pupil.in_need_set")
    assert event.note == "Dad lost his job"
    assert not AuditEvent.objects.filter(action="pupil.updated").exists()


def test_it_refuses_a_pupil_in_need_without_a_reason_on_the_form(client_for, admin, family_a):
    pupil = family_a.pupils.get()
    path = reverse("admin:support_pupil_change", args=[pupil.pk])
    page = _errors(post_admin_form(client_for(admin), path, in_need="on", surname="Changed"))
    assert "Say briefly why the pupil is in need." in page
    pupil.refresh_from_db()
    assert (pupil.in_need, pupil.surname) == (False, "Able")  # nothing of the attempt is kept
    assert not AuditEvent.objects.exists()


def test_it_adds_no_pupils_and_moves_none_between_schools_and_families(client_for, admin, school_b):
    pupil = PupilFactory()
    client = client_for(admin)
    assert client.get(reverse("admin:support_pupil_add")).status_code == 403
    path = reverse("admin:support_pupil_change", args=[pupil.pk])
    form = client.get(path).context["adminform"].form
    assert "school" not in form.fields
    assert "family" not in form.fields
    post_admin_form(client, path, school=school_b.pk)
    assert Pupil.objects.get(pk=pupil.pk).school_id == pupil.school_id


def test_it_shows_the_family_services_refusal_on_the_form(client_for, admin, family_a):
    path = reverse("admin:support_family_change", args=[family_a.pk])
    page = _errors(post_admin_form(client_for(admin), path, lead_carer_name="Anna B", postcode="NOWHERE"))
    assert "Enter a UK postcode, like SW1A 1AA." in page
    family_a.refresh_from_db()
    assert (family_a.lead_carer_name, family_a.postcode) == ("Anna Able", "RV1 1AA")
