"""Redemption at the counter (page) and from partner systems (API): exactly once, and nothing leaks."""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from support.models import AuditEvent
from vouchers import codes
from vouchers.models import Redemption, Voucher
from vouchers.qr import redemption_url
from vouchers.services import voucher_cancel


@pytest.fixture
def api_for():
    def make(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def unknown_code() -> str:
    while True:
        code = codes.generate_code()
        if not Voucher.objects.filter(code=code).exists():
            return code


def mistyped(code: str) -> str:
    swapped = "1" if code[3] != "1" else "2"
    return code[:3] + swapped + code[4:]


# --- The counter page ----------------------------------------------------------------------


def test_it_opens_the_page_from_the_qr_url_after_sign_in(client, voucher, charity_staff):
    url = redemption_url(voucher.code)
    path = url.removeprefix(settings.SITE_URL)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    client.force_login(charity_staff)
    assert client.get(path).status_code == 200


def test_it_shows_the_counter_only_what_it_needs(client_for, voucher, charity_staff, family_a):
    body = client_for(charity_staff).get(f"/redeem/{voucher.code}/").content.decode()
    assert "Valid" in body
    assert voucher.display_code in body
    assert "Anna Able" in body  # the lead carer's name, as printed on the voucher
    assert "Alfie" not in body  # no pupil names
    assert family_a.postcode not in body  # no address
    assert "Redeem this voucher" in body


def test_it_redeems_once_with_one_button(client_for, voucher, charity_staff):
    client = client_for(charity_staff)
    response = client.post(
        f"/redeem/{voucher.code}/", {"items_given": "Parcel for 2", "value": "18.50"}, follow=True
    )
    body = response.content.decode()
    assert "Hand over the food parcel for 2 people" in body
    assert "Do not hand anything over" not in body
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.REDEEMED
    redemption = Redemption.objects.get(voucher=voucher)
    assert redemption.value_pence == 1850
    assert redemption.redeemed_by == charity_staff
    assert AuditEvent.objects.filter(action="voucher.redeemed", subject_id=str(voucher.pk)).count() == 1

    again = client.post(f"/redeem/{voucher.code}/", {}, follow=True).content.decode()
    assert "already been redeemed" in again
    assert "Do not hand anything over" in again
    assert "Hand over the" not in again
    assert "Redeem this voucher" not in again
    assert Redemption.objects.count() == 1


def test_it_accepts_a_code_typed_loosely(client_for, voucher, charity_staff):
    typed = codes.display(voucher.code).lower().replace("-", " ")
    response = client_for(charity_staff).post("/redeem/", {"code": typed}, follow=True)
    assert voucher.display_code in response.content.decode()


def test_it_catches_a_mistyped_code_before_looking_it_up(client_for, voucher, charity_staff):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(charity_staff)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/redeem/{mistyped(voucher.code)}/")
    assert response.status_code == 400
    assert "typing mistake" in response.content.decode()
    assert not [q for q in queries.captured_queries if "vouchers_voucher" in q["sql"]]


@pytest.mark.parametrize(
    ("make_code", "message"),
    [(lambda v: unknown_code(), "No voucher for your charity has this code")],
)
def test_it_says_when_no_voucher_has_the_code(client_for, voucher, charity_staff, make_code, message):
    response = client_for(charity_staff).get(f"/redeem/{make_code(voucher)}/")
    assert response.status_code == 404
    assert message in response.content.decode()


def test_it_refuses_another_charitys_voucher_and_shows_nothing_of_it(
    client_for, voucher, other_charity_staff
):
    client = client_for(other_charity_staff)
    response = client.get(f"/redeem/{voucher.code}/")
    body = response.content.decode()
    assert response.status_code == 404
    # The same answer as a code that matches nothing (issue 13): nothing says the code exists.
    assert "No voucher for your charity has this code" in body
    assert "Anna Able" not in body
    assert voucher.voucher_type.name + "</h1>" not in body
    client.post(f"/redeem/{voucher.code}/", {})
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.ISSUED


def test_it_refuses_a_cancelled_voucher(client_for, voucher, charity_staff, pastoral_a):
    voucher_cancel(voucher=voucher, actor=pastoral_a, reason="Issued by mistake")
    client = client_for(charity_staff)
    body = client.get(f"/redeem/{voucher.code}/").content.decode()
    assert "cancelled by the school" in body
    assert "Redeem this voucher" not in body
    client.post(f"/redeem/{voucher.code}/", {})
    assert not Redemption.objects.exists()


def test_it_refuses_a_voucher_past_its_date_even_before_the_nightly_expiry(
    client_for, voucher, charity_staff
):
    Voucher.objects.filter(pk=voucher.pk).update(expires_on=timezone.localdate() - datetime.timedelta(days=1))
    client = client_for(charity_staff)
    assert "expired on" in client.get(f"/redeem/{voucher.code}/").content.decode()
    client.post(f"/redeem/{voucher.code}/", {})
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.ISSUED
    assert not Redemption.objects.exists()


def test_it_keeps_school_staff_and_finance_away_from_the_counter(client_for, voucher, pastoral_a, finance):
    for user in (pastoral_a, finance):
        assert client_for(user).get(f"/redeem/{voucher.code}/").status_code == 403


def test_it_locks_lookups_after_repeated_misses_and_audits_it(client_for, voucher, charity_staff, settings):
    settings.VOUCHER_LOOKUP_USER_MISSES = 5
    client = client_for(charity_staff)
    for _ in range(5):
        assert client.get(f"/redeem/{unknown_code()}/").status_code == 404
    locked = client.get(f"/redeem/{voucher.code}/")  # even a real code, now
    assert locked.status_code == 429
    assert "paused" in locked.content.decode()
    assert "Anna Able" not in locked.content.decode()
    event = AuditEvent.objects.get(action="voucher.lookup_locked")
    assert event.actor == charity_staff


def test_it_lists_redemptions_with_a_monthly_total_and_csv(
    client_for, issue, family_a, family_ab, food_type, charity_staff, other_charity_staff, api_for
):
    first, second = issue(family_a, food_type), issue(family_ab, food_type)
    for v in (first, second):
        api_for(charity_staff).post(f"/api/v1/redeem/{v.code}/redeem/", {}, format="json")
    page = client_for(charity_staff).get("/redemptions/").content.decode()
    assert "£50.00" in page
    assert first.display_code in page
    export = client_for(charity_staff).get("/redemptions/export.csv").content.decode()
    assert first.display_code in export
    assert "25.00" in export
    assert first.display_code not in client_for(other_charity_staff).get("/redemptions/").content.decode()


# --- The API -------------------------------------------------------------------------------


def test_it_checks_a_code_through_the_api_with_a_token(voucher, charity_staff):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=charity_staff).key}")
    response = client.get(f"/api/v1/redeem/{voucher.display_code.lower()}/")
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is True
    assert body["household_size"] == 2
    assert body["display_code"] == voucher.display_code
    assert "family" not in body


