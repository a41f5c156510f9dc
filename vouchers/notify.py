"""Sending a family word of its voucher: the voucher (an e-mail with the link and the PDF attached, or a
text message with the link), and, when a voucher that was sent is cancelled, that it can no longer be used.

Each message is a ``VoucherSend`` row made where it was asked for (``voucher_send_queue``, inside the
use case's transaction) and sent after commit by a task (``voucher_send_deliver``) that first claims the
row by its key with a conditional update. A redelivered or retried task finds it claimed and sends nothing.
"""

import datetime
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from support.audit import audit_record
from support.contacts import address_is_barred
from support.jobs import enqueue_on_commit
from support.languages import in_family_language
from vouchers.models import Delivery, Voucher, VoucherSend
from vouchers.pdf import render_voucher_pdf
from vouchers.sms import get_sms_backend

Kind, Status = VoucherSend.Kind, VoucherSend.Status


def evoucher_url(voucher: Voucher, *, site_url: str | None = None) -> str:
    return (site_url or settings.SITE_URL) + reverse("evoucher", args=[voucher.public_token])


def _in_family_language(
    voucher: Voucher, english: str, translated: Callable[[], str], sep: str = "\n\n"
) -> str:
    """``english``, then ``translated()`` in the family's language (``support.languages``)."""
    return in_family_language(voucher.family.language, english, translated, sep)


def _translated_voucher_text(voucher: Voucher, site_url: str) -> str:
    return _(
        "Your voucher from %(school)s for %(partner)s. Code %(code)s, valid until %(date)s. "
        "Show it on your phone: %(url)s"
    ) % {
        "school": voucher.school.name,
        "partner": voucher.voucher_type.partner.name,
        "code": voucher.display_code,
        "date": date_format(voucher.expires_on, "j E Y"),
        "url": evoucher_url(voucher, site_url=site_url),
    }


def _translated_cancelled_text(voucher: Voucher) -> str:
    names = {
        "code": voucher.display_code,
        "school": voucher.school.name,
        "partner": voucher.voucher_type.partner.name,
        "phone": voucher.school.phone,
    }
    if voucher.school.phone:
        return (
            _(
                "Your voucher %(code)s from %(school)s for %(partner)s has been cancelled and can no longer "
                "be used. If you need help, contact %(school)s on %(phone)s."
            )
            % names
        )
    return (
        _(
            "Your voucher %(code)s from %(school)s for %(partner)s has been cancelled and can no longer "
            "be used. If you need help, contact %(school)s."
        )
        % names
    )


def _voucher_text(voucher: Voucher, site_url: str) -> str:
    partner = voucher.voucher_type.partner
    return (
        f"Your {voucher.voucher_type.name.lower()} voucher from {voucher.school.name} for {partner.name}. "
        f"Code {voucher.display_code}, valid until {date_format(voucher.expires_on, 'j F Y')}. "
        f"Show it on your phone: {evoucher_url(voucher, site_url=site_url)}"
    )


def _cancelled_text(voucher: Voucher) -> str:
    school = voucher.school
    contact = f" on {school.phone}" if school.phone else ""
    return (
        f"Your {voucher.voucher_type.name.lower()} voucher {voucher.display_code} from {school.name} for "
        f"{voucher.voucher_type.partner.name} has been cancelled and can no longer be used. "
        f"If you need help, contact {school.name}{contact}."
    )


def voucher_send_queue(
    *,
    voucher: Voucher,
    channel: str,
    address: str,
    kind: str,
    requested_by: AbstractBaseUser,
    now: datetime.datetime,
    site_url: str | None = None,
    key: str | None = None,
) -> VoucherSend:
    """Record one message to send and send its task after commit (call inside the use case's transaction).

    ``site_url`` starts the message's link (where the request that asked came in); ``key`` names the send
    (a form's key, so that submitting it twice sends once), a new one when not given.
    """
    send = VoucherSend(
        voucher=voucher,
        kind=kind,
        channel=channel,
        address=address,
        requested_by=requested_by,
        requested_at=now,
    )
    if key:
        send.key = key
    try:
        with transaction.atomic():
            send.save()
    except IntegrityError:  # the same key asked twice at once: the first one sends
        return VoucherSend.objects.get(key=key)
    audit_record(
        actor=requested_by,
        action="voucher.send_requested",
        subject=voucher,
        after={"channel": channel, "kind": kind, "send": str(send.key)},
    )
    enqueue_on_commit("vouchers.send_to_family", str(send.key), site_url or "")
    return send


