"""A restricted contact, or one without parental responsibility, receives nothing by any channel: no
e-mail, no text message, no name printed on a voucher; a voucher names and goes to an allowed contact."""

import io

import pytest
from django.core import mail
from pypdf import PdfReader

from support.contacts import contact_create, contact_update
from support.errors import ConflictError, SupportError
from support.models import AuditEvent
from tests.factories import consent_to
from vouchers.models import Voucher, VoucherSend
from vouchers.pdf import render_voucher_pdf
from vouchers.services import voucher_cancel, voucher_record_print, voucher_send_request
from vouchers.sms import LocMemSMSBackend

DAN_EMAIL, DAN_PHONE = "dan@example.org", "+447400123456"
ANNA_EMAIL, ANNA_PHONE = "anna@example.org", "+447400123457"


@pytest.fixture(autouse=True)
def texts(settings, eager):
    settings.SMS_BACKEND = "vouchers.sms.LocMemSMSBackend"
    LocMemSMSBackend.outbox = []
    return LocMemSMSBackend.outbox


@pytest.fixture
def court_order(family_a, lead_a):
    """family_a's first contact is a father under a court order; the mother (second) may be told.
    The household's own e-mail and phone (the lead carer fields) are the father's."""
    family_a.email, family_a.phone = DAN_EMAIL, DAN_PHONE
    family_a.lead_carer_name = "Dan Able"
    family_a.save()
    dan = contact_create(
        family=family_a, actor=lead_a, name="Dan Able", relationship="Father", priority=1,
        parental_responsibility=True, email=DAN_EMAIL, phone=DAN_PHONE, restriction="court_order",
        restriction_note="Prohibited steps order",
    )  # fmt: skip
    anna = contact_create(
        family=family_a, actor=lead_a, name="Anna Able", relationship="Mother", priority=2,
        parental_responsibility=True, lives_with_pupil=True, email=ANNA_EMAIL, phone=ANNA_PHONE,
    )  # fmt: skip
    return dan, anna


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def sent_to() -> list[str]:
    return [address for message in mail.outbox for address in message.to] + [
        text["to"] for text in LocMemSMSBackend.outbox
    ]


def test_it_names_and_prints_the_allowed_contact_never_the_restricted_one(
    issue, family_a, food_type, court_order
):
    voucher = issue(family_a, food_type)
    assert voucher.lead_carer_name == "Anna Able"
    text = pdf_text(render_voucher_pdf(voucher))
    assert "Anna Able" in text
    assert "Dan" not in text


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_it_sends_the_voucher_to_the_allowed_contact_only(
    issue, family_a, food_type, court_order, channel, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        voucher = issue(family_a, food_type, delivery=channel)
        voucher_send_request(voucher=voucher, actor=voucher.issued_by, channel=channel)
    assert sent_to() == [ANNA_EMAIL if channel == "email" else ANNA_PHONE] * 2
    assert DAN_EMAIL not in str(mail.outbox and mail.outbox[0].body)


def test_it_refuses_a_voucher_when_no_contact_may_be_told(issue, family_a, food_type, court_order, lead_a):
    _dan, anna = court_order
    contact_update(contact=anna, actor=lead_a, parental_responsibility=False)
    for delivery in ("print", "email", "sms"):
        with pytest.raises(SupportError) as refused:
            issue(family_a, food_type, delivery=delivery)
        assert refused.value.code == "no_allowed_contact"
    assert not Voucher.objects.exists()
    assert sent_to() == []


def test_it_never_uses_an_address_a_restricted_contact_shares(
    issue, family_a, food_type, court_order, lead_a
):
    _dan, anna = court_order
    contact_update(contact=anna, actor=lead_a, email=DAN_EMAIL)  # one inbox for both: it reaches him too
    with pytest.raises(SupportError) as refused:
        issue(family_a, food_type, delivery="email")
    assert refused.value.field == "delivery"
    assert sent_to() == []


def test_it_stops_a_queued_send_when_a_restriction_is_recorded_before_it_goes(
    issue, family_a, food_type, court_order, lead_a, django_capture_on_commit_callbacks
):
    _dan, anna = court_order
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        voucher = issue(family_a, food_type, delivery="email")
    contact_update(contact=anna, actor=lead_a, restriction="no_contact")
    for deliver in callbacks:
        deliver()
    assert sent_to() == []
    assert voucher.sends.get().status == VoucherSend.Status.SKIPPED


def test_it_sends_no_cancellation_notice_to_a_contact_restricted_since(
    issue, family_a, food_type, court_order, lead_a, django_capture_on_commit_callbacks
):
    _dan, anna = court_order
    with django_capture_on_commit_callbacks(execute=True):
        voucher = issue(family_a, food_type, delivery="sms")
    assert sent_to() == [ANNA_PHONE]
    contact_update(contact=anna, actor=lead_a, restriction="other", restriction_note="Police advice")
    with django_capture_on_commit_callbacks(execute=True):
        voucher_cancel(voucher=voucher, actor=lead_a, reason="Issued in error")
    assert sent_to() == [ANNA_PHONE]
    assert voucher.sends.get(kind=VoucherSend.Kind.CANCELLED).status == VoucherSend.Status.SKIPPED


def test_it_refuses_to_print_a_voucher_naming_a_contact_restricted_since(
    issue, family_a, food_type, court_order, lead_a
):
    _dan, anna = court_order
    voucher = issue(family_a, food_type)
    contact_update(contact=anna, actor=lead_a, restriction="no_contact")
    with pytest.raises(ConflictError):
        voucher_record_print(vouchers=[voucher], actor=lead_a)
    assert not AuditEvent.objects.filter(action="voucher.printed").exists()


def test_it_still_reaches_a_family_recorded_by_hand_with_no_contacts_at_its_lead_carer(
    issue, family_a, food_type, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        voucher = issue(family_a, food_type, delivery="sms")
    assert voucher.lead_carer_name == family_a.lead_carer_name
    assert sent_to() == [family_a.phone]


def test_the_issue_page_offers_only_the_allowed_contacts_addresses(
    family_a, court_order, pastoral_a, client_for, food_type
):
    consent_to(family_a, pastoral_a)
    page = client_for(pastoral_a).get(f"/families/{family_a.pk}/vouchers/new/").content.decode()
    assert f"E-mail it to Anna Able at {ANNA_EMAIL}" in page
    assert f"Text it to Anna Able at {ANNA_PHONE}" in page
    assert DAN_EMAIL not in page
    assert DAN_PHONE not in page
