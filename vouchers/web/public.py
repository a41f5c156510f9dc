"""The family-facing e-voucher: an unguessable link, no sign-in, only what the voucher itself shows."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.views.decorators.cache import never_cache

from support.http import site_url
from support.languages import family_language
from vouchers.models import Voucher
from vouchers.qr import qr_svg, redemption_url


@never_cache
def evoucher(request: HttpRequest, token: str) -> HttpResponse:
    voucher = get_object_or_404(
        Voucher.objects.select_related("voucher_type__partner", "school", "family"), public_token=token
    )
    context = {
        "voucher": voucher,
        "partner": voucher.voucher_type.partner,
        "valid": voucher.is_valid,
        # Shown again in the family's language, beside English.
        "language": family_language(voucher.family.language),
    }
    if voucher.is_valid:
        context["qr"] = qr_svg(redemption_url(voucher.code, site_url=site_url(request)), scale=6)
    response = render(request, "vouchers/evoucher.html", context)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


urlpatterns = [path("v/<str:token>/", evoucher, name="evoucher")]
