"""Pastoral voucher pages: issue from the family page, the voucher page, the list, the export, the admin."""

import csv
import datetime
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from support.models import AuditEvent, Role
from tests.factories import FamilyFactory, PupilFactory, consent_to, make_user
from vouchers import codes
from vouchers.models import Voucher, VoucherType
from vouchers.services import voucher_cancel, voucher_issue, voucher_redeem

State = Voucher.State


@pytest.fixture
def white_goods_type(partner_1):
    return VoucherType.objects.create(
        partner=partner_1,
        service="white_goods",
        name="White goods",
        face_value_pence=150_00,
        validity_days=56,
        limit_count=1,
        limit_window_days=365,
    )


@pytest.fixture
def consent(pastoral_a):
    def give(*families):
        for family in families:
            consent_to(family, pastoral_a)
            family.refresh_from_db()

    return give


@pytest.fixture
def pastoral_ab(school_a, school_b):
    """Pastoral staff at both schools."""
    return make_user("pastoral_ab", Role.PASTORAL, schools=[school_a, school_b])


def issue_at(family, voucher_type, school, by, **kwargs):
    kwargs.setdefault("referral_reason", "income_drop")
    return voucher_issue(family=family, voucher_type=voucher_type, school=school, issued_by=by, **kwargs)


def make_vouchers(n, *, family, voucher_type, school, by):
    """``n`` vouchers straight into the table (no limits): for list sizes, not for rules."""
    return Voucher.objects.bulk_create(
        Voucher(
            code=codes.generate_code(),
            voucher_type=voucher_type,
            family=family,
            school=school,
            face_value_pence=voucher_type.face_value_pence,
            issued_by=by,
            expires_on=timezone.localdate() + datetime.timedelta(days=28),
            referral_reason="debt",
            lead_carer_name=family.lead_carer_name,
            household_size=2,
        )
        for _ in range(n)
    )


def form_data(voucher_type, **changes):
    data = {
        "voucher_type": voucher_type.pk,
        "referral_reason": "income_drop",
        "referral_other": "",
        "household_size": 2,
        "dietary_needs": "",
        "fulfilment": "collection",
        "delivery": "print",
        "note_for_charity": "",
    }
    data.update(changes)
    return data


def body(response) -> str:
    return response.content.decode()


# --- Issue from the family page -------------------------------------------------------------


def test_it_issues_a_voucher_from_the_family_page_in_three_clicks(
    client_for, consent, pastoral_a, family_a, food_type, school_a
):
    consent(family_a)
    client = client_for(pastoral_a)
    issue_url = f"/families/{family_a.pk}/vouchers/new/"

    family_page = body(client.get(f"/families/{family_a.pk}/"))
    assert f'href="{issue_url}"' in family_page  # click 1
    form_page = client.get(issue_url)
    assert form_page.status_code == 200
    assert f'value="{food_type.pk}" class="govuk-radios__input"' in body(form_page)
    response = client.post(issue_url, form_data(food_type, note_for_charity="Ring twice"))  # click 2

    voucher = Voucher.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/vouchers/{voucher.pk}/"
    assert (voucher.family, voucher.school, voucher.issued_by) == (family_a, school_a, pastoral_a)
    assert voucher.note_for_charity == "Ring twice"
    page = body(client.get(response["Location"]))
    assert f"Voucher {voucher.display_code} issued." in page
    assert f'href="/vouchers/{voucher.pk}/pdf/"' in page  # click 3
    assert "Print voucher (PDF)" in page
    assert AuditEvent.objects.filter(action="voucher.issued", subject_id=str(voucher.pk)).exists()


def test_it_fills_in_the_household_from_the_family(client_for, consent, pastoral_a, family_a, food_type):
    family_a.adults, family_a.children, family_a.dietary_needs = 2, 3, "no pork"
    family_a.save()
    consent(family_a)
    page = body(client_for(pastoral_a).get(f"/families/{family_a.pk}/vouchers/new/"))
    assert 'name="household_size" value="5"' in page
    assert "From the family&#x27;s record: 2 adults, 3 children." in page
    assert 'name="dietary_needs" value="no pork"' in page
    assert 'value="collection" class="govuk-radios__input" id="id_fulfilment_0" required checked' in page
    assert "Issued by <strong>Alpha Primary Academy</strong>" in page


