"""A voucher for a partner needs the family's consent naming that partner (issue 20, item 1):
refused without it, on the page and the API, with a message naming the partner; issued with it;
stopped by a withdrawal."""

import datetime

import pytest
from rest_framework.test import APIClient

from support.consents import family_consent_record, family_consent_withdraw
from support.errors import SupportError
from tests.factories import consent_to
from tests.vouchers.test_pastoral import body, form_data
from vouchers.models import Voucher
from vouchers.services import voucher_issue, voucher_send_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_for():
    def make(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def _issue(family, voucher_type, school, user):
    return voucher_issue(
        family=family, voucher_type=voucher_type, school=school, issued_by=user, referral_reason="debt"
    )


def test_it_refuses_a_voucher_for_a_partner_the_family_has_not_consented_to(
    family_a, food_type, other_food_type, school_a, pastoral_a, partner_1, partner_2
):
    consent_to(family_a, pastoral_a, partner_2)  # consent to another partner is not consent to this one
    with pytest.raises(SupportError) as refused:
        _issue(family_a, food_type, school_a, pastoral_a)
    assert refused.value.field == "consent"
    assert "First Food Bank" in refused.value.message
    assert not Voucher.objects.exists()
    assert _issue(family_a, other_food_type, school_a, pastoral_a).voucher_type == other_food_type


def test_it_issues_a_voucher_once_that_partners_consent_is_recorded(
    family_a, food_type, school_a, pastoral_a, partner_1
):
    family_consent_record(family=family_a, partner=partner_1, actor=pastoral_a, method="phone")
    voucher = _issue(family_a, food_type, school_a, pastoral_a)
    assert voucher.voucher_type.partner == partner_1


def test_it_stops_new_vouchers_once_consent_is_withdrawn_and_keeps_those_issued(
    family_a, food_type, school_a, pastoral_a, partner_1
):
    consent_to(family_a, pastoral_a, partner_1)
    issued = _issue(family_a, food_type, school_a, pastoral_a)
    family_consent_withdraw(family=family_a, partner=partner_1, actor=pastoral_a)
    with pytest.raises(SupportError, match="First Food Bank"):
        _issue(family_a, food_type, school_a, pastoral_a)
    issued.refresh_from_db()
    assert issued.state == Voucher.State.ISSUED
    # Consent given again is a new record; the withdrawn one stays as history.
    consent_to(family_a, pastoral_a, partner_1, given_on=datetime.date.today())
    assert _issue(family_a, food_type, school_a, pastoral_a)
    assert family_a.consents.count() == 2


def test_the_issue_page_refuses_a_partner_without_consent_and_names_it(
    client_for, family_a, food_type, other_food_type, pastoral_a, partner_2
):
    consent_to(family_a, pastoral_a, partner_2)
    client = client_for(pastoral_a)
    url = f"/families/{family_a.pk}/vouchers/new/"
    page = body(client.get(url))
    assert "No consent" in page
    assert "has not consented to sharing their details with First Food Bank" in page
    response = client.post(url, form_data(food_type))
    assert response.status_code == 400
    assert "The family has not consented to sharing their details with First Food Bank" in body(response)
    assert not Voucher.objects.exists()
    response = client.post(url, form_data(other_food_type))
    assert response.status_code == 302
    assert Voucher.objects.get().voucher_type == other_food_type


def test_the_issue_page_sends_staff_to_record_consent_when_there_is_none(
    client_for, family_a, food_type, pastoral_a
):
    client = client_for(pastoral_a)
    url = f"/families/{family_a.pk}/vouchers/new/"
    page = body(client.get(url))
    assert "consent to share their details with a partner charity is not on record" in page
    assert client.post(url, form_data(food_type)).status_code == 400
    assert not Voucher.objects.exists()


def test_the_api_refuses_a_partner_without_consent_and_names_it(
    api_for, family_a, food_type, school_a, pastoral_a, partner_1
):
    payload = {
        "family": family_a.pk,
        "voucher_type": food_type.pk,
        "school": school_a.pk,
        "referral_reason": "debt",
    }
    refused = api_for(pastoral_a).post("/api/v1/vouchers/", payload, format="json")
    assert refused.status_code == 400
    assert "First Food Bank" in str(refused.json())
    assert not Voucher.objects.exists()

    recorded = api_for(pastoral_a).post(
        f"/api/v1/families/{family_a.pk}/consent/",
        {"partner": partner_1.pk, "given": True, "method": "in_person"},
        format="json",
    )
    assert recorded.status_code == 200
    assert api_for(pastoral_a).post("/api/v1/vouchers/", payload, format="json").status_code == 201

    withdrawn = api_for(pastoral_a).post(
        f"/api/v1/families/{family_a.pk}/consent/", {"partner": partner_1.pk, "given": False}, format="json"
    )
    assert withdrawn.status_code == 200
    assert withdrawn.json()["consents"][0]["withdrawn_on"] is not None
    again = api_for(pastoral_a).post("/api/v1/vouchers/", payload, format="json")
    assert again.status_code == 400
    assert Voucher.objects.count() == 1


def test_sending_the_family_its_own_voucher_needs_no_consent(
    eager,  # the send task runs here, even in CI's pass with a real worker
    family_a,
    food_type,
    school_a,
    pastoral_a,
    partner_1,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    family_a.email = "anna@example.org"
    family_a.save()
    consent_to(family_a, pastoral_a, partner_1)
    voucher = _issue(family_a, food_type, school_a, pastoral_a)
    family_consent_withdraw(family=family_a, partner=partner_1, actor=pastoral_a)
    # Sending the family its own voucher rests on the school's public task, not on consent to share.
    with django_capture_on_commit_callbacks(execute=True):
        sent = voucher_send_request(voucher=voucher, actor=pastoral_a, channel="email")
    assert sent.address == "anna@example.org"
    assert [m.to for m in mailoutbox] == [["anna@example.org"]]
