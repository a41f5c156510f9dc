"""Sending a family its voucher: only as staff chose, every send listed, never twice, a cancelled voucher
followed by word that it can no longer be used; and links that point where the app is served."""

import io
import os
import subprocess
import uuid
from pathlib import Path

import pytest
from django.core import mail
from pypdf import PdfReader
from rest_framework.test import APIClient

from support.errors import SupportError
from support.models import AuditEvent
from tests.factories import consent_to
from vouchers import notify
from vouchers.models import Voucher, VoucherSend
from vouchers.services import voucher_cancel, voucher_send_request
from vouchers.sms import LocMemSMSBackend

BASE_DIR = Path(__file__).resolve().parents[2]
Status, Kind = VoucherSend.Status, VoucherSend.Kind


@pytest.fixture(autouse=True)
def texts(settings, eager):
    """Text messages sent, as {"to", "body"}; e-mail is Django's mail.outbox. Tasks run in-process."""
    settings.SMS_BACKEND = "vouchers.sms.LocMemSMSBackend"
    LocMemSMSBackend.outbox = []
    return LocMemSMSBackend.outbox


@pytest.fixture
def api_for():
    def make(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def consent(pastoral_a):
    def give(family):
        consent_to(family, pastoral_a)
        family.refresh_from_db()

    return give


@pytest.fixture
def reachable(family_a):
    family_a.email = "anna@example.org"
    family_a.save()
    return family_a


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).replace("\n", "")


def body(response) -> str:
    return response.content.decode()


# --- Sent only as staff chose ------------------------------------------------------------------