def test_it_says_when_consent_is_missing_and_offers_no_submit(client_for, pastoral_a, family_a, food_type):
    client = client_for(pastoral_a)
    url = f"/families/{family_a.pk}/vouchers/new/"
    page = body(client.get(url))
    assert "consent to share their details with a partner charity is not on record" in page
    assert f'href="/families/{family_a.pk}/#consent"' in page
    assert "Issue voucher</button>" not in page

    response = client.post(url, form_data(food_type))
    assert response.status_code == 400
    assert not Voucher.objects.exists()
    assert 'id="consent"' in body(client.get(f"/families/{family_a.pk}/"))


def test_it_shows_how_many_each_type_has_had_and_when_the_next_is_allowed(
    client_for, consent, issue, pastoral_a, family_a, food_type, white_goods_type
):
    consent(family_a)
    first = issue(family_a, food_type)
    Voucher.objects.filter(pk=first.pk).update(issued_at=timezone.now() - datetime.timedelta(days=100))
    issue(family_a, food_type)
    issue(family_a, food_type)

    page = body(client_for(pastoral_a).get(f"/families/{family_a.pk}/vouchers/new/"))

    next_allowed = timezone.localdate() + datetime.timedelta(days=84)
    assert "Limit reached" in page
    assert "Had 3 of 3 in the last 6 months." in page
    assert f"Next allowed from {next_allowed.day} {next_allowed:%B %Y}" in page
    assert "A pastoral lead at the school can override the limit" in page
    assert "Had 0 of 1 in the last 12 months." in page
    assert 'name="override_reason"' not in page  # pastoral staff cannot override


def test_it_offers_the_override_to_a_lead_only_at_the_limit(
    client_for, consent, issue, lead_a, family_a, food_type
):
    consent(family_a)
    client = client_for(lead_a)
    url = f"/families/{family_a.pk}/vouchers/new/"
    assert 'name="override_reason"' not in body(client.get(url))
    for _ in range(3):
        issue(family_a, food_type)
    page = body(client.get(url))
    assert 'name="override_reason"' in page
    assert "Override the limit: reason" in page
    assert "You can override the limit: give your reason under “Override the limit: reason” below" in page
    assert "A pastoral lead" not in page


def test_it_lets_a_lead_override_the_limit_from_the_form(
    client_for, consent, issue, lead_a, family_a, food_type
):
    consent(family_a)
    for _ in range(3):
        issue(family_a, food_type)
    client = client_for(lead_a)
    url = f"/families/{family_a.pk}/vouchers/new/"

    missing = client.post(url, form_data(food_type))
    assert missing.status_code == 400
    assert 'href="#id_override_reason"' in body(missing)
    assert "You can override the limit: give your reason in “Override the limit: reason”" in body(missing)
    assert "A pastoral lead" not in body(missing)
    assert Voucher.objects.count() == 3

    response = client.post(url, form_data(food_type, override_reason="Evicted on Friday"))
    assert response.status_code == 302
    voucher = Voucher.objects.latest("pk")
    assert voucher.limit_override_reason == "Evicted on Friday"
    event = AuditEvent.objects.get(action="voucher.limit_overridden", subject_id=str(voucher.pk))
    assert (event.actor, event.note) == (lead_a, "Evicted on Friday")
    assert "Evicted on Friday" in body(client.get(response["Location"]))


def test_it_shows_the_limit_refusal_to_pastoral_staff(
    client_for, consent, issue, pastoral_a, family_a, food_type, school_a
):
    consent(family_a)
    for _ in range(3):
        issue(family_a, food_type)
    response = client_for(pastoral_a).post(f"/families/{family_a.pk}/vouchers/new/", form_data(food_type))
    assert response.status_code == 400
    assert f"A pastoral lead at {school_a.name} can override the limit with a reason." in body(response)
    assert Voucher.objects.count() == 3