@pytest.mark.parametrize(
    ("code_for", "expected_status", "expected_code"),
    [
        (lambda v: mistyped(v.code), 400, "mistyped"),
        (lambda v: unknown_code(), 404, "unknown"),
    ],
)
def test_it_refuses_bad_codes_through_the_api(
    api_for, voucher, charity_staff, code_for, expected_status, expected_code
):
    response = api_for(charity_staff).get(f"/api/v1/redeem/{code_for(voucher)}/")
    assert response.status_code == expected_status
    assert response.json()["code"] == expected_code


def test_it_hides_another_charitys_voucher_in_the_api(api_for, voucher, other_charity_staff):
    for response in (
        api_for(other_charity_staff).get(f"/api/v1/redeem/{voucher.code}/"),
        api_for(other_charity_staff).post(f"/api/v1/redeem/{voucher.code}/redeem/", {}, format="json"),
    ):
        assert response.status_code == 404
        assert "Anna" not in response.content.decode()
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.ISSUED


def test_it_redeems_through_the_api_and_answers_409_the_second_time(api_for, voucher, charity_staff):
    client = api_for(charity_staff)
    first = client.post(f"/api/v1/redeem/{voucher.code}/redeem/", {"value_pence": 2000}, format="json")
    assert first.status_code == 201
    assert first.json()["state"] == "redeemed"
    second = client.post(f"/api/v1/redeem/{voucher.code}/redeem/", {}, format="json")
    assert second.status_code == 409
    assert second.json()["code"] == "redeemed"
    assert "already been redeemed" in second.json()["detail"]