def _finish(send: VoucherSend, status: str, *, note: str = "", now: datetime.datetime) -> None:
    VoucherSend.objects.filter(pk=send.pk).update(
        status=status, note=note[:200], sent_at=now if status == Status.SENT else None
    )
    send.status, send.note = status, note[:200]
    audit_record(
        actor=None,
        action="voucher.sent" if status == Status.SENT else f"voucher.send_{status}",
        subject=send.voucher,
        after={"channel": send.channel, "kind": send.kind, "send": str(send.key), "status": status},
        note=note[:200],
    )


def _skip_reason(send: VoucherSend) -> str:
    voucher = send.voucher
    # Checked again as it goes: a restriction recorded since the send was asked for stops it.
    if address_is_barred(voucher.family, send.channel, send.address):
        return "This address belongs to a contact who must not be contacted."
    if send.kind == Kind.VOUCHER:
        if not voucher.is_valid:
            from vouchers.services import voucher_refusal

            return voucher_refusal(voucher).message
        return ""
    # A cancellation notice follows only a voucher that went (or may have gone) to that address.
    reached = voucher.sends.filter(
        kind=Kind.VOUCHER,
        channel=send.channel,
        address=send.address,
        status__in=[Status.SENT, Status.SENDING],
    )
    return "" if reached.exists() else "The voucher itself was never sent to this address."


def _family_body(send: VoucherSend, voucher: Voucher, site_url: str) -> str:
    """A text message's words (and a cancellation e-mail's), in English and the family's language."""
    if send.kind == Kind.VOUCHER:
        return _in_family_language(
            voucher, _voucher_text(voucher, site_url), lambda: _translated_voucher_text(voucher, site_url)
        )
    return _in_family_language(voucher, _cancelled_text(voucher), lambda: _translated_cancelled_text(voucher))


def voucher_send_deliver(*, key: str, site_url: str = "", now: datetime.datetime | None = None) -> str:
    """Send the message ``key`` names, once: a send already claimed (sent, being sent) is left alone.

    Not in a transaction: the claim commits before anything goes out. A failure marks the send failed
    (a retry of the task may claim it again) and is raised for the task to retry.
    """
    claimed = VoucherSend.objects.filter(key=key, status__in=[Status.QUEUED, Status.FAILED]).update(
        status=Status.SENDING
    )
    if not claimed:
        return "already-claimed"
    send = VoucherSend.objects.select_related(
        "voucher__voucher_type__partner", "voucher__school", "voucher__family"
    ).get(key=key)
    voucher = send.voucher
    now = now or timezone.now()
    reason = _skip_reason(send)
    if reason:
        _finish(send, Status.SKIPPED, note=reason, now=now)
        return "skipped"
    site_url = site_url or settings.SITE_URL
    partner = voucher.voucher_type.partner.name
    try:
        if send.channel == Delivery.EMAIL:
            if send.kind == Kind.VOUCHER:
                subject = _in_family_language(
                    voucher,
                    f"Your voucher for {partner}",
                    lambda: _("Your voucher for %(partner)s") % {"partner": partner},
                    sep=" / ",
                )
                attached = "\n\nThe voucher is attached: print it or show it at the counter."
                body = _in_family_language(
                    voucher,
                    _voucher_text(voucher, site_url) + attached,
                    lambda: (
                        _translated_voucher_text(voucher, site_url)
                        + "\n\n"
                        + _("The voucher is attached: print it or show it at the counter.")
                    ),
                )
            else:
                subject = _in_family_language(
                    voucher,
                    f"Your voucher for {partner} has been cancelled",
                    lambda: _("Your voucher for %(partner)s has been cancelled") % {"partner": partner},
                    sep=" / ",
                )
                body = _family_body(send, voucher, site_url)
            email = EmailMessage(subject=subject, body=body, to=[send.address])
            if send.kind == Kind.VOUCHER:
                pdf = render_voucher_pdf(voucher, site_url=site_url)
                email.attach(f"voucher-{voucher.code}.pdf", pdf, "application/pdf")
            email.send()
        else:
            get_sms_backend().send(to=send.address, body=_family_body(send, voucher, site_url))
    except Exception as exc:
        _finish(send, Status.FAILED, note=f"{type(exc).__name__}: {exc}", now=now)
        raise
    _finish(send, Status.SENT, now=now)
    return "sent"
