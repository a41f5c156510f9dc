"""The referral doors: the API (scoped, idempotent, in the schema), the pages, the statement, the voucher
types no longer issued as counter codes, and the family's timeline."""

import datetime

import pytest
from django.utils import timezone

from deliveries.models import Referral
from tests.deliveries.conftest import item
from vouchers import statements
from vouchers.selectors import voucher_types_available

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def cooker(refer, white_goods):
    return refer(item(white_goods, "Cooker"))[0]


def test_the_api_lists_only_the_partners_referrals(client_for, cooker, charity_staff, other_charity_staff):
    mine = client_for(charity_staff).get("/api/v1/referrals/").json()
    assert [r["id"] for r in mine["results"]] == [cooker.pk]
    assert mine["results"][0]["delivery_address"].startswith("1 Mill Lane")
    # Which family record it is stays the school's.
    assert "family" not in mine["results"][0]
    assert client_for(other_charity_staff).get("/api/v1/referrals/").json()["results"] == []
    assert client_for(other_charity_staff).get(f"/api/v1/referrals/{cooker.pk}/").status_code == 404


def test_the_api_filters_by_state(client_for, cooker, charity_staff):
    client = client_for(charity_staff)
    assert len(client.get("/api/v1/referrals/?state=new").json()["results"]) == 1
    assert client.get("/api/v1/referrals/?state=delivered").json()["results"] == []
    assert client.get("/api/v1/referrals/?state=nonsense").status_code == 400


def test_an_api_accept_is_idempotent_by_state_and_by_key(client_for, cooker, charity_staff, fund):
    from funds.models import LedgerEntry

    client = client_for(charity_staff)
    url = f"/api/v1/referrals/{cooker.pk}/accept/"
    body = {"expected_on": (TODAY + datetime.timedelta(days=2)).isoformat()}
    first = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 200, first.content
    assert first.json()["state"] == "accepted"
    again = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert again["Idempotent-Replayed"] == "true"
    # Without a key, the same move with the same facts is still one move.
    assert client.post(url, body, content_type="application/json").status_code == 200
    assert LedgerEntry.objects.filter(kind="commitment").count() == 1


def test_an_api_move_the_table_refuses_is_a_conflict(client_for, cooker, charity_staff):
    client = client_for(charity_staff)
    url = f"/api/v1/referrals/{cooker.pk}/"
    assert (
        client.post(url + "decline/", {"reason": "No stock"}, content_type="application/json").status_code
        == 200
    )
    answer = client.post(
        url + "deliver/", {"delivered_on": TODAY.isoformat()}, content_type="application/json"
    )
    assert answer.status_code == 409
    assert client.get(url).json()["delivery_address"] == ""


def test_the_school_cancels_through_the_api(client_for, cooker, pastoral_a, charity_staff):
    url = f"/api/v1/referrals/{cooker.pk}/cancel/"
    assert (
        client_for(charity_staff).post(url, {"reason": "x"}, content_type="application/json").status_code
        == 403
    )
    answer = client_for(pastoral_a).post(url, {"reason": "Moved away"}, content_type="application/json")
    assert answer.status_code == 200
    assert answer.json()["state"] == "cancelled"


def test_the_inbox_and_the_page_show_the_address_only_while_open(client_for, cooker, charity_staff):
    client = client_for(charity_staff)
    assert "Cooker" in client.get("/deliveries/?state=new").content.decode()
    page = client.get(f"/deliveries/{cooker.pk}/").content.decode()
    assert "1 Mill Lane" in page
    assert "+447700900123" in page
    moved = client.post(
        f"/deliveries/{cooker.pk}/decline/", {"decline-reason": "No cookers until March"}, follow=True
    )
    page = moved.content.decode()
    assert "No cookers until March" in page
    assert "1 Mill Lane" not in page
    assert "+447700900123" not in page


def test_a_school_may_not_move_it_on_the_charitys_behalf(client_for, cooker, pastoral_a):
    answer = client_for(pastoral_a).post(f"/deliveries/{cooker.pk}/accept/", {"accept-expected_on": TODAY})
    assert answer.status_code == 403
    assert Referral.objects.get(pk=cooker.pk).state == Referral.State.NEW


def test_a_bad_date_is_a_form_error(client_for, cooker, charity_staff):
    yesterday = TODAY - datetime.timedelta(days=1)
    answer = client_for(charity_staff).post(
        f"/deliveries/{cooker.pk}/accept/", {"accept-expected_on": yesterday}
    )
    assert answer.status_code == 400
    assert "Choose a date from today on." in answer.content.decode()