def test_it_replays_the_first_answer_to_a_retry_with_the_same_key(api_for, voucher, charity_staff):
    client = api_for(charity_staff)
    url = f"/api/v1/redeem/{voucher.code}/redeem/"
    first = client.post(url, {"items_given": "parcel"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    retry = client.post(url, {"items_given": "parcel"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert Redemption.objects.count() == 1
    changed = client.post(url, {"items_given": "two parcels"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert changed.status_code == 422
    assert changed.json()["code"] == "idempotency_key_reused"


def test_it_replays_a_refusal_too(api_for, voucher, charity_staff, pastoral_a):
    voucher_cancel(voucher=voucher, actor=pastoral_a, reason="Mistake")
    client = api_for(charity_staff)
    url = f"/api/v1/redeem/{voucher.code}/redeem/"
    first = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    retry = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert first.status_code == retry.status_code == 409
    assert retry.json() == first.json()


def test_it_binds_the_key_to_the_user(api_for, issue, family_a, food_type, charity_staff, partner_1):
    from tests.factories import make_user

    colleague = make_user("charity_1b", "charity", partner=partner_1)
    one, two = issue(family_a, food_type), issue(family_a, food_type)
    assert (
        api_for(charity_staff)
        .post(f"/api/v1/redeem/{one.code}/redeem/", {}, format="json", HTTP_IDEMPOTENCY_KEY="shared")
        .status_code
        == 201
    )
    # The same key from another user is a different request, not a replay.
    assert (
        api_for(colleague)
        .post(f"/api/v1/redeem/{two.code}/redeem/", {}, format="json", HTTP_IDEMPOTENCY_KEY="shared")
        .status_code
        == 201
    )
    assert Redemption.objects.count() == 2


def test_it_keeps_the_redeem_endpoint_queries_constant(
    api_for, issue, family_a, food_type, charity_staff, django_assert_num_queries
):
    client = api_for(charity_staff)
    one, two = issue(family_a, food_type), issue(family_a, food_type)
    client.get("/api/v1/redeem/" + one.code + "/")  # scope cached per request: warm nothing else
    counts = []
    for v in (one, two):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.post(f"/api/v1/redeem/{v.code}/redeem/", {}, format="json").status_code == 201
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[0] <= 20


def test_it_locks_api_lookups_too(api_for, charity_staff, settings):
    settings.VOUCHER_LOOKUP_USER_MISSES = 3
    client = api_for(charity_staff)
    statuses = [client.get(f"/api/v1/redeem/{unknown_code()}/").status_code for _ in range(5)]
    assert statuses == [404, 404, 404, 429, 429]


def test_it_issues_cancels_and_prints_through_the_api(api_for, pastoral_a, family_a, food_type, school_a):
    from tests.factories import consent_to

    consent_to(family_a, pastoral_a)
    client = api_for(pastoral_a)
    created = client.post(
        "/api/v1/vouchers/",
        {
            "family": family_a.pk,
            "voucher_type": food_type.pk,
            "school": school_a.pk,
            "referral_reason": "debt",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    voucher_id = created.json()["id"]
    pdf = client.get(f"/api/v1/vouchers/{voucher_id}/pdf/")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    cancelled = client.post(
        f"/api/v1/vouchers/{voucher_id}/cancel/", {"reason": "Wrong family"}, format="json"
    )
    assert cancelled.json()["state"] == "cancelled"
    assert client.get(f"/api/v1/vouchers/{voucher_id}/pdf/").status_code == 409


def test_it_refuses_to_issue_for_a_family_out_of_scope(api_for, pastoral_b, family_a, food_type, school_b):
    response = api_for(pastoral_b).post(
        "/api/v1/vouchers/",
        {
            "family": family_a.pk,
            "voucher_type": food_type.pk,
            "school": school_b.pk,
            "referral_reason": "debt",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "family" in response.json()
    assert "Anna" not in response.content.decode()
    assert not Voucher.objects.exists()


def test_it_scopes_the_voucher_api(api_for, voucher, pastoral_a, pastoral_b, finance, charity_staff):
    assert [v["id"] for v in api_for(pastoral_a).get("/api/v1/vouchers/").json()["results"]] == [voucher.pk]
    assert api_for(pastoral_b).get("/api/v1/vouchers/").json()["results"] == []
    assert api_for(pastoral_b).get(f"/api/v1/vouchers/{voucher.pk}/").status_code == 404
    assert api_for(finance).get(f"/api/v1/vouchers/{voucher.pk}/").status_code == 200
    assert api_for(charity_staff).get("/api/v1/vouchers/").status_code == 403


def test_it_expires_vouchers_nightly_and_only_once(voucher, eager):
    from vouchers.tasks import expire_vouchers

    Voucher.objects.filter(pk=voucher.pk).update(expires_on=timezone.localdate() - datetime.timedelta(days=1))
    assert expire_vouchers.delay().get() == 1
    assert expire_vouchers.delay().get() == 0
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.EXPIRED
    assert AuditEvent.objects.filter(action="voucher.expired").count() == 1
    assert "vouchers.expire_vouchers" in {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}


def test_it_counts_misses_per_client_address_behind_a_proxy(client_for, charity_staff, settings, partner_1):
    from tests.factories import make_user

    settings.NUM_PROXIES = 1
    settings.VOUCHER_LOOKUP_IP_MISSES = 3
    settings.VOUCHER_LOOKUP_USER_MISSES = 100
    colleague = make_user("charity_1c", "charity", partner=partner_1)
    # Three misses from one counter's address lock that address...
    for _ in range(3):
        client_for(charity_staff).get(f"/redeem/{unknown_code()}/", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert (
        client_for(colleague)
        .get(f"/redeem/{unknown_code()}/", HTTP_X_FORWARDED_FOR="203.0.113.7")
        .status_code
        == 429
    )
    # ...but not every counter behind the same proxy.
    assert (
        client_for(colleague)
        .get(f"/redeem/{unknown_code()}/", HTTP_X_FORWARDED_FOR="198.51.100.9")
        .status_code
        == 404
    )


def test_an_ipv6_counter_cannot_slip_the_address_lockout_by_changing_address(
    client_for, charity_staff, settings, partner_1
):
    from tests.factories import make_user

    settings.VOUCHER_LOOKUP_IP_MISSES = 3
    settings.VOUCHER_LOOKUP_USER_MISSES = 100
    colleague = make_user("charity_1c", "charity", partner=partner_1)
    for host in (1, 2, 3):  # three addresses of one /64
        client_for(charity_staff).get(f"/redeem/{unknown_code()}/", REMOTE_ADDR=f"2001:db8:7:8::{host}")

    def look_up(address: str) -> int:
        return client_for(colleague).get(f"/redeem/{unknown_code()}/", REMOTE_ADDR=address).status_code

    assert look_up("2001:db8:7:8::99") == 429  # another address of that /64
    assert look_up("2001:db8:7:9::1") == 404  # another network


def test_it_throttles_code_lookups_by_rate_too(api_for, voucher, charity_staff, monkeypatch):
    from support.api.throttles import RateThrottle

    # The throttle reads the rates once, into the class; patch them there (monkeypatch restores them).
    monkeypatch.setattr(RateThrottle, "THROTTLE_RATES", {"user": "1000/hour", "voucher_lookup": "3/minute"})
    statuses = [api_for(charity_staff).get(f"/api/v1/redeem/{voucher.code}/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


# --- Issue 13: the value given, stopped services, and one answer for any code not ours ------------


def test_it_refuses_a_value_given_above_the_face_value_and_redeems_nothing(api_for, voucher, charity_staff):
    response = api_for(charity_staff).post(
        f"/api/v1/redeem/{voucher.code}/redeem/", {"value_pence": 100_000_00}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "over_face_value"
    assert "at most the voucher's face value, £25.00" in body["detail"]
    assert body["value_pence"] == [body["detail"]]
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.ISSUED
    assert not Redemption.objects.exists()


def test_it_accepts_a_value_given_equal_to_the_face_value(api_for, voucher, charity_staff):
    response = api_for(charity_staff).post(
        f"/api/v1/redeem/{voucher.code}/redeem/", {"value_pence": 25_00}, format="json"
    )
    assert response.status_code == 201
    assert Redemption.objects.get().value_pence == 25_00


def test_it_refuses_a_value_above_the_face_value_at_the_counter_page(client_for, voucher, charity_staff):
    response = client_for(charity_staff).post(
        f"/redeem/{voucher.code}/", {"items_given": "Parcel", "value": "100000"}, follow=True
    )
    assert "at most the voucher&#x27;s face value, £25.00" in response.content.decode()
    assert not Redemption.objects.exists()


def test_it_answers_an_unknown_code_and_another_charitys_code_alike(api_for, voucher, other_charity_staff):
    client = api_for(other_charity_staff)
    theirs = client.get(f"/api/v1/redeem/{voucher.code}/")
    nobodys = client.get(f"/api/v1/redeem/{unknown_code()}/")
    assert theirs.status_code == nobodys.status_code == 404
    assert theirs.json()["code"] == nobodys.json()["code"] == "unknown"
    assert theirs.json()["detail"] == nobodys.json()["detail"]
    assert "Check the code with the family" in theirs.json()["detail"]


def test_it_keeps_the_machine_code_and_a_sentence_for_a_mistyped_code(api_for, voucher, charity_staff):
    response = api_for(charity_staff).get(f"/api/v1/redeem/{mistyped(voucher.code)}/")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "mistyped"  # the machine code is not overwritten by the message ...
    assert "typing mistake" in body["detail"]  # ... nor the message by the code


def test_it_does_not_issue_a_service_the_charity_has_stopped(issue, family_a, food_type, partner_1):
    from support.errors import SupportError
    from support.models import PartnerService
    from vouchers.selectors import voucher_types_available

    PartnerService.objects.update_or_create(
        partner=partner_1, service="food_parcel", defaults={"is_active": False}
    )
    assert food_type not in voucher_types_available()
    with pytest.raises(SupportError) as refused:
        issue(family_a, food_type)
    assert refused.value.code == "service_stopped"
    assert not Voucher.objects.exists()


def test_the_api_does_not_issue_a_stopped_service_nor_one_given_another_way(
    api_for, lead_a, family_a, food_type, partner_1, school_a
):
    """The issue reads whether the type is offered with the type itself (one query): still refused."""
    from deliveries.models import DeliveredService
    from support.models import PartnerService
    from tests.factories import consent_to

    consent_to(family_a, lead_a, partner_1)
    body = {"family": family_a.pk, "voucher_type": food_type.pk, "school": school_a.pk}
    body["referral_reason"] = "low_income"
    stopped, _ = PartnerService.objects.update_or_create(
        partner=partner_1, service="food_parcel", defaults={"is_active": False}
    )
    response = api_for(lead_a).post("/api/v1/vouchers/", body, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "service_stopped")
    PartnerService.objects.filter(pk=stopped.pk).update(is_active=True)
    DeliveredService.objects.create(voucher_type=food_type)
    response = api_for(lead_a).post("/api/v1/vouchers/", body, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "service_stopped")
    DeliveredService.objects.all().delete()
    assert api_for(lead_a).post("/api/v1/vouchers/", body, format="json").status_code == 201


def test_it_honours_a_voucher_issued_before_its_service_stopped_and_says_so(
    client_for, api_for, voucher, charity_staff, partner_1
):
    from support.models import PartnerService

    PartnerService.objects.update_or_create(
        partner=partner_1, service="food_parcel", defaults={"is_active": False}
    )
    check = api_for(charity_staff).get(f"/api/v1/redeem/{voucher.code}/").json()
    assert check["valid"] is True
    assert "no longer offers this service for new vouchers" in check["notice"]
    page = client_for(charity_staff).get(f"/redeem/{voucher.code}/").content.decode()
    assert "honour it" in page
    response = client_for(charity_staff).post(f"/redeem/{voucher.code}/", {"items_given": "Parcel"})
    assert response.status_code == 302
    assert Redemption.objects.get().voucher == voucher


def test_it_prints_the_stopped_service_rule_on_the_voucher(voucher):
    from vouchers.models import SERVICE_STOPPED_RULE
    from vouchers.pdf import vouchers_html

    assert SERVICE_STOPPED_RULE in vouchers_html([voucher])
    assert "even if the charity stops offering this service" in SERVICE_STOPPED_RULE


def test_a_server_error_after_the_work_keeps_neither_the_work_nor_the_key(
    api_for, voucher, charity_staff, monkeypatch
):
    """The keyed request's work and its answer commit together: an answer of 500 rolls the work back too,
    so a retry with the same key redeems, rather than meeting "already redeemed"."""
    from support.models import IdempotencyRecord
    from vouchers import api as vouchers_api

    class Broken(vouchers_api.RedemptionSerializer):
        @classmethod
        def represent_object(cls, *args, **kwargs):
            raise RuntimeError("the answer could not be built")

    monkeypatch.setattr(vouchers_api, "RedemptionSerializer", Broken)
    client = api_for(charity_staff)
    url = f"/api/v1/redeem/{voucher.code}/redeem/"
    failed = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="k-500")
    assert failed.status_code == 500
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.ISSUED
    assert not Redemption.objects.exists()
    assert not IdempotencyRecord.objects.filter(key="k-500").exists()
    monkeypatch.undo()
    retry = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="k-500")
    assert retry.status_code == 201
    assert Redemption.objects.count() == 1
