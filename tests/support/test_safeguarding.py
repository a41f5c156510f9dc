"""The safeguarding boundary: concerns go to the school's safeguarding lead, not into notes here."""

import datetime

import pytest
from django.db import models
from django.urls import reverse
from rest_framework.test import APIClient

from support import safeguarding
from support.errors import SupportError
from support.models import AuditEvent, SafeguardingReferral
from support.selectors import safeguarding_referrals_visible_to

pytestmark = pytest.mark.django_db

GUIDANCE = "Record concerns about a child&#x27;s safety in your safeguarding system"


@pytest.fixture
def api_for():
    def make(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def leads_a(school_a):
    school_a.safeguarding_lead = "Dana Lead"
    school_a.safeguarding_deputy = "Dev Deputy"
    school_a.save()
    return school_a


# --- Guidance beside every note ------------------------------------------------------------------


def test_it_shows_the_schools_safeguarding_leads_beside_the_in_need_reason(
    client_for, pastoral_a, family_a, leads_a
):
    page = client_for(pastoral_a).get(reverse("family_detail", args=[family_a.pk])).content.decode()
    assert GUIDANCE in page
    assert "tell your designated safeguarding lead (Dana Lead, deputy Dev Deputy)" in page
    # The reason shows in the family's history to staff of the pupil's schools (issue 15.2).
    assert "This note is seen by staff at this school and trust admins, and by the family if they ask" in page


def test_it_says_when_a_school_has_not_recorded_its_safeguarding_lead(client_for, pastoral_a, family_a):
    page = client_for(pastoral_a).get(reverse("family_detail", args=[family_a.pk])).content.decode()
    assert "(not yet recorded here: ask a pastoral lead)" in page


def test_it_names_each_schools_leads_when_a_hint_covers_several():
    class _School:
        def __init__(self, name, lead, deputy=""):
            self.name, self.safeguarding_leads = (
                name,
                [(k, v) for k, v in (("lead", lead), ("deputy", deputy)) if v],
            )

    # lead_names accepts any iterable of schools; a plain stand-in keeps this test off the database.
    words = safeguarding.lead_names([_School("Alpha", "Ann"), _School("Beta", "", "Bo")])
    assert words == "Alpha: Ann; Beta: deputy Bo"


def test_it_puts_the_guidance_in_the_api_schema(api_for, pastoral_a):
    schema = api_for(pastoral_a).get("/api/v1/schema/", HTTP_ACCEPT="application/json").content.decode()
    for component in ("PupilInNeed", "VoucherIssue", "SupportRequestCreate"):
        assert component in schema
    assert schema.count("tell your school's designated safeguarding lead") >= 5
    assert "This note is seen by the partner charity when it checks the voucher" in schema


# --- A short maximum, with a clear error ---------------------------------------------------------


def test_it_refuses_an_in_need_reason_over_the_maximum_on_the_page(client_for, pastoral_a, family_a):
    pupil = family_a.pupils.get()
    response = client_for(pastoral_a).post(
        reverse("pupil_need", args=[pupil.pk]), {"in_need": "on", "reason": "x" * 301}, follow=True
    )
    page = response.content.decode()
    assert "Keep the note to 300 characters or fewer (it has 301)" in page
    assert "designated safeguarding lead, not here" in page
    pupil.refresh_from_db()
    assert pupil.in_need is False
    assert not AuditEvent.objects.filter(action="pupil.in_need_set").exists()


def test_it_refuses_an_in_need_reason_over_the_maximum_through_the_api(api_for, pastoral_a, family_a):
    pupil = family_a.pupils.get()
    response = api_for(pastoral_a).post(
        f"/api/v1/pupils/{pupil.pk}/in-need/", {"in_need": True, "reason": "x" * 301}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["reason"][0].startswith("Keep the note to 300 characters or fewer (it has 301).")
    pupil.refresh_from_db()
    assert pupil.in_need is False
    exactly = api_for(pastoral_a).post(
        f"/api/v1/pupils/{pupil.pk}/in-need/", {"in_need": True, "reason": "x" * 300}, format="json"
    )
    assert exactly.status_code == 200


def test_it_refuses_a_long_note_on_a_duplicate_decision():
    with pytest.raises(SupportError, match="300 characters or fewer"):
        safeguarding.note_clean("y" * 301)
    assert safeguarding.note_clean("  two   words ") == "two words"


# --- "This may be a safeguarding concern" --------------------------------------------------------


def test_it_stores_no_words_about_the_concern():
    text_fields = {
        f.name
        for f in SafeguardingReferral._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField)
    }
    # Names and a choice only: a field for the concern itself would be a case file in the wrong place.
    assert text_fields == {"passed_by_name", "lead_kind", "lead_name"}
    form_fields = set(safeguarding_form_fields())
    assert form_fields == {"lead_kind"}


def safeguarding_form_fields():
    from support.forms import SafeguardingReferralForm
    from tests.factories import SchoolFactory

    return SafeguardingReferralForm(school=SchoolFactory.build(safeguarding_lead="X")).fields


def test_it_records_who_passed_a_concern_to_which_lead_and_when_and_audits_it(pastoral_a, family_a, leads_a):
    pupil = family_a.pupils.get()
    when = datetime.datetime(2026, 12, 5, 9, 30, tzinfo=datetime.UTC)
    referral = safeguarding.safeguarding_referral_record(
        pupil=pupil, actor=pastoral_a, lead_kind="deputy", now=when
    )
    assert (referral.passed_by, referral.lead_name, referral.passed_at) == (pastoral_a, "Dev Deputy", when)
    event = AuditEvent.objects.get(action="pupil.safeguarding_referred")
    assert event.actor == pastoral_a
    assert event.subject_id == str(pupil.pk)
    assert event.note == ""
    assert event.after["lead_name"] == "Dev Deputy"


def test_it_takes_nothing_but_the_lead_through_the_api(api_for, pastoral_a, family_a, leads_a):
    pupil = family_a.pupils.get()
    concern = "Arrives hungry every morning"
    response = api_for(pastoral_a).post(
        f"/api/v1/pupils/{pupil.pk}/safeguarding-referral/",
        {"lead_kind": "lead", "concern": concern, "note": concern},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["lead_name"] == "Dana Lead"
    assert concern not in response.content.decode()
    referral = SafeguardingReferral.objects.get()
    assert concern not in str([getattr(referral, f.attname) for f in referral._meta.concrete_fields])
    for event in AuditEvent.objects.all():
        assert concern not in f"{event.before} {event.after} {event.note}"


def test_it_shows_the_referral_on_the_pupils_card_to_staff_of_that_school(
    client_for, pastoral_a, lead_a, family_a, leads_a
):
    pastoral_a.first_name, pastoral_a.last_name = "Pat", "Pastor"
    pastoral_a.save(update_fields=["first_name", "last_name"])
    pupil = family_a.pupils.get()
    page = client_for(pastoral_a).get(reverse("pupil_safeguarding", args=[pupil.pk]))
    assert "Do not write the concern here" in page.content.decode()
    assert "<textarea" not in page.content.decode()
    done = client_for(pastoral_a).post(reverse("pupil_safeguarding", args=[pupil.pk]), {"lead_kind": "lead"})
    assert done.status_code == 302
    referral = SafeguardingReferral.objects.get()
    family_page = client_for(lead_a).get(reverse("family_detail", args=[family_a.pk])).content.decode()
    assert (
        f"Passed to the safeguarding lead on {referral.passed_at.astimezone():%-d %B %Y} by Pat Pastor"
        in family_page
    )


def test_it_hides_referrals_from_everyone_but_the_pupils_own_schools_staff(
    client_for, pastoral_a, pastoral_b, admin, finance, family_ab, leads_a
):
    cleo = family_ab.pupils.get(school=leads_a)
    safeguarding.safeguarding_referral_record(pupil=cleo, actor=pastoral_a)
    shown = "Passed to the safeguarding lead on"
    assert shown in client_for(pastoral_a).get(reverse("family_detail", args=[family_ab.pk])).content.decode()
    for user in (pastoral_b, admin):
        page = client_for(user).get(reverse("family_detail", args=[family_ab.pk]))
        assert page.status_code == 200
        assert shown not in page.content.decode()
    assert client_for(finance).get(reverse("family_detail", args=[family_ab.pk])).status_code == 403
    assert safeguarding_referrals_visible_to(pastoral_b).count() == 0
    assert safeguarding_referrals_visible_to(admin).count() == 0


def test_it_lets_only_staff_of_the_pupils_school_pass_on_a_concern(
    api_for, pastoral_b, admin, finance, charity_staff, family_a, leads_a
):
    pupil = family_a.pupils.get()
    url = f"/api/v1/pupils/{pupil.pk}/safeguarding-referral/"
    assert api_for(pastoral_b).post(url, {}, format="json").status_code == 404
    assert api_for(admin).post(url, {}, format="json").status_code == 404
    assert api_for(finance).post(url, {}, format="json").status_code == 403
    assert api_for(charity_staff).post(url, {}, format="json").status_code == 403
    with pytest.raises(SupportError, match="Only staff at Alpha Primary Academy"):
        safeguarding.safeguarding_referral_record(pupil=pupil, actor=admin)
    assert not SafeguardingReferral.objects.exists()


def test_it_asks_for_the_lead_to_be_recorded_before_a_referral(api_for, pastoral_a, family_a):
    pupil = family_a.pupils.get()
    response = api_for(pastoral_a).post(
        f"/api/v1/pupils/{pupil.pk}/safeguarding-referral/", {}, format="json"
    )
    assert response.status_code == 400
    assert "has not recorded its designated safeguarding lead" in response.json()["lead_kind"][0]


def test_it_refuses_a_deputy_the_school_does_not_have(pastoral_a, family_a, school_a):
    school_a.safeguarding_lead = "Dana Lead"
    school_a.save()
    with pytest.raises(SupportError, match="Choose which safeguarding lead"):
        safeguarding.safeguarding_referral_record(
            pupil=family_a.pupils.get(), actor=pastoral_a, lead_kind="deputy"
        )


# --- Who the leads are ---------------------------------------------------------------------------


def test_it_lets_a_schools_pastoral_lead_record_its_safeguarding_leads(client_for, lead_a, school_a):
    url = reverse("school_safeguarding_leads", args=[school_a.pk])
    response = client_for(lead_a).post(url, {"lead": " Dana   Lead ", "deputy": "Dev Deputy"})
    assert response.status_code == 302
    school_a.refresh_from_db()
    assert (school_a.safeguarding_lead, school_a.safeguarding_deputy) == ("Dana Lead", "Dev Deputy")
    event = AuditEvent.objects.get(action="school.safeguarding_leads_set")
    assert event.after == {"safeguarding_lead": "Dana Lead", "safeguarding_deputy": "Dev Deputy"}
    home = client_for(lead_a).get(reverse("home")).content.decode()
    assert "Alpha Primary Academy: Dana Lead, deputy Dev Deputy." in home


def test_it_refuses_the_leads_page_to_pastoral_staff_and_other_schools_leads(
    client_for, pastoral_a, lead_b, school_a
):
    url = reverse("school_safeguarding_leads", args=[school_a.pk])
    assert client_for(pastoral_a).post(url, {"lead": "X"}).status_code == 403
    assert client_for(lead_b).post(url, {"lead": "X"}).status_code == 404
    with pytest.raises(SupportError):
        safeguarding.school_safeguarding_leads_set(school=school_a, actor=lead_b, lead="X")
    school_a.refresh_from_db()
    assert school_a.safeguarding_lead == ""


def test_it_needs_a_lead_name(lead_a, school_a):
    with pytest.raises(SupportError, match="Enter the designated safeguarding lead"):
        safeguarding.school_safeguarding_leads_set(school=school_a, actor=lead_a, lead="  ", deputy="Dev")


def test_it_lets_a_trust_admin_edit_the_leads_in_the_admin(client_for, admin, school_a):
    page = client_for(admin).get(reverse("admin:support_school_change", args=[school_a.pk])).content.decode()
    assert 'name="safeguarding_lead"' in page
    assert 'name="safeguarding_deputy"' in page


def test_it_leaves_referrals_out_of_a_subject_access_export(admin, pastoral_a, family_a, leads_a):
    from support import data_rights

    pupil = family_a.pupils.get()
    safeguarding.safeguarding_referral_record(pupil=pupil, actor=pastoral_a)
    data = data_rights.subject_access_data(family=family_a, actor=admin)
    assert "safeguarding" not in data_rights.subject_access_json(data).decode()
    assert AuditEvent.objects.filter(action="pupil.safeguarding_referred").exists()
