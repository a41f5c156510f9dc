import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from signposting.models import Signpost
from signposting.services import signpost_record
from support.models import AuditEvent

pytestmark = pytest.mark.django_db


def _form(**extra):
    data = {"kind": "signpost", "given_on": timezone.localdate().isoformat()}
    data.update(extra)
    return data


def test_it_checks_a_referral_before_recording_it(client_for, pastoral_a, family_a, college):
    client = client_for(pastoral_a)
    url = reverse("signpost_create", args=[family_a.pk, college.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "A referral needs consent" in page.content.decode()
    data = _form(kind="referral", consent_method="in_person")
    check = client.post(url, data)
    assert check.status_code == 200
    assert "Check before you record it" in check.content.decode()
    assert not Signpost.objects.exists()
    done = client.post(url, {**data, "confirm": "yes"})
    assert done.status_code == 302
    signpost = Signpost.objects.get()
    assert signpost.kind == "referral"
    assert signpost.consent_method == "in_person"
    assert signpost.consent_recorded_by == pastoral_a


def test_a_referral_without_consent_is_a_form_error(client_for, pastoral_a, family_a, college):
    url = reverse("signpost_create", args=[family_a.pk, college.pk])
    page = client_for(pastoral_a).post(url, _form(kind="referral", confirm="yes"))
    assert page.status_code == 400
    assert "a referral needs their consent" in page.content.decode()
    assert not Signpost.objects.exists()


def test_a_safeguarding_service_shows_the_guidance_and_the_dsl_not_a_form(
    client_for, pastoral_a, family_a, social_care, school_a
):
    school_a.safeguarding_lead = "Dana Lead"
    school_a.save()
    client = client_for(pastoral_a)
    url = reverse("signpost_create", args=[family_a.pk, social_care.pk])
    for response in (
        client.get(url),
        client.post(url, _form(kind="referral", consent_method="phone", confirm="yes")),
    ):
        text = response.content.decode()
        assert response.status_code == 200
        assert "Dana Lead" in text
        assert "designated safeguarding lead" in text
        assert "consent" in text  # "Do not seek the family's consent where ..."
        assert 'name="kind"' not in text
    assert not Signpost.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="signpost.").exists()


def test_the_choice_lists_agencies_and_the_family_page_links_to_it(client_for, pastoral_a, family_a, college):
    client = client_for(pastoral_a)
    family_page = client.get(reverse("family_detail", args=[family_a.pk])).content.decode()
    assert reverse("signpost_choose", args=[family_a.pk]) in family_page
    choose = client.get(reverse("signpost_choose", args=[family_a.pk])).content.decode()
    assert college.name in choose


def test_staff_of_another_school_get_a_404(client_for, pastoral_b, family_a, college):
    client = client_for(pastoral_b)
    assert client.get(reverse("signpost_create", args=[family_a.pk, college.pk])).status_code == 404
    assert client.get(reverse("agency_sheet", args=[family_a.pk, college.pk])).status_code == 404


def test_finance_may_not_open_the_directory(client_for, finance):
    assert client_for(finance).get(reverse("agency_list")).status_code == 403


def test_the_outcome_is_recorded_on_the_signpost_page(client_for, pastoral_a, family_a, college):
    signpost = signpost_record(family=family_a, agency=college, kind="signpost", actor=pastoral_a)
    client = client_for(pastoral_a)
    assert client.get(reverse("signpost_detail", args=[signpost.pk])).status_code == 200
    response = client.post(reverse("signpost_outcome", args=[signpost.pk]), {"outcome": "engaged"})
    assert response.status_code == 302
    signpost.refresh_from_db()
    assert signpost.outcome == "engaged"


def test_a_follow_up_due_is_on_home_for_the_recorder_and_their_lead(
    client_for, pastoral_a, lead_a, pastoral_b, family_a, college
):
    today = timezone.localdate()
    signpost_record(
        family=family_a, agency=college, kind="signpost", actor=pastoral_a,
        given_on=today - datetime.timedelta(days=7), follow_up_on=today,
    )  # fmt: skip
    for user in (pastoral_a, lead_a):
        home = client_for(user).get(reverse("home")).content.decode()
        assert "Signposting follow-ups due" in home
        due = client_for(user).get(reverse("signpost_follow_ups")).content.decode()
        assert "Signposted to Riverton College adult learning" in due
    due = client_for(pastoral_b).get(reverse("signpost_follow_ups")).content.decode()
    assert "Riverton College" not in due


def test_the_sheet_prints(client_for, pastoral_a, family_a, college):
    response = client_for(pastoral_a).get(reverse("agency_sheet", args=[family_a.pk, college.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_the_signpost_is_on_the_family_timeline(client_for, pastoral_a, family_a, college):
    signpost_record(family=family_a, agency=college, kind="signpost", actor=pastoral_a)
    page = client_for(pastoral_a).get(reverse("family_detail", args=[family_a.pk])).content.decode()
    assert "Signposted to Riverton College adult learning" in page


def test_an_agency_serving_other_schools_is_not_offered(client_for, pastoral_a, family_a, school_b, college):
    from signposting.models import Agency

    elsewhere = Agency.objects.create(name="Brookfield Family Hub", helps_with="Local help")
    elsewhere.schools.set([school_b])
    client = client_for(pastoral_a)
    choose = client.get(reverse("signpost_choose", args=[family_a.pk])).content.decode()
    assert college.name in choose
    assert "Brookfield Family Hub" not in choose
    assert client.get(reverse("signpost_create", args=[family_a.pk, elsewhere.pk])).status_code == 404