def test_it_puts_service_errors_on_the_right_field(client_for, consent, pastoral_a, family_a, food_type):
    consent(family_a)
    response = client_for(pastoral_a).post(
        f"/families/{family_a.pk}/vouchers/new/", form_data(food_type, referral_reason="other")
    )
    page = body(response)
    assert response.status_code == 400
    assert '<a href="#id_referral_other">Say what the reason for the referral is.</a>' in page
    assert 'id="id_referral_other_error"' in page
    assert "From the family&#x27;s record: 1 adult, 1 child." in page  # hints survive an error
    # The "other" box stays open to show its error.
    assert 'class="govuk-radios__conditional" id="conditional-referral-other"' in page
    assert not Voucher.objects.exists()


def test_it_asks_which_school_when_the_family_has_pupils_at_several(
    client_for, consent, pastoral_ab, family_ab, food_type, school_b
):
    consent(family_ab)
    client = client_for(pastoral_ab)
    url = f"/families/{family_ab.pk}/vouchers/new/"
    page = body(client.get(url))
    assert page.count('name="school"') == 2
    assert "Which school is issuing it?" in page

    assert client.post(url, form_data(food_type)).status_code == 400
    assert not Voucher.objects.exists()
    assert client.post(url, form_data(food_type, school=school_b.pk)).status_code == 302
    assert Voucher.objects.get().school == school_b


def test_it_issues_from_the_users_only_school_of_the_family_without_asking(
    client_for, consent, pastoral_a, family_ab, food_type, school_a, school_b
):
    consent(family_ab)
    client = client_for(pastoral_a)
    url = f"/families/{family_ab.pk}/vouchers/new/"
    assert 'name="school"' not in body(client.get(url))
    # A school posted anyway is ignored: the only school the user works at is the issuer.
    assert client.post(url, form_data(food_type, school=school_b.pk)).status_code == 302
    assert Voucher.objects.get().school == school_a


# --- The voucher page -----------------------------------------------------------------------


def test_it_shows_the_voucher_with_everything_staff_need(
    client_for, consent, pastoral_a, family_a, food_type, school_a
):
    consent(family_a)
    voucher = issue_at(
        family_a,
        food_type,
        school_a,
        pastoral_a,
        referral_reason="other",
        referral_other="Flooded kitchen",
        dietary_needs="halal",
        fulfilment="delivery",
        note_for_charity="Back door",
    )
    page = body(client_for(pastoral_a).get(f"/vouchers/{voucher.pk}/"))
    for text in (
        voucher.display_code,
        "Food parcel at First Food Bank, £25.00",
        "halal",
        "Delivery to the family",
        "Back door",
        "Other: Flooded kitchen",
        "Alpha Primary Academy",
        f'href="/families/{family_a.pk}/"',
        "Cancel voucher",
    ):
        assert text in page, text
    assert "data-confirm" not in page.split("Cancel this voucher")[1]  # a confirmation page, no pop-up
    assert "Extend voucher" not in page  # pastoral staff do not extend


def test_it_asks_before_cancelling_and_writes_nothing_until_confirmed(client_for, voucher, pastoral_a):
    response = client_for(pastoral_a).post(
        f"/vouchers/{voucher.pk}/cancel/", {"cancel-reason": "Issued twice"}
    )
    page = body(response)
    assert response.status_code == 200
    assert f"Are you sure you want to cancel voucher {voucher.display_code}?" in page
    assert "Issued twice" in page
    assert 'name="confirm" value="yes"' in page
    assert 'class="govuk-button govuk-button--warning"' in page
    assert f'href="/vouchers/{voucher.pk}/">No, keep the voucher' in page
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.ISSUED
    assert not AuditEvent.objects.filter(action="voucher.cancelled").exists()


