"""Django admin for trust admins. Lists come from selectors; every save and delete is audited."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.http import HttpRequest
from django.shortcuts import redirect

from support import fund as fund_services
from support import selectors, services
from support.audit import audit_record, changed, snapshot
from support.bounds import date_in_window
from support.consents import family_consents
from support.models import (
    AuditEvent,
    Donation,
    Family,
    FamilyDuplicate,
    Fund,
    LedgerEntry,
    Membership,
    PartnerCharity,
    PartnerService,
    Policy,
    Pupil,
    PupilImport,
    School,
)
from support.scopes import scope_for


class BoundedAdminMixin:
    """The admin's forms take a number only within its column's range on PostgreSQL, on SQLite too
    (which stores any 64-bit number: a voucher type's window of 99,999,999 days was saved there and
    its issue page then answered 500), and a date only within support.bounds' window."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is None or db_field.is_relation:
            return formfield
        if isinstance(db_field, models.IntegerField) and isinstance(formfield, forms.IntegerField):
            low, high = BaseDatabaseOperations.integer_field_ranges[db_field.get_internal_type()]
            if formfield.max_value is None or formfield.max_value > high:
                formfield.max_value = high
                formfield.validators.append(MaxValueValidator(high))
                formfield.widget.attrs["max"] = high
            if formfield.min_value is None or formfield.min_value < low:
                formfield.min_value = low
                formfield.validators.append(MinValueValidator(low))
                formfield.widget.attrs["min"] = low
        elif isinstance(formfield, forms.DateField | forms.DateTimeField | forms.SplitDateTimeField):
            formfield.validators.append(date_in_window)
        return formfield


class TrustModelAdmin(BoundedAdminMixin, admin.ModelAdmin):
    """Admin-role users may manage these; saves and deletes leave an audit event."""

    selector = None  # a function (user) -> queryset; None means the model's default manager

    def _is_admin(self, request: HttpRequest) -> bool:
        return scope_for(request.user).is_admin

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._is_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._is_admin(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._is_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest):
        selector = type(self).selector
        queryset = selector(request.user) if selector else super().get_queryset(request)
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def _fields(self, obj) -> list[str]:
        return [f.name for f in obj._meta.concrete_fields if f.name not in ("id", "created_at", "updated_at")]

    def save_model(self, request, obj, form, change) -> None:
        label = obj._meta.model_name
        if change:
            before = snapshot(type(obj).objects.get(pk=obj.pk), form.changed_data)
            super().save_model(request, obj, form, change)
            audit_record(
                actor=request.user,
                action=f"{label}.updated",
                subject=obj,
                before=before,
                after=snapshot(obj, form.changed_data),
                note="admin",
            )
        else:
            super().save_model(request, obj, form, change)
            audit_record(
                actor=request.user,
                action=f"{label}.created",
                subject=obj,
                after=snapshot(obj, self._fields(obj)),
                note="admin",
            )

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        for field in ("schools",):
            if field in form.changed_data:
                audit_record(
                    actor=request.user,
                    action=f"{form.instance._meta.model_name}.updated",
                    subject=form.instance,
                    after={field: sorted(s.pk for s in form.cleaned_data[field])},
                    note="admin",
                )

    def delete_model(self, request, obj) -> None:
        audit_record(
            actor=request.user,
            action=f"{obj._meta.model_name}.deleted",
            subject=obj,
            before=snapshot(obj, self._fields(obj)),
            note="admin",
        )
        super().delete_model(request, obj)


@admin.register(School)
class SchoolAdmin(TrustModelAdmin):
    selector = staticmethod(selectors.schools_visible_to)
    list_display = ["name", "urn", "phase", "safeguarding_lead", "is_active"]
    list_filter = ["phase", "is_active"]
    search_fields = ["name", "urn"]


class PartnerServiceInline(BoundedAdminMixin, admin.TabularInline):
    model = PartnerService
    extra = 0

    def has_view_permission(self, request, obj=None):
        return scope_for(request.user).is_admin

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission


@admin.register(PartnerCharity)
class PartnerCharityAdmin(TrustModelAdmin):
    selector = staticmethod(selectors.partners_visible_to)
    list_display = ["name", "postcode", "phone", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "postcode"]
    inlines = [PartnerServiceInline]


