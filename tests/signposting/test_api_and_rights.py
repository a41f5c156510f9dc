import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from signposting.data_rights import anonymise_signposts
from signposting.merges import signposts_move_family
from signposting.models import Signpost
from signposting.services import signpost_record
from support.data_rights import ANONYMISED, audit_events_about, subject_access_data

pytestmark = pytest.mark.django_db


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_records_a_referral_only_with_consent(pastoral_a, family_a, college):
    client = _api(pastoral_a)
    body = {"family": family_a.pk, "agency": college.pk, "kind": "referral"}
    refused = client.post("/api/v1/signposts/", body, format="json")
    assert refused.status_code == 400
    assert not Signpost.objects.exists()
    made = client.post("/api/v1/signposts/", {**body, "consent_method": "phone"}, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["consent_method"] == "phone"
    assert made.json()["consent_recorded_by"] == pastoral_a.pk


def test_the_api_refuses_a_safeguarding_service(pastoral_a, family_a, social_care):
    response = _api(pastoral_a).post(
        "/api/v1/signposts/",
        {"family": family_a.pk, "agency": social_care.pk, "kind": "signpost"},
        format="json",
    )
    assert response.status_code == 400
    assert "designated safeguarding lead" in response.content.decode()
    assert not Signpost.objects.exists()


def test_the_api_records_an_outcome_and_another_school_cannot(pastoral_a, pastoral_b, family_a, college):
    signpost = signpost_record(family=family_a, agency=college, kind="signpost", actor=pastoral_a)
    url = reverse("signpost-outcome", args=[signpost.pk])
    assert _api(pastoral_b).post(url, {"outcome": "engaged"}, format="json").status_code == 404
    response = _api(pastoral_a).post(url, {"outcome": "engaged"}, format="json")
    assert response.status_code == 200
    assert response.json()["outcome"] == "engaged"
    assert _api(pastoral_a).post(url, {"outcome": "declined"}, format="json").status_code == 409


def test_finance_gets_no_signpost_through_the_api(finance, pastoral_a, family_a, college):
    signpost_record(family=family_a, agency=college, kind="signpost", actor=pastoral_a)
    assert _api(finance).get("/api/v1/signposts/").status_code == 403
    assert _api(finance).get("/api/v1/agencies/").status_code == 403


def test_subject_access_holds_the_signposts_and_their_audit(pastoral_a, family_a, college):
    signpost = signpost_record(
        family=family_a,
        agency=college,
        kind="referral",
        consent_method="phone",
        note="Wants ESOL",
        actor=pastoral_a,
    )
    data = subject_access_data(family=family_a)
    [row] = data["signposts"]
    assert row["agency"] == college.name
    assert row["note"] == "Wants ESOL"
    assert row["consent_method"] == "By phone"
    assert any(e.subject_id == str(signpost.pk) for e in audit_events_about(family_a))


def test_anonymisation_strips_the_free_text_and_keeps_the_facts(pastoral_a, family_a, college):
    signpost = signpost_record(
        family=family_a,
        kind="early_help",
        lead_professional="Sam Okafor",
        note="Housing worry",
        actor=pastoral_a,
    )
    anonymise_signposts(family_a)
    signpost.refresh_from_db()
    assert signpost.note == ANONYMISED
    assert signpost.lead_professional == ANONYMISED
    assert signpost.kind == "early_help"


def test_a_merge_moves_the_signposts_to_the_kept_family(pastoral_a, family_a, college, school_a):
    from tests.factories import FamilyFactory, PupilFactory

    kept = FamilyFactory()
    PupilFactory(family=kept, school=school_a)
    signpost = signpost_record(family=family_a, agency=college, kind="signpost", actor=pastoral_a)
    assert signposts_move_family(source=family_a, target=kept, actor=pastoral_a) == {
        "signposts_moved": [signpost.pk]
    }
    signpost.refresh_from_db()
    assert signpost.family == kept