def test_it_cancels_a_voucher_from_its_page(client_for, voucher, pastoral_a):
    client = client_for(pastoral_a)
    response = client.post(
        f"/vouchers/{voucher.pk}/cancel/", {"cancel-reason": "Issued twice", "confirm": "yes"}
    )
    assert response.status_code == 302
    voucher.refresh_from_db()
    assert (voucher.state, voucher.cancel_reason, voucher.cancelled_by) == (
        State.CANCELLED,
        "Issued twice",
        pastoral_a,
    )
    assert AuditEvent.objects.filter(action="voucher.cancelled", subject_id=str(voucher.pk)).count() == 1
    page = body(client.get(f"/vouchers/{voucher.pk}/"))
    assert 'govuk-tag--red">Cancelled' in page
    assert "/pdf/" not in page
    assert "Cancel voucher</button>" not in page
    assert "Send voucher" not in page


def test_it_needs_a_reason_to_cancel_from_the_page(client_for, voucher, pastoral_a):
    response = client_for(pastoral_a).post(f"/vouchers/{voucher.pk}/cancel/", {"cancel-reason": " "})
    assert response.status_code == 400
    assert '<a href="#id_cancel-reason">Give a reason for cancelling</a>' in body(response)
    voucher.refresh_from_db()
    assert voucher.state == State.ISSUED


def test_it_says_why_a_redeemed_voucher_cannot_be_cancelled(
    client_for, voucher, pastoral_a, partner_1, charity_staff
):
    voucher_redeem(voucher=voucher, partner=partner_1, redeemed_by=charity_staff, items_given="Tins")
    response = client_for(pastoral_a).post(f"/vouchers/{voucher.pk}/cancel/", {"cancel-reason": "Late"})
    assert response.status_code == 409
    assert "This voucher has already been redeemed" in body(response)
    voucher.refresh_from_db()
    assert voucher.state == State.REDEEMED


def test_it_lets_a_lead_extend_a_voucher_from_its_page(client_for, voucher, lead_a, pastoral_a):
    later = voucher.expires_on + datetime.timedelta(days=14)
    data = {"extend-expires_on": later.isoformat(), "extend-reason": "In hospital"}
    assert "Extend voucher" in body(client_for(lead_a).get(f"/vouchers/{voucher.pk}/"))
    assert client_for(pastoral_a).post(f"/vouchers/{voucher.pk}/extend/", data).status_code == 403

    response = client_for(lead_a).post(f"/vouchers/{voucher.pk}/extend/", data)

    assert response.status_code == 302
    voucher.refresh_from_db()
    assert voucher.expires_on == later
    event = AuditEvent.objects.get(action="voucher.extended", subject_id=str(voucher.pk))
    assert (event.actor, event.note) == (lead_a, "In hospital")


def test_it_shows_an_extension_error_on_the_date(client_for, voucher, lead_a):
    data = {"extend-expires_on": voucher.expires_on.isoformat(), "extend-reason": "Same day"}
    response = client_for(lead_a).post(f"/vouchers/{voucher.pk}/extend/", data)
    assert response.status_code == 400
    assert 'href="#id_extend-expires_on"' in body(response)


def test_it_never_offers_printing_or_sending_an_invalid_voucher(client_for, voucher, lead_a):
    Voucher.objects.filter(pk=voucher.pk).update(expires_on=timezone.localdate() - datetime.timedelta(days=1))
    page = body(client_for(lead_a).get(f"/vouchers/{voucher.pk}/"))
    assert 'govuk-tag--grey">Expired' in page
    assert "This voucher expired on" in page
    assert "/pdf/" not in page
    assert "Send voucher" not in page
    assert "Extend voucher" not in page
    list_page = body(client_for(lead_a).get("/vouchers/"))
    assert 'name="voucher"' not in list_page
    assert 'govuk-tag--grey">Expired' in list_page


