"""Voucher PDFs through one narrow contract: ``render_voucher_pdf(voucher) -> bytes``."""

from django.template.loader import render_to_string
from weasyprint import HTML

from vouchers.models import Voucher
from vouchers.qr import qr_data_uri, redemption_url


def voucher_context(voucher: Voucher) -> dict:
    partner = voucher.voucher_type.partner
    return {
        "voucher": voucher,
        "partner": partner,
        "school": voucher.school,
        "qr": qr_data_uri(redemption_url(voucher.code)),
        "redeem_url": redemption_url(voucher.code),
    }


def render_voucher_pdf(voucher: Voucher) -> bytes:
    html = render_to_string("vouchers/pdf/voucher.html", {"vouchers": [voucher_context(voucher)]})
    return HTML(string=html).write_pdf()