def test_the_refer_page_shows_capacity_and_makes_referrals(
    client_for, pastoral_a, family_a, white_goods, furniture
):
    from tests.factories import consent_to

    consent_to(family_a, pastoral_a, white_goods.voucher_type.partner)
    client = client_for(pastoral_a)
    page = client.get(f"/families/{family_a.pk}/refer-for-delivery/").content.decode()
    assert "1 of 1 places left this week" in page  # furniture takes one a week
    answer = client.post(
        f"/families/{family_a.pk}/refer-for-delivery/",
        {
            "items": [item(furniture, "Bed").pk, item(furniture, "Sofa").pk],
            "school": family_a.pupils.first().school_id,
            "adults": 2,
            "children_under_5": 0,
            "children_5_to_11": 1,
            "children_12_to_17": 0,
            "delivery_address": "1 Mill Lane",
            "delivery_postcode": "RV1 1AA",
            "delivery_phone": "0113 496 0000",
        },
    )
    assert answer.status_code == 302
    states = dict(Referral.objects.values_list("item__name", "state"))
    assert states == {"Bed": "new", "Sofa": "waiting"}


def test_the_charity_sets_its_capacity(client_for, charity_staff, other_charity_staff, white_goods):
    url = f"/deliveries/services/{white_goods.pk}/capacity/"
    assert client_for(other_charity_staff).get(url).status_code == 404
    answer = client_for(charity_staff).post(url, {"capacity_per_week": 4})
    assert answer.status_code == 302
    white_goods.refresh_from_db()
    assert white_goods.capacity_per_week == 4


def test_the_statement_lists_deliveries_beside_redemptions(cooker, charity_staff, partner_1):
    from deliveries.services import referral_accept, referral_deliver

    referral_accept(referral=cooker, actor=charity_staff, expected_on=TODAY)
    referral_deliver(referral=cooker, actor=charity_staff, delivered_on=TODAY, delivered_what="Cooker")
    rows = list(statements.statement_csv_rows(partner=partner_1, month=statements.current_month()))
    assert ["Deliveries"] in rows
    assert any(row[:2] == [f"{TODAY:%d/%m/%Y}", "Cooker"] for row in rows)
    assert rows[-1] == ["Total: Deliveries", "1", "", "", "180.00"]


def test_a_partner_that_delivers_nothing_has_no_deliveries_section(partner_2):
    assert statements.statement_sections(partner=partner_2, month=statements.current_month()) == []


def test_a_delivered_type_is_referred_not_issued_as_a_voucher(white_goods, partner_1):
    from tests.vouchers.factories import VoucherTypeFactory

    food = VoucherTypeFactory(partner=partner_1, service="food_parcel")
    available = set(voucher_types_available())
    assert food in available
    assert white_goods.voucher_type not in available


def test_the_family_timeline_shows_each_step(
    client_for, cooker, charity_staff, pastoral_a, pastoral_b, family_a
):
    from deliveries.services import referral_accept
    from deliveries.timeline import referral_timeline_entries

    referral_accept(referral=cooker, actor=charity_staff, expected_on=TODAY)
    titles = [e.title for e in referral_timeline_entries(user=pastoral_a, family=family_a, limit=10)]
    assert titles[:2] == ["Cooker accepted for delivery", "Cooker referred for delivery"]
    assert referral_timeline_entries(user=pastoral_b, family=family_a, limit=10) == []
    page = client_for(pastoral_a).get(f"/families/{family_a.pk}/").content.decode()
    assert "Cooker accepted for delivery" in page
    assert "Refer for delivery" in page


def test_finance_reads_the_referral_behind_a_ledger_entry_without_the_family(cooker, charity_staff):
    from deliveries.fund_sources import describe_referrals
    from deliveries.services import referral_accept

    referral_accept(referral=cooker, actor=charity_staff, expected_on=TODAY)
    facts = describe_referrals([str(cooker.pk)])[str(cooker.pk)]
    text = str(facts)
    assert "Cooker" in text
    assert "Mill Lane" not in text
    assert "Anna" not in text


def test_home_tells_the_charity_what_is_new_and_the_school_what_the_charity_did(
    client_for, cooker, charity_staff, pastoral_a, pastoral_b
):
    from deliveries.services import referral_decline

    charity_home = client_for(charity_staff).get("/").content.decode()
    assert "New delivery referrals to answer" in charity_home
    assert "/deliveries/?state=new" in charity_home
    assert "latest from the charity" not in client_for(pastoral_a).get("/").content.decode()
    referral_decline(referral=cooker, actor=charity_staff, reason="No cookers until March")
    school_home = client_for(pastoral_a).get("/").content.decode()
    assert "Deliveries: latest from the charity" in school_home
    assert "No cookers until March" in school_home
    assert "No cookers until March" not in client_for(pastoral_b).get("/").content.decode()


def test_the_statement_pdf_lists_the_delivery(cooker, charity_staff, partner_1):
    from deliveries.services import referral_accept, referral_deliver
    from tests.e2e.browser import pdf_text

    referral_accept(referral=cooker, actor=charity_staff, expected_on=TODAY)
    referral_deliver(
        referral=cooker, actor=charity_staff, delivered_on=TODAY, delivered_what="Cooker, reconditioned"
    )
    text = pdf_text(statements.statement_preview_pdf(partner=partner_1, month=statements.current_month()))
    assert "Deliveries" in text
    assert "Cooker, reconditioned" in text
    assert "Anna" not in text  # the statement names no family
