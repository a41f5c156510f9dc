"""Sending a family their voucher: an e-mail (link, and the PDF attached) or a text message (link)."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils.formats import date_format

from support.audit import audit_record
from vouchers.models import Voucher
from vouchers.pdf import render_voucher_pdf
from vouchers.sms import get_sms_backend


def evoucher_url(voucher: Voucher) -> str:
    return settings.SITE_URL + reverse("evoucher", args=[voucher.public_token])


def _message(voucher: Voucher) -> str:
    partner = voucher.voucher_type.partner
    return (
        f"Your {voucher.voucher_type.name.lower()} voucher from {voucher.school.name} for {partner.name}. "
        f"Code {voucher.display_code}, valid until {date_format(voucher.expires_on, 'j F Y')}. "
        f"Show it on your phone: {evoucher_url(voucher)}"
    )


def voucher_send(*, voucher_id: int, channel: str) -> str:
    """Send now. Does nothing for a voucher that is no longer valid or a family with no address."""
    voucher = Voucher.objects.select_related("voucher_type__partner", "school", "family").get(pk=voucher_id)
    if not voucher.is_valid:
        return "not-valid"
    family = voucher.family
    if channel == "email":
        if not family.email:
            return "no-address"
        email = EmailMessage(
            subject=f"Your voucher for {voucher.voucher_type.partner.name}",
            body=_message(voucher) + "\n\nThe voucher is attached: print it or show it at the counter.",
            to=[family.email],
        )
        email.attach(f"voucher-{voucher.code}.pdf", render_voucher_pdf(voucher), "application/pdf")
        email.send()
    elif channel == "sms":
        if not family.phone:
            return "no-address"
        get_sms_backend().send(to=family.phone, body=_message(voucher))
    else:
        raise ValueError(f"Unknown channel {channel!r}")
    audit_record(actor=None, action="voucher.sent", subject=voucher, after={"channel": channel})
    return "sent"