@admin.register(Membership)
class MembershipAdmin(TrustModelAdmin):
    list_display = ["user", "role", "partner", "is_active"]
    list_filter = ["role", "is_active", "schools"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email"]
    filter_horizontal = ["schools"]
    autocomplete_fields = ["user"]
    list_select_related = ["user", "partner"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._is_admin(request)


@admin.register(Family)
class FamilyAdmin(TrustModelAdmin):
    selector = staticmethod(selectors.families_visible_to)
    list_display = ["lead_carer_name", "postcode", "phone", "merged_into"]
    search_fields = ["lead_carer_name", "postcode", "email", "phone", "pupils__upn"]
    readonly_fields = ["carer_name_key", "merged_into", "consents"]
    fields = [*services.FAMILY_EDITABLE, *readonly_fields]

    @admin.display(description="Consent to share")
    def consents(self, obj: Family) -> str:
        # Read only: staff record and withdraw consent on the family's page (audited).
        rows = [
            f"{c.partner.name}: given {c.given_on:%d/%m/%Y} ({c.get_method_display()})"
            + (f", withdrawn {c.withdrawn_on:%d/%m/%Y}" if c.withdrawn_on else "")
            + (", migrated, to be confirmed" if c.awaits_confirmation else "")
            for c in family_consents(obj)
        ]
        return "; ".join(rows) or "None recorded"
    actions = ["subject_access"]

    @admin.action(description="Export everything held about the family (subject access)")
    def subject_access(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose one family to export.", level=messages.WARNING)
            return None
        return redirect("family_subject_access", pk=queryset.get().pk)

    def save_model(self, request, obj, form, change) -> None:
        values = {
            name: form.cleaned_data[name] for name in services.FAMILY_EDITABLE if name in form.cleaned_data
        }
        if change:
            services.family_update(family=obj, actor=request.user, **values)
        else:
            obj.pk = services.family_create(actor=request.user, **values).pk
        obj.refresh_from_db()


@admin.register(Pupil)
class PupilAdmin(TrustModelAdmin):
    selector = staticmethod(selectors.pupils_visible_to)
    list_display = [
        "upn",
        "surname",
        "legal_forename",
        "year_group",
        "school",
        "fsm",
        "pupil_premium",
        "in_need",
    ]
    list_filter = ["school", "year_group", "fsm", "pupil_premium", "in_need"]
    search_fields = ["upn", "surname", "legal_forename", "preferred_forename"]
    list_select_related = ["school"]
    raw_id_fields = ["family"]


@admin.register(Policy)
class PolicyAdmin(TrustModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._is_admin(request) and not Policy.objects.exists()


@admin.register(FamilyDuplicate)
class FamilyDuplicateAdmin(TrustModelAdmin):
    selector = staticmethod(selectors.family_duplicates_visible_to)
    list_display = ["family_a", "family_b", "reason", "status", "decided_by", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["family_a", "family_b", "decided_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PupilImport)
class PupilImportAdmin(TrustModelAdmin):
    selector = staticmethod(selectors.imports_visible_to)
    list_display = ["filename", "school", "uploaded_by", "status", "created_at", "finished_at"]
    list_filter = ["status", "school"]
    exclude = ["content"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(TrustModelAdmin):
    """Read-only: nobody adds, changes or deletes audit events here."""

    selector = staticmethod(selectors.audit_events_visible_to)
    list_display = ["at", "actor_label", "action", "subject_repr", "note"]
    list_filter = ["action", ("at", admin.DateFieldListFilter)]
    search_fields = ["actor_label", "action", "subject_repr", "subject_id", "note"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}


@admin.register(Fund)
class FundAdmin(TrustModelAdmin):
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

    def save_model(self, request, obj, form, change) -> None:
        donation = fund_services.fund_donation_record(
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


class TrustUserAdmin(BoundedAdminMixin, UserAdmin):
    """Users for trust admins (not only superusers). Audited without password hashes."""

    AUDITED = ("username", "first_name", "last_name", "email", "is_active", "is_staff", "is_superuser")

    def _is_admin(self, request: HttpRequest) -> bool:
        return scope_for(request.user).is_admin

    def has_module_permission(self, request):
        return self._is_admin(request)

    def has_view_permission(self, request, obj=None):
        return self._is_admin(request)

    def has_add_permission(self, request):
        return self._is_admin(request)

    def has_change_permission(self, request, obj=None):
        # Only a superuser may change a superuser, or make one.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return self._is_admin(request)

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: audit events keep pointing at the user

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_superuser", "groups", "user_permissions"]
        return fields

    def save_model(self, request, obj, form, change) -> None:
        before = snapshot(type(obj).objects.get(pk=obj.pk), self.AUDITED) if change else {}
        super().save_model(request, obj, form, change)
        after = snapshot(obj, self.AUDITED)
        action = "user.updated" if change else "user.created"
        if change:
            before, after = changed(before, after)
            if "password" in form.changed_data:
                after["password"] = "changed"
        audit_record(actor=request.user, action=action, subject=obj, before=before, after=after, note="admin")


User = get_user_model()
admin.site.unregister(User)
admin.site.register(User, TrustUserAdmin)
