"""Partner charity pages: check a code (typed, or opened from the QR), redeem it, list redemptions."""

from django.contrib import messages
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone

from support.access import requires
from support.csv_safe import csv_text
from support.errors import SupportError
from support.http import client_ip
from support.models import PartnerCharity
from support.money import pounds
from support.people import person_name
from support.scopes import scope_for
from vouchers import selectors
from vouchers.filters import RedemptionFilter
from vouchers.forms import CodeForm, RedeemForm
from vouchers.lookup_guard import LookupLocked, lookup_guard_check, lookup_guard_miss
from vouchers.models import Redemption, Voucher
from vouchers.services import (
    voucher_find_for_partner,
    voucher_redeem,
    voucher_refusal,
    voucher_service_notice,
)


def _partner(request: HttpRequest) -> PartnerCharity:
    scope = scope_for(request.user)
    return PartnerCharity.objects.filter(pk__in=scope.partner_ids).order_by("pk").first()


@requires("vouchers.redeem")
def redeem_start(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return redirect("redeem_code", code=form.cleaned_data["code"].strip())
    return render(request, "vouchers/redeem_start.html", {"form": form})


@requires("vouchers.redeem")
def redeem_code(request: HttpRequest, code: str) -> HttpResponse:
    partner = _partner(request)
    ip = client_ip(request)
    try:
        lookup_guard_check(user_id=request.user.pk, ip=ip)
        voucher = voucher_find_for_partner(code=code, partner_ids=scope_for(request.user).partner_ids)
    except LookupLocked as exc:
        return render(
            request, "vouchers/redeem_start.html", {"form": CodeForm(), "problem": exc.message}, status=429
        )
    except SupportError as exc:
        lookup_guard_miss(user=request.user, ip=ip, code=code)
        form = CodeForm(initial={"code": code})
        status = 400 if exc.code == "mistyped" else 404
        return render(
            request, "vouchers/redeem_start.html", {"form": form, "problem": exc.message}, status=status
        )

    form = RedeemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            voucher_redeem(
                voucher=voucher,
                partner=partner,
                redeemed_by=request.user,
                items_given=form.cleaned_data["items_given"],
                value_pence=form.value_pence(),
            )
        except SupportError as exc:
            messages.error(request, exc.message)
            return redirect("redeem_code", code=voucher.code)
        return redirect(reverse("redeem_code", args=[voucher.code]) + "?redeemed=1")

    # Right after redeeming, the person who did it sees "hand it over", not "already redeemed".
    just_redeemed = (
        request.GET.get("redeemed") == "1"
        and voucher.state == Voucher.State.REDEEMED
        and Redemption.objects.filter(voucher=voucher, redeemed_by=request.user).exists()
    )
    refusal = None if voucher.is_valid or just_redeemed else voucher_refusal(voucher).message
    return render(
        request,
        "vouchers/redeem_voucher.html",
        {
            "voucher": voucher,
            "form": form,
            "refusal": refusal,
            "just_redeemed": just_redeemed,
            "notice": voucher_service_notice(voucher),
            # So staff can greet the family in it: the language only, nothing else of the family.
            "family_language": selectors.voucher_family_language(voucher),
        },
    )


def _redemptions_for_month(request: HttpRequest) -> RedemptionFilter:
    return RedemptionFilter(
        request.GET,
        queryset=selectors.redemptions_visible_to(request.user).select_related(
            "voucher__voucher_type", "voucher__school", "redeemed_by", "partner"
        ),
        request=request,
    )


def _redemption_page(request: HttpRequest, filterset: RedemptionFilter) -> HttpResponse:
    valid = filterset.is_valid()
    redemptions = filterset.qs if valid else filterset.queryset.none()
    totals = redemptions.aggregate(
        count=Count("pk"), face=Sum("voucher__face_value_pence"), given=Sum("value_pence")
    )
    return render(
        request,
        "vouchers/redemption_list.html",
        {
            "form": filterset.form,
            "month": filterset.shown_month,
            "redemptions": redemptions,
            "totals": totals,
        },
        status=200 if valid else 400,
    )


@requires("redemptions.view")
def redemption_list(request: HttpRequest) -> HttpResponse:
    return _redemption_page(request, _redemptions_for_month(request))


@requires("redemptions.view")
def redemption_export(request: HttpRequest) -> HttpResponse:
    filterset = _redemptions_for_month(request)
    if not filterset.is_valid():
        return _redemption_page(request, filterset)
    month, redemptions = filterset.shown_month, filterset.qs
    text = csv_text(
        (
            [
                timezone.localtime(r.redeemed_at).strftime("%d/%m/%Y %H:%M"),
                r.voucher.display_code,
                r.voucher.voucher_type.name,
                r.voucher.school.name,
                pounds(r.voucher.face_value_pence, symbol=False),
                r.items_given,
                pounds(r.value_pence, symbol=False),
                person_name(r.redeemed_by),
            ]
            for r in redemptions
        ),
        header=[
            "Redeemed",
            "Code",
            "Voucher",
            "Issued by",
            "Face value (£)",
            "Items given",
            "Value given (£)",
            "Redeemed by",
        ],
    )
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="redemptions-{month:%Y-%m}.csv"'
    return response


urlpatterns = [
    path("redeem/", redeem_start, name="redeem_start"),
    path("redeem/<str:code>/", redeem_code, name="redeem_code"),
    path("redemptions/", redemption_list, name="redemption_list"),
    path("redemptions/export.csv", redemption_export, name="redemption_export"),
]
