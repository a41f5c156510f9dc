"""Uniform in the Django admin for trust admins: items and welcome packs are edited here, through the same
services as the pages (``uniform_item_save``, ``welcome_pack_set``); gifts and stock are read-only (they
change only through the services: sizes, packing, hand-over, receipts, adjustments)."""

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from support.admin import BoundedAdminMixin, TrustModelAdmin
from support.bounds import BoundedFormMixin
from support.errors import SupportError
from support.money import pounds
from support.scopes import scope_for
from uniform import selectors
from uniform.models import (
    Gift,
    GiftLine,
    ItemKind,
    StockLevel,
    StockMovement,
    UniformItem,
    WelcomePack,
    WelcomePackItem,
)
from uniform.services.gifts import uniform_item_save, welcome_pack_set
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
            "branded",
            "required",
            "is_tie",
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
    list_display += ["branded", "required"]
    list_filter = ["kind", "is_active", "track_stock", "branded", "required", "school"]
    search_fields = ["name", "supplier", "school__name"]
    list_select_related = ["school"]

    @admin.display(description="Unit cost", ordering="unit_cost_pence")
    def unit_cost(self, obj: UniformItem) -> str:
        return pounds(obj.unit_cost_pence)

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        item = self.through_service(
            uniform_item_save,
            school=data["school"],
            actor=request.user,
            item=UniformItem.objects.get(pk=obj.pk) if change else None,
            **{name: data[name] for name in ("name", "kind", "sizes", "unit_cost_pence", "supplier")},
            track_stock=data.get("track_stock", False),
            is_active=data.get("is_active", False),
            branded=data.get("branded", False),
            required=data.get("required", False),
            is_tie=data.get("is_tie", False),
        )
        obj.pk, obj._state.adding = item.pk, False
        obj.refresh_from_db()


class WelcomePackItemInline(BoundedAdminMixin, admin.TabularInline):
    """The pack's contents, offered from its own school's uniform only (as the service allows); the rows
    are written by ``welcome_pack_set`` in ``WelcomePackAdmin.save_related``, never by the formset."""

    model = WelcomePackItem
    extra = 0
    pack: WelcomePack | None = None  # inline instances are made per request

    def has_view_permission(self, request, obj=None):
        return scope_for(request.user).is_admin

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission

    def get_formset(self, request, obj=None, **kwargs):
        self.pack = obj
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "item":
            items = UniformItem.objects.filter(kind=ItemKind.UNIFORM).select_related("school")
            if self.pack is not None:
                items = items.filter(school_id=self.pack.school_id)
            kwargs["queryset"] = items.order_by("school__name", "name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class WelcomePackForm(BoundedFormMixin, forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        fund = cleaned.get("fund")
        school = cleaned.get("school") or getattr(self.instance, "school", None)
        if (
            fund is not None
            and fund.school_id is not None
            and school is not None
            and fund.school_id != school.pk
        ):
            self.add_error("fund", f"{fund.name} is another school's budget.")
        return cleaned


@admin.register(WelcomePack)
class WelcomePackAdmin(TrustModelAdmin):
    selector = staticmethod(selectors.welcome_packs_visible_to)
    list_display = ["school", "year_group"]
    list_filter = ["year_group", "school"]
    inlines = [WelcomePackItemInline]
    form = WelcomePackForm
    service_fields = ("school", "year_group")  # welcome_pack_set makes the pack

    def get_readonly_fields(self, request, obj=None):
        # A pack is its school's intake's: moving it would carry one school's items to another.
        return ["school", "year_group"] if obj is not None else []

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            pack = self.through_service(
                welcome_pack_set,
                school=form.cleaned_data["school"],
                year_group=form.cleaned_data["year_group"],
                contents={},
                actor=request.user,
            )
            obj.pk, obj._state.adding = pack.pk, False
            change = True
        super().save_model(request, obj, form, change)  # what is left: the fund, audited

    def save_related(self, request, form, formsets, change) -> None:
        contents: dict[int, int] = {}
        for formset in formsets:
            # The admin's history message reads what a formset saved; this one saves nothing itself.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            for row in formset.forms:
                data = getattr(row, "cleaned_data", None) or {}
                if not data.get("item") or data.get("DELETE"):
                    continue
                contents[data["item"].pk] = contents.get(data["item"].pk, 0) + (data.get("quantity") or 0)
        pack = form.instance
        self.through_service(
            welcome_pack_set,
            school=pack.school,
            year_group=pack.year_group,
            contents=contents,
            actor=request.user,
        )


class GiftLineInline(BoundedAdminMixin, admin.TabularInline):
    model = GiftLine
    extra = 0
    fields = readonly_fields = ["item", "quantity", "size", "condition"]

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
    list_display = ["item", "size", "condition", "quantity"]
    list_filter = ["condition", "item__school"]
    list_select_related = ["item__school"]


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyUniformAdmin):
    selector = staticmethod(selectors.stock_movements_visible_to)
    list_display = ["at", "item", "size", "condition", "change", "kind", "saved_pence", "by", "note"]
    list_filter = ["kind", "condition", "item__school"]
    list_select_related = ["item__school", "by"]
