"""Uniform in the Django admin for trust admins: items and welcome packs are edited here; gifts and stock
are read-only (they change only through the services: sizes, packing, hand-over, receipts, adjustments)."""

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from support.admin import BoundedAdminMixin, TrustModelAdmin
from support.audit import audit_record
from support.bounds import BoundedFormMixin
from support.errors import SupportError
from support.money import pounds
from support.scopes import scope_for
from uniform import selectors
from uniform.models import (
    Gift,
    GiftLine,
    StockLevel,
    StockMovement,
    UniformItem,
    WelcomePack,
    WelcomePackItem,
)
from uniform.sizes import normalise_sizes


class ReadOnlyUniformAdmin(TrustModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict:
        return {}


class UniformItemForm(BoundedFormMixin, forms.ModelForm):
    class Meta:
        model = UniformItem
        fields = [
            "school",
            "name",
            "kind",
            "sizes",
            "unit_cost_pence",
            "supplier",
            "track_stock",
            "is_active",
        ]

    def clean_sizes(self) -> list[str]:
        """Sizes typed here are kept in the one spelling too (``uniform.sizes``)."""
        try:
            return normalise_sizes(self.cleaned_data["sizes"] or [])
        except SupportError as exc:
            raise forms.ValidationError(exc.message) from None


@admin.register(UniformItem)
class UniformItemAdmin(TrustModelAdmin):
    form = UniformItemForm
    selector = staticmethod(selectors.uniform_items_visible_to)
    list_display = ["name", "school", "kind", "sizes", "unit_cost", "supplier", "track_stock", "is_active"]
    list_filter = ["kind", "is_active", "track_stock", "school"]
    search_fields = ["name", "supplier", "school__name"]
    list_select_related = ["school"]

    @admin.display(description="Unit cost", ordering="unit_cost_pence")
    def unit_cost(self, obj: UniformItem) -> str:
        return pounds(obj.unit_cost_pence)


class WelcomePackItemInline(BoundedAdminMixin, admin.TabularInline):
    model = WelcomePackItem
    extra = 0
    autocomplete_fields = ["item"]

    def has_view_permission(self, request, obj=None):
        return scope_for(request.user).is_admin

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission


@admin.register(WelcomePack)
class WelcomePackAdmin(TrustModelAdmin):
    selector = staticmethod(selectors.welcome_packs_visible_to)
    list_display = ["school", "year_group"]
    list_filter = ["year_group", "school"]
    inlines = [WelcomePackItemInline]

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        if any(formset.has_changed() for formset in formsets):
            audit_record(
                actor=request.user,
                action="welcome_pack.updated",
                subject=form.instance,
                after={str(k): v for k, v in form.instance.items.values_list("item_id", "quantity")},
                note="admin",
            )


class GiftLineInline(BoundedAdminMixin, admin.TabularInline):
    model = GiftLine
    extra = 0
    fields = readonly_fields = ["item", "quantity", "size"]

    def has_view_permission(self, request, obj=None):
        return scope_for(request.user).is_admin

    def has_add_permission(self, request, obj=None):
        return False

    has_change_permission = has_delete_permission = has_add_permission


@admin.register(Gift)
class GiftAdmin(ReadOnlyUniformAdmin):
    selector = staticmethod(selectors.gifts_visible_to)
    list_display = ["pupil", "school", "academic_year", "year_group", "status", "handed_over_at", "cost"]
    list_filter = ["status", "academic_year", "year_group", "school"]
    search_fields = ["pupil__surname", "pupil__legal_forename", "pupil__upn"]
    list_select_related = ["pupil", "school"]
    inlines = [GiftLineInline]

    @admin.display(description="Cost", ordering="cost_pence")
    def cost(self, obj: Gift) -> str:
        return pounds(obj.cost_pence)


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyUniformAdmin):
    selector = staticmethod(selectors.stock_levels_visible_to)
    list_display = ["item", "size", "quantity"]
    list_filter = ["item__school"]
    list_select_related = ["item__school"]


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyUniformAdmin):
    selector = staticmethod(selectors.stock_movements_visible_to)
    list_display = ["at", "item", "size", "change", "kind", "by", "note"]
    list_filter = ["kind", "item__school"]
    list_select_related = ["item__school", "by"]
