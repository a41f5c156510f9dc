"""Vouchers in the Django admin for trust admins: voucher types are edited here; vouchers and redemptions
are read-only (their state changes only through the services)."""

from django.contrib import admin
from django.http import HttpRequest

from support.admin import TrustModelAdmin
from support.money import pounds
from vouchers import codes, selectors
from vouchers.models import Redemption, Voucher, VoucherType


@admin.register(VoucherType)
class VoucherTypeAdmin(TrustModelAdmin):
    # Types are trust-wide settings, not anyone's scoped data; inactive ones must stay listed to be revived.
    list_display = [
        "name",
        "partner",
        "service",
        "face_value",
        "validity_days",
        "limit_count",
        "limit_window_days",
        "is_active",
    ]
    list_filter = ["is_active", "service", "partner"]
    search_fields = ["name", "partner__name"]
    list_select_related = ["partner"]

    @admin.display(description="Face value", ordering="face_value_pence")
    def face_value(self, obj: VoucherType) -> str:
        return pounds(obj.face_value_pence)


class ReadOnlyTrustAdmin(TrustModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict:
        return {}


def _typed_code(search_term: str) -> str | None:
    """A code as people type it (groups, lower case, O for 0), normalised; None if it is not a code."""
    try:
        return codes.normalise(search_term)
    except codes.CodeError:
        return None


@admin.register(Voucher)
class VoucherAdmin(ReadOnlyTrustAdmin):
    selector = staticmethod(selectors.vouchers_visible_to)
    list_display = [
        "display_code",
        "voucher_type",
        "school",
        "lead_carer_name",
        "state",
        "issued_at",
        "expires_on",
        "face_value",
    ]
    list_filter = ["state", "voucher_type", "school", ("issued_at", admin.DateFieldListFilter)]
    search_fields = ["code"]
    list_select_related = ["voucher_type__partner", "school"]
    date_hierarchy = "issued_at"
    # The public token is the family's link to their e-voucher: not shown, even to admins.
    exclude = ["public_token"]
    readonly_fields = ["display_code", "issued_at", "updated_at"]

    @admin.display(description="Code", ordering="code")
    def display_code(self, obj: Voucher) -> str:
        return obj.display_code

    @admin.display(description="Face value", ordering="face_value_pence")
    def face_value(self, obj: Voucher) -> str:
        return pounds(obj.face_value_pence)

    def get_search_results(self, request, queryset, search_term):
        code = _typed_code(search_term)
        if code is not None:
            return queryset.filter(code=code), False
        return super().get_search_results(request, queryset, search_term)


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyTrustAdmin):
    selector = staticmethod(selectors.redemptions_visible_to)
    list_display = ["voucher", "voucher_type", "school", "partner", "redeemed_at", "value_given"]
    list_filter = [
        "partner",
        "voucher__voucher_type",
        "voucher__school",
        ("redeemed_at", admin.DateFieldListFilter),
    ]
    search_fields = ["voucher__code"]
    list_select_related = ["voucher__voucher_type", "voucher__school", "partner"]
    date_hierarchy = "redeemed_at"

    @admin.display(description="Type", ordering="voucher__voucher_type__name")
    def voucher_type(self, obj: Redemption) -> str:
        return obj.voucher.voucher_type.name

    @admin.display(description="School", ordering="voucher__school__name")
    def school(self, obj: Redemption) -> str:
        return obj.voucher.school.name

    @admin.display(description="Value given", ordering="value_pence")
    def value_given(self, obj: Redemption) -> str:
        return pounds(obj.value_pence)

    def get_search_results(self, request, queryset, search_term):
        code = _typed_code(search_term)
        if code is not None:
            return queryset.filter(voucher__code=code), False
        return super().get_search_results(request, queryset, search_term)