def test_it_queues_the_voucher_to_the_family_and_audits_it(
    client_for, monkeypatch, voucher, family_a, pastoral_a
):
    family_a.email = "anna@example.org"
    family_a.save()
    sent = []
    monkeypatch.setattr("vouchers.notify.enqueue_on_commit", lambda *args: sent.append(args))
    client = client_for(pastoral_a)
    assert "E-mail to anna@example.org" in body(client.get(f"/vouchers/{voucher.pk}/"))

    response = client.post(f"/vouchers/{voucher.pk}/send/", {"send-channel": "sms"})
    assert response.status_code == 302
    response = client.post(f"/vouchers/{voucher.pk}/send/", {"send-channel": "email", "confirm": "yes"})
    assert response.status_code == 302

    sms, email = voucher.sends.order_by("pk")
    assert [(s.channel, s.address, s.requested_by) for s in (sms, email)] == [
        ("sms", family_a.phone, pastoral_a),
        ("email", "anna@example.org", pastoral_a),
    ]
    assert sent == [
        ("vouchers.send_to_family", str(sms.key), "http://testserver"),
        ("vouchers.send_to_family", str(email.key), "http://testserver"),
    ]
    events = AuditEvent.objects.filter(action="voucher.send_requested", subject_id=str(voucher.pk))
    assert sorted(e.after["channel"] for e in events) == ["email", "sms"]
    assert all(e.actor == pastoral_a for e in events)


def test_it_refuses_to_send_a_cancelled_voucher_or_by_a_channel_the_family_lacks(
    client_for, monkeypatch, voucher, family_a, pastoral_a
):
    sent = []
    monkeypatch.setattr("vouchers.notify.enqueue_on_commit", lambda *args: sent.append(args))
    client = client_for(pastoral_a)
    # family_a has a phone and no e-mail address.
    assert client.post(f"/vouchers/{voucher.pk}/send/", {"send-channel": "email"}).status_code == 400
    voucher_cancel(voucher=voucher, actor=pastoral_a, reason="Duplicate")
    response = client.post(f"/vouchers/{voucher.pk}/send/", {"send-channel": "sms"})
    assert response.status_code == 409
    assert "cancelled" in body(response)
    assert sent == []
    assert not voucher.sends.exists()
    assert not AuditEvent.objects.filter(action="voucher.send_requested").exists()


def test_it_shows_finance_the_voucher_read_only(client_for, consent, voucher, finance):
    Voucher.objects.filter(pk=voucher.pk).update(referral_reason="other", referral_other="Private matter")
    client = client_for(finance)
    page = body(client.get(f"/vouchers/{voucher.pk}/"))
    assert voucher.display_code in page
    for hidden in (
        "Cancel voucher",
        "Extend voucher",
        "Send voucher",
        "/pdf/",
        "Private matter",
        "/families/",
    ):
        assert hidden not in page, hidden
    assert client.post(f"/vouchers/{voucher.pk}/cancel/", {"cancel-reason": "x"}).status_code == 403
    voucher.refresh_from_db()
    assert voucher.state == State.ISSUED


# --- The list and the export ----------------------------------------------------------------


def test_it_filters_the_list_by_state_school_type_and_date(
    client_for, consent, pastoral_ab, family_a, family_b, food_type, white_goods_type, school_a, school_b
):
    consent(family_a, family_b)
    food_a = issue_at(family_a, food_type, school_a, pastoral_ab)
    goods_a = issue_at(family_a, white_goods_type, school_a, pastoral_ab)
    food_b = issue_at(family_b, food_type, school_b, pastoral_ab)
    voucher_cancel(voucher=goods_a, actor=pastoral_ab, reason="Wrong type")
    Voucher.objects.filter(pk=food_b.pk).update(issued_at=timezone.now() - datetime.timedelta(days=40))
    client = client_for(pastoral_ab)
    all_codes = {v.pk: v.display_code for v in (food_a, goods_a, food_b)}

    def shown(query):
        page = body(client.get(f"/vouchers/?{query}"))
        return {pk for pk, code in all_codes.items() if code in page}

    assert shown("") == {food_a.pk, goods_a.pk, food_b.pk}
    assert shown("state=cancelled") == {goods_a.pk}
    assert shown(f"school={school_b.pk}") == {food_b.pk}
    assert shown(f"voucher_type={food_type.pk}") == {food_a.pk, food_b.pk}
    since = (timezone.localdate() - datetime.timedelta(days=10)).isoformat()
    assert shown(f"issued_from={since}") == {food_a.pk, goods_a.pk}
    assert shown(f"issued_to={since}") == {food_b.pk}
    assert shown(f"family={family_b.pk}") == {food_b.pk}


