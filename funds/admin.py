"""The fund's models in the trust's admin: read-only, or written through the fund's services."""

from django.contrib import admin

from funds.models import Donation, Fund, LedgerEntry
from funds.services import ledger as fund_services
from support.admin import TrustModelAdmin


@admin.register(Fund)
class FundAdmin(TrustModelAdmin):
    """A fund's name, school and whether it is open are trust settings only the admin writes (audited); its
    money moves only through the ledger services."""

    list_display = ["name", "school", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]


@admin.register(Donation)
class DonationAdmin(TrustModelAdmin):
    """Donations are added through the service (an income entry and an audit event); never changed."""

    list_display = ["received_on", "donor", "amount_pence", "gift_aid", "fund", "recorded_by"]
    list_filter = ["fund", "gift_aid"]
    search_fields = ["donor", "restricted_purpose"]
    fields = ["fund", "donor", "amount_pence", "received_on", "gift_aid", "restricted_purpose"]
    list_select_related = ["fund", "recorded_by"]

    def has_change_permission(self, request, obj=None):
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "fund":
            kwargs["queryset"] = Fund.objects.filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change) -> None:
        donation = self.through_service(
            fund_services.fund_donation_record,
            fund=form.cleaned_data["fund"],
            donor=form.cleaned_data["donor"],
            amount_pence=form.cleaned_data["amount_pence"],
            received_on=form.cleaned_data["received_on"],
            gift_aid=form.cleaned_data["gift_aid"],
            restricted_purpose=form.cleaned_data["restricted_purpose"],
            actor=request.user,
        )
        obj.pk = donation.pk
        obj._state.adding = False

    def get_actions(self, request):
        return {}


@admin.register(LedgerEntry)
class LedgerEntryAdmin(TrustModelAdmin):
    """Read-only: corrections are reversing entries made through the fund service."""

    list_display = ["pk", "created_at", "fund", "kind", "amount_pence", "category", "school", "created_by"]
    list_filter = ["fund", "kind"]
    search_fields = ["category", "source_id", "note"]
    list_select_related = ["fund", "school", "created_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}
