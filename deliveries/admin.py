from django.contrib import admin

from deliveries.models import CatalogueItem, DeliveredService
from support.admin import TrustModelAdmin


class CatalogueItemInline(admin.TabularInline):
    model = CatalogueItem
    extra = 1
    fields = ["name", "value_pence", "is_active"]


@admin.register(DeliveredService)
class DeliveredServiceAdmin(TrustModelAdmin):
    # Which partner services are delivered and their catalogue: trust-wide settings, like voucher types.
    # The charity states its own capacity on its page (an audited service); here it is only shown.
    list_display = ["voucher_type", "capacity_per_week", "paused_until"]
    readonly_fields = ["capacity_per_week", "paused_until", "pause_note"]
    list_select_related = ["voucher_type__partner"]
    inlines = [CatalogueItemInline]