def test_it_keeps_the_list_queries_flat(client_for, pastoral_a, family_a, food_type, school_a):
    client = client_for(pastoral_a)
    # More than a page from the start: a list that fits on one page needs no count query at all.
    make_vouchers(30, family=family_a, voucher_type=food_type, school=school_a, by=pastoral_a)
    client.get("/vouchers/")  # warm up: the session, content types
    with CaptureQueriesContext(connection) as few:
        assert client.get("/vouchers/").status_code == 200
    make_vouchers(40, family=family_a, voucher_type=food_type, school=school_a, by=pastoral_a)
    with CaptureQueriesContext(connection) as many:
        page = body(client.get("/vouchers/"))
    assert page.count('name="voucher"') == 25  # a page of 25
    assert len(many) == len(few)
    assert len(many) <= 12  # session, user, scope (2), count, page, the two filter lists, session save


def test_it_posts_the_selected_valid_vouchers_to_print(
    client_for, consent, voucher, issue, family_a, food_type, pastoral_a
):
    cancelled = issue(family_a, food_type)
    voucher_cancel(voucher=cancelled, actor=pastoral_a, reason="Duplicate")
    page = body(client_for(pastoral_a).get("/vouchers/"))
    assert 'action="/vouchers/print/"' in page
    assert f'name="voucher" type="checkbox" value="{voucher.pk}"' in page
    assert f'value="{cancelled.pk}"' not in page
    assert "Print selected (PDF)" in page


def test_it_shows_finance_every_voucher_without_print_or_issue(client_for, voucher, finance):
    page = body(client_for(finance).get("/vouchers/"))
    assert voucher.display_code in page
    assert "Print selected" not in page
    assert "/vouchers/print/" not in page
    assert 'href="/vouchers/export.csv"' in page
    # Finance may tick vouchers, but only to export them (issue 15.7).
    assert '<form method="post" action="/vouchers/export.csv" id="chosen-vouchers">' in page
    assert "Export selected (CSV)" in page


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_it_exports_the_filtered_vouchers_as_safe_csv(
    client_for, consent, issue, pastoral_a, food_type, school_a
):
    hostile = FamilyFactory(lead_carer_name='=HYPERLINK("http://x")')
    PupilFactory(family=hostile, school=school_a)
    consent(hostile)
    kept = issue(hostile, food_type, dietary_needs="")
    dropped = issue(hostile, food_type)
    voucher_cancel(voucher=dropped, actor=pastoral_a, reason="Duplicate")

    response = client_for(pastoral_a).get("/vouchers/export.csv?state=issued")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    header, *rows = read_csv(response)
    assert header[:5] == ["Code", "Type", "Partner", "School", "Lead carer"]
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["Code"] == kept.display_code
    assert row["Lead carer"] == '\'=HYPERLINK("http://x")'
    assert row["Face value (£)"] == "25.00"
    assert row["State"] == "Issued"
    event = AuditEvent.objects.get(action="vouchers.exported")
    assert (event.actor, event.after) == (pastoral_a, {"query": "state=issued"})


def test_it_leaves_carers_names_out_of_finances_export(client_for, voucher, finance):
    header, *rows = read_csv(client_for(finance).get("/vouchers/export.csv"))
    assert "Lead carer" not in header
    assert len(rows) == 1
    assert "Anna Able" not in rows[0]


# --- Who sees what: every door, every role ----------------------------------------------------

VISIBLE = {
    "pastoral_a": {"v_a"},
    "lead_a": {"v_a"},
    "pastoral_b": {"v_b", "v_ab_at_b"},
    "finance": {"v_a", "v_b", "v_ab_at_b"},
    "admin": {"v_a", "v_b", "v_ab_at_b"},
}
ALL_VOUCHERS = ("v_a", "v_b", "v_ab_at_b")