def test_it_sends_nothing_when_staff_print_the_voucher(
    issue, reachable, food_type, texts, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        voucher = issue(reachable, food_type)
    assert voucher.delivery == "print"
    assert mail.outbox == []
    assert texts == []
    assert not voucher.sends.exists()


def test_it_emails_the_voucher_when_staff_choose_email_and_records_the_send(
    issue, reachable, food_type, pastoral_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        voucher = issue(reachable, food_type, delivery="email")
    (message,) = mail.outbox
    assert message.to == ["anna@example.org"]
    assert voucher.display_code in message.body
    assert message.attachments[0][2] == "application/pdf"
    send = voucher.sends.get()
    assert (send.kind, send.channel, send.address, send.requested_by, send.status) == (
        Kind.VOUCHER,
        "email",
        "anna@example.org",
        pastoral_a,
        Status.SENT,
    )
    assert send.sent_at is not None
    actions = list(
        AuditEvent.objects.filter(subject_id=str(voucher.pk), action__startswith="voucher.sen")
        .order_by("pk")
        .values_list("action", "actor")
    )
    assert actions == [("voucher.send_requested", pastoral_a.pk), ("voucher.sent", None)]


def test_it_texts_the_voucher_when_staff_choose_text(
    issue, family_a, food_type, texts, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        voucher = issue(family_a, food_type, delivery="sms")
    assert [t["to"] for t in texts] == [family_a.phone]
    assert voucher.display_code in texts[0]["body"]
    assert mail.outbox == []
    assert voucher.sends.get().status == Status.SENT


def test_it_refuses_a_way_the_family_has_no_address_for(issue, family_a, food_type):
    with pytest.raises(SupportError) as refused:
        issue(family_a, food_type, delivery="email")  # family_a has a phone, no e-mail address
    assert refused.value.field == "delivery"
    assert not Voucher.objects.exists()
    with pytest.raises(SupportError):
        issue(family_a, food_type, delivery="pigeon")


# --- Never twice ---------------------------------------------------------------------------------


def test_it_never_sends_the_same_message_twice_when_the_task_is_redelivered(
    issue, reachable, food_type, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        voucher = issue(reachable, food_type, delivery="email")
    (deliver,) = callbacks
    deliver()
    deliver()  # the broker delivers the same message again (acks_late, a worker lost)
    send = voucher.sends.get()
    assert notify.voucher_send_deliver(key=str(send.key)) == "already-claimed"
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.filter(action="voucher.sent").count() == 1


def test_it_leaves_a_message_a_dead_worker_claimed_unsent(
    issue, reachable, food_type, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        voucher = issue(reachable, food_type, delivery="email")
    send = voucher.sends.get()
    VoucherSend.objects.filter(pk=send.pk).update(status=Status.SENDING)  # claimed, then the worker died
    assert notify.voucher_send_deliver(key=str(send.key)) == "already-claimed"
    assert mail.outbox == []


def test_it_marks_a_failed_send_and_sends_it_once_on_retry(
    issue, reachable, food_type, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        voucher = issue(reachable, food_type, delivery="email")
    send = voucher.sends.get()
    real_send = mail.EmailMessage.send

    def refused(self, *args, **kwargs):
        raise ConnectionError("mail server away")

    monkeypatch.setattr(mail.EmailMessage, "send", refused)
    with pytest.raises(ConnectionError):
        notify.voucher_send_deliver(key=str(send.key))
    send.refresh_from_db()
    assert send.status == Status.FAILED
    assert "mail server away" in send.note
    monkeypatch.setattr(mail.EmailMessage, "send", real_send)
    assert notify.voucher_send_deliver(key=str(send.key)) == "sent"
    assert notify.voucher_send_deliver(key=str(send.key)) == "already-claimed"
    assert len(mail.outbox) == 1


def test_it_sends_once_when_the_send_form_is_submitted_twice(
    client_for, voucher, reachable, pastoral_a, django_capture_on_commit_callbacks
):
    client = client_for(pastoral_a)
    page = body(client.get(f"/vouchers/{voucher.pk}/"))
    assert 'name="send-key"' in page
    key = str(uuid.uuid4())
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/vouchers/{voucher.pk}/send/", {"send-channel": "email", "send-key": key}
            )
        assert response.status_code == 302
    assert voucher.sends.count() == 1
    assert len(mail.outbox) == 1
    # Another form (another key) is a deliberate resend: asked on a page first, then sent.
    again = {"send-channel": "email", "send-key": str(uuid.uuid4())}
    check = client.post(f"/vouchers/{voucher.pk}/send/", again)
    assert "to the family again?" in body(check)
    assert "data-confirm" not in page
    assert voucher.sends.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/vouchers/{voucher.pk}/send/", {**again, "confirm": "yes"})
    assert voucher.sends.count() == 2
    assert len(mail.outbox) == 2


def test_it_will_not_reuse_another_vouchers_send_key(issue, voucher, reachable, food_type, pastoral_a):
    other = issue(reachable, food_type)
    first = voucher_send_request(voucher=voucher, actor=pastoral_a, channel="sms")
    with pytest.raises(SupportError):
        voucher_send_request(voucher=other, actor=pastoral_a, channel="sms", key=str(first.key))


# --- Cancelling tells the family -----------------------------------------------------------------


def test_it_tells_the_family_the_way_it_was_sent_when_a_sent_voucher_is_cancelled(
    issue, reachable, food_type, pastoral_a, lead_a, texts, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        voucher = issue(reachable, food_type, delivery="email")
    with django_capture_on_commit_callbacks(execute=True):
        voucher_send_request(voucher=voucher, actor=pastoral_a, channel="sms")
        voucher_send_request(voucher=voucher, actor=pastoral_a, channel="sms")  # a resend: told once
    with django_capture_on_commit_callbacks(execute=True):
        voucher_cancel(voucher=voucher, actor=lead_a, reason="Issued to the wrong family")

    assert [m.to for m in mail.outbox] == [["anna@example.org"], ["anna@example.org"]]
    cancelled = mail.outbox[1]
    assert "cancelled" in cancelled.subject
    assert "can no longer be used" in cancelled.body
    assert cancelled.attachments == []
    assert "wrong family" not in cancelled.body  # the reason is the school's, not the family's
    assert len(texts) == 3
    assert "can no longer be used" in texts[2]["body"]
    notices = voucher.sends.filter(kind=Kind.CANCELLED)
    assert sorted(notices.values_list("channel", "requested_by", "status")) == [
        ("email", lead_a.pk, Status.SENT),
        ("sms", lead_a.pk, Status.SENT),
    ]


def test_it_tells_nobody_when_a_printed_voucher_is_cancelled(
    issue, reachable, food_type, pastoral_a, texts, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        voucher = issue(reachable, food_type)
        voucher_cancel(voucher=voucher, actor=pastoral_a, reason="Duplicate")
    assert mail.outbox == []
    assert texts == []
    assert not voucher.sends.exists()


def test_it_does_not_send_a_voucher_cancelled_before_its_message_went(
    issue, reachable, food_type, pastoral_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as waiting:
        voucher = issue(reachable, food_type, delivery="email")
    with django_capture_on_commit_callbacks(execute=True):
        voucher_cancel(voucher=voucher, actor=pastoral_a, reason="Duplicate")
    for callback in waiting:  # the worker gets to it only now
        callback()
    assert mail.outbox == []
    send = voucher.sends.get()
    assert (send.status, send.note) == (Status.SKIPPED, "The voucher was cancelled before it was sent.")


# --- The pages and the API -----------------------------------------------------------------------


def test_it_asks_how_the_family_gets_it_defaulting_to_the_way_last_chosen(
    client_for, consent, issue, reachable, food_type, pastoral_a
):
    consent(reachable)
    client = client_for(pastoral_a)
    url = f"/families/{reachable.pk}/vouchers/new/"
    page = body(client.get(url))
    assert "How does the family get the voucher?" in page
    assert "E-mail it to anna@example.org" in page
    assert f"Text it to {reachable.phone}" in page
    assert 'value="print" class="govuk-radios__input" id="id_delivery_0" checked' in page
    issue(reachable, food_type, delivery="sms")
    page = body(client.get(url))
    assert 'value="sms" class="govuk-radios__input" id="id_delivery_2" checked' in page


def test_it_says_what_was_sent_when_the_voucher_is_issued(
    client_for, consent, reachable, food_type, pastoral_a, django_capture_on_commit_callbacks
):
    from tests.vouchers.test_pastoral import form_data

    consent(reachable)
    client = client_for(pastoral_a)
    url = f"/families/{reachable.pk}/vouchers/new/"
    printed = client.post(url, form_data(food_type), follow=True)
    assert "Print it for the family: nothing has been sent to them." in body(printed)
    assert "e-mailed" not in body(printed)
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        emailed = client.post(url, form_data(food_type, delivery="email"), follow=True)
    assert "It is being e-mailed to anna@example.org." in body(emailed)
    assert len(mail.outbox) == 1


def test_it_lists_every_send_on_the_voucher_page_for_staff_only(
    client_for, issue, reachable, food_type, pastoral_a, finance, django_capture_on_commit_callbacks
):
    pastoral_a.first_name, pastoral_a.last_name = "Pat", "Storal"
    pastoral_a.save()
    with django_capture_on_commit_callbacks(execute=True):
        voucher = issue(reachable, food_type, delivery="email")
    page = body(client_for(pastoral_a).get(f"/vouchers/{voucher.pk}/"))
    assert "Sent to the family" in page
    assert "E-mail to anna@example.org" in page
    assert "Pat Storal" in page
    assert 'govuk-tag--green">Sent</strong>' in page
    assert "Send voucher again" in page
    assert "Send it again" in page
    finance_page = body(client_for(finance).get(f"/vouchers/{voucher.pk}/"))
    assert "anna@example.org" not in finance_page
    assert "Sent to the family" not in finance_page


def test_it_issues_with_a_delivery_choice_and_shows_sends_to_staff_in_the_api(
    api_for,
    consent,
    reachable,
    food_type,
    school_a,
    pastoral_a,
    finance,
    charity_staff,
    django_capture_on_commit_callbacks,
):
    consent(reachable)
    with django_capture_on_commit_callbacks(execute=True):
        created = api_for(pastoral_a).post(
            "/api/v1/vouchers/",
            {
                "family": reachable.pk,
                "voucher_type": food_type.pk,
                "school": school_a.pk,
                "referral_reason": "debt",
                "delivery": "email",
            },
            format="json",
        )
    assert created.status_code == 201, created.json()
    assert created.json()["delivery"] == "email"
    assert [m.to for m in mail.outbox] == [["anna@example.org"]]
    url = f"/api/v1/vouchers/{created.json()['id']}/"
    (send,) = api_for(pastoral_a).get(url).json()["sends"]
    assert (send["channel"], send["address"], send["requested_by"], send["status"]) == (
        "email",
        "anna@example.org",
        "pastoral_a",
        "sent",
    )
    assert "sends" not in api_for(finance).get(url).json()  # the table leaves it out for finance
    assert api_for(charity_staff).get(url).status_code in (403, 404)

    client, headers = api_for(pastoral_a), {"HTTP_IDEMPOTENCY_KEY": "resend-1"}
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):  # a retry with the same key sends once
            again = client.post(f"{url}send/", {"channel": "email"}, format="json", **headers)
            assert again.status_code == 201, again.json()
    assert again.json()["kind"] == "voucher"
    assert len(mail.outbox) == 2
    assert api_for(finance).post(f"{url}send/", {"channel": "email"}, format="json").status_code == 403


def test_it_issues_without_sending_through_the_api_unless_asked(
    api_for, consent, reachable, food_type, school_a, pastoral_a
):
    consent(reachable)
    created = api_for(pastoral_a).post(
        "/api/v1/vouchers/",
        {
            "family": reachable.pk,
            "voucher_type": food_type.pk,
            "school": school_a.pk,
            "referral_reason": "debt",
        },
        format="json",
    )
    assert created.json()["delivery"] == "print"
    assert mail.outbox == []


# --- Links follow the address the app is served on (issue 14.6) -----------------------------------


@pytest.fixture
def unset_site_url(settings):
    settings.SITE_URL_SET = False
    settings.SITE_URL = "http://127.0.0.1:8000"


def test_it_links_to_the_port_the_app_is_served_on_when_site_url_is_unset(
    unset_site_url,
    client_for,
    consent,
    reachable,
    food_type,
    pastoral_a,
    texts,
    django_capture_on_commit_callbacks,
):
    from tests.vouchers.test_pastoral import form_data

    consent(reachable)
    client = client_for(pastoral_a)
    here = {"HTTP_HOST": "127.0.0.1:8101"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/families/{reachable.pk}/vouchers/new/", form_data(food_type, delivery="email"), **here
        )
    assert response.status_code == 302
    voucher = Voucher.objects.get()
    evoucher = f"http://127.0.0.1:8101/v/{voucher.public_token}/"
    redeem = f"http://127.0.0.1:8101/redeem/{voucher.code}/"
    (message,) = mail.outbox
    assert evoucher in message.body
    assert redeem in pdf_text(message.attachments[0][1])  # the QR code's link, printed under it
    assert ":8000" not in message.body

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/vouchers/{voucher.pk}/send/", {"send-channel": "sms", "confirm": "yes"}, **here)
    assert evoucher in texts[0]["body"]
    printed = client.get(f"/vouchers/{voucher.pk}/pdf/", **here)
    assert redeem in pdf_text(printed.content)
    from_api = client_for(pastoral_a).get(f"/api/v1/vouchers/{voucher.pk}/pdf/", **here)
    assert redeem in pdf_text(from_api.content)


def test_it_links_to_site_url_when_it_is_set(
    settings, client_for, voucher, reachable, pastoral_a, django_capture_on_commit_callbacks
):
    settings.SITE_URL_SET = True
    settings.SITE_URL = "https://support.trust.example"
    client = client_for(pastoral_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/vouchers/{voucher.pk}/send/", {"send-channel": "email"}, HTTP_HOST="127.0.0.1:8101")
    assert f"https://support.trust.example/v/{voucher.public_token}/" in mail.outbox[0].body
    printed = client.get(f"/vouchers/{voucher.pk}/pdf/", HTTP_HOST="127.0.0.1:8101")
    assert f"https://support.trust.example/redeem/{voucher.code}/" in pdf_text(printed.content)


def _make_run(**env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "SITE_URL"} | env
    done = subprocess.run(
        ["make", "-n", "run", *(f"{k}={v}" for k, v in env.items() if k in ("HOST", "PORT"))],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_it_has_make_run_link_to_the_port_it_serves_on_unless_site_url_is_set():
    assert "SITE_URL='http://127.0.0.1:8101' " in _make_run(PORT="8101")
    assert "SITE_URL='https://support.trust.example' " in _make_run(
        PORT="8101", SITE_URL="https://support.trust.example"
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_sends_once_when_two_deliveries_of_the_task_race(monkeypatch, issue, reachable, food_type):
    """The second delivery arrives while the first is between its claim and the send."""
    from tests.security.test_races import inject

    monkeypatch.setattr(notify, "enqueue_on_commit", lambda *args: None)  # the test delivers by hand
    voucher = issue(reachable, food_type, delivery="email")
    key = str(voucher.sends.get().key)
    race = inject(monkeypatch, notify, "_skip_reason", lambda: notify.voucher_send_deliver(key=key))
    assert notify.voucher_send_deliver(key=key) == "sent"
    race.finish()
    assert race.result == "already-claimed"
    assert len(mail.outbox) == 1