@pytest.fixture
def world(consent, family_a, family_b, family_ab, food_type, school_a, school_b, pastoral_a, pastoral_b):
    consent(family_a, family_b, family_ab)
    return {
        "v_a": issue_at(family_a, food_type, school_a, pastoral_a),
        "v_b": issue_at(family_b, food_type, school_b, pastoral_b),
        "v_ab_at_b": issue_at(family_ab, food_type, school_b, pastoral_b),
        "family_a": family_a,
        "family_b": family_b,
    }


@pytest.mark.parametrize("persona", [*VISIBLE, "charity_staff"])
def test_it_scopes_the_list_and_the_export(request, world, client_for, persona):
    client = client_for(request.getfixturevalue(persona))
    listing = client.get("/vouchers/")
    export = client.get("/vouchers/export.csv")
    if persona == "charity_staff":
        assert (listing.status_code, export.status_code) == (403, 403)
        return
    page = body(listing)
    exported = b"".join(export.streaming_content).decode()
    for name in ALL_VOUCHERS:
        code = world[name].display_code
        assert (code in page) == (name in VISIBLE[persona]), (persona, name)
        assert (code in exported) == (name in VISIBLE[persona]), (persona, name)


DETAIL_CASES = [
    (persona, name, 200 if name in visible else 404)
    for persona, visible in VISIBLE.items()
    for name in ALL_VOUCHERS
] + [("charity_staff", name, 403) for name in ALL_VOUCHERS]


@pytest.mark.parametrize(("persona", "name", "expected"), DETAIL_CASES)
def test_it_scopes_the_voucher_page_and_its_actions(request, world, client_for, persona, name, expected):
    client = client_for(request.getfixturevalue(persona))
    voucher = world[name]
    response = client.get(f"/vouchers/{voucher.pk}/")
    assert response.status_code == expected
    if expected != 200:
        assert voucher.display_code not in body(response)
        # Nor can anyone act on a voucher out of scope.
        assert client.post(f"/vouchers/{voucher.pk}/cancel/", {"cancel-reason": "x"}).status_code in (
            403,
            404,
        )
        voucher.refresh_from_db()
        assert voucher.state == State.ISSUED


ISSUE_CASES = [
    ("pastoral_a", "family_a", 200),
    ("lead_a", "family_a", 200),
    ("pastoral_b", "family_a", 404),
    ("pastoral_a", "family_b", 404),
    ("pastoral_b", "family_b", 200),
    ("admin", "family_b", 200),
    ("finance", "family_a", 403),
    ("charity_staff", "family_a", 403),
]


@pytest.mark.parametrize(("persona", "family", "expected"), ISSUE_CASES)
def test_it_scopes_the_issue_page(request, world, client_for, food_type, persona, family, expected):
    client = client_for(request.getfixturevalue(persona))
    url = f"/families/{world[family].pk}/vouchers/new/"
    assert client.get(url).status_code == expected
    before = Voucher.objects.count()
    response = client.post(url, form_data(food_type))
    assert response.status_code == (302 if expected == 200 else expected)
    assert Voucher.objects.count() == before + (1 if expected == 200 else 0)


def test_it_sends_anonymous_users_to_sign_in(world, client):
    voucher = world["v_a"]
    for url in (
        "/vouchers/",
        "/vouchers/export.csv",
        f"/vouchers/{voucher.pk}/",
        f"/families/{world['family_a'].pk}/vouchers/new/",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/")


def test_it_lists_on_the_family_page_only_vouchers_from_the_users_schools(
    client_for, consent, family_ab, food_type, school_a, school_b, pastoral_a, pastoral_b
):
    consent(family_ab)
    at_a = issue_at(family_ab, food_type, school_a, pastoral_a)
    at_b = issue_at(family_ab, food_type, school_b, pastoral_b)
    page = body(client_for(pastoral_a).get(f"/families/{family_ab.pk}/"))
    assert f'href="/vouchers/{at_a.pk}/"' in page
    assert at_a.display_code in page
    assert f'href="/vouchers/{at_b.pk}/"' not in page
    assert at_b.display_code not in page
    assert "Beta Secondary Academy" not in page


def test_it_links_to_all_the_familys_vouchers_when_there_are_many(
    client_for, pastoral_a, family_a, food_type, school_a
):
    make_vouchers(7, family=family_a, voucher_type=food_type, school=school_a, by=pastoral_a)
    page = body(client_for(pastoral_a).get(f"/families/{family_a.pk}/"))
    panel = page.split('id="timeline"')[0]  # the history below links every voucher too
    assert len(re.findall(r'href="/vouchers/\d+/"', panel)) == 5
    assert f'href="/vouchers/?family={family_a.pk}">See all 7 vouchers for this family' in page


@pytest.mark.parametrize(
    ("persona", "shown", "hidden"),
    [
        ("pastoral_a", ["Vouchers"], ["Check a voucher", "Redeemed"]),
        ("finance", ["Vouchers", "Redeemed"], ["Check a voucher"]),
        ("charity_staff", ["Check a voucher", "Redeemed"], [">Vouchers<"]),
    ],
)
def test_it_shows_each_role_its_voucher_pages_in_the_menu(request, client_for, persona, shown, hidden):
    page = body(client_for(request.getfixturevalue(persona)).get("/"))
    nav = page[page.index('aria-label="Main"') : page.index("Sign out")]
    for label in shown:
        assert f">{label}<" in nav, label
    for label in hidden:
        assert label not in nav, label


# --- The admin --------------------------------------------------------------------------------


def test_it_lets_a_trust_admin_manage_types_and_read_vouchers(
    client_for, voucher, food_type, admin, partner_1, charity_staff
):
    voucher_redeem(voucher=voucher, partner=partner_1, redeemed_by=charity_staff)
    client = client_for(admin)
    assert "Food parcel" in body(client.get("/admin/vouchers/vouchertype/"))
    typed = voucher.display_code.lower()
    (other,) = make_vouchers(
        1, family=voucher.family, voucher_type=food_type, school=voucher.school, by=admin
    )
    found = body(client.get(f"/admin/vouchers/voucher/?q={typed}"))
    assert voucher.display_code in found
    assert other.display_code not in found
    assert voucher.display_code in body(client.get(f"/admin/vouchers/redemption/?q={typed}"))
    assert client.get("/admin/vouchers/voucher/add/").status_code == 403
    change = body(client.get(f"/admin/vouchers/voucher/{voucher.pk}/change/"))
    assert voucher.public_token not in change
    assert 'name="state"' not in change  # read only

    response = client.post(
        f"/admin/vouchers/vouchertype/{food_type.pk}/change/",
        {
            "partner": partner_1.pk,
            "service": "food_parcel",
            "name": "Food parcel",
            "face_value_pence": "30.00",  # the admin speaks pounds
            "validity_days": 28,
            "limit_count": "",
            "limit_window_days": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    food_type.refresh_from_db()
    assert food_type.face_value_pence == 30_00
    event = AuditEvent.objects.get(action="vouchertype.updated")
    assert (event.before, event.after) == ({"face_value_pence": 25_00}, {"face_value_pence": 30_00})


@pytest.mark.parametrize("persona", ["pastoral_a", "lead_a", "finance", "charity_staff"])
def test_it_keeps_everyone_else_out_of_the_voucher_admin(request, client_for, voucher, persona):
    client = client_for(request.getfixturevalue(persona))
    for url in ("/admin/vouchers/voucher/", "/admin/vouchers/vouchertype/", "/admin/vouchers/redemption/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize(
    ("days", "said"),
    [
        (183, "6 months"),
        (365, "12 months"),
        (28, "4 weeks"),
        (7, "1 week"),
        (30, "1 month"),
        (100, "100 days"),
    ],
)
def test_it_says_the_window_as_people_do(days, said):
    from vouchers.web.pastoral import window_label

    assert window_label(days) == said
