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

from support import selectors, services
from support.audit import audit_record, changed, snapshot
from support.bounds import BoundedFormMixin, date_in_window
from support.consents import family_consents
from support.dates import MONTH_CHOICES
from support.errors import SupportError
from support.forms import PoundsField
from support.models import (
    AuditEvent,
    Family,
    FamilyDuplicate,
    Membership,
    PartnerCharity,
    PartnerService,
    Policy,
    Pupil,
    PupilImport,
    School,
)
from support.people import person_name
from support.safeguarding import school_safeguarding_leads_set
from support.scopes import scope_for


def _words_label(db_field: models.Field, unit: str) -> str:
    """"approval threshold pence" → "Approval threshold (£)"; "coat season start month" → "…month"."""
    words = str(db_field.verbose_name)
    if unit and words.endswith(f" {unit}"):
        return f"{words[: -len(unit) - 1].capitalize()} (£)"
    return words.capitalize()


class BoundedAdminMixin:
    """The admin's forms take a number only within its column's range on PostgreSQL, on SQLite too
    (which stores any 64-bit number: a voucher type's window of 99,999,999 days was saved there and
    its issue page then answered 500), and a date only within support.bounds' window.

    They speak as the pages do: an amount (a ``*_pence`` column) is typed and shown in pounds
    (``PoundsField``), a month (a ``*_month`` column) is chosen by its name."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.editable and not db_field.choices and isinstance(db_field, models.IntegerField):
            if db_field.name.endswith("_pence"):
                return PoundsField(
                    label=_words_label(db_field, "pence"),
                    help_text=db_field.help_text.replace(" (in pence)", ""),
                    required=not db_field.blank,
                    minimum=0,
                )
            if db_field.name.endswith("_month"):
                return forms.TypedChoiceField(
                    label=_words_label(db_field, ""),
                    choices=MONTH_CHOICES if not db_field.blank else [("", "—"), *MONTH_CHOICES],
                    coerce=int,
                    empty_value=None,
                    required=not db_field.blank,
                    help_text=db_field.help_text,
                )
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


class _Refused(Exception):
    def __init__(self, error: SupportError) -> None:
        super().__init__(error.message)
        self.error = error


class ServiceAdminMixin:
    """Saves that go through a service: a refusal (``SupportError``) is shown on the form, as on the
    pages, and nothing of the attempt is kept.

    ``save_model``/``save_related`` run after the form is valid, too late to show an error, so a refusal
    rolls the attempt back and the view runs once more with the refusal added to the form's errors."""

    _REFUSAL_ATTR = "_admin_refusal"
    # A service's name for a field -> the admin form's, where the two differ.
    refusal_fields: dict[str, str] = {}

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method != "POST":
            return super().changeform_view(request, object_id, form_url, extra_context)
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _Refused as refused:  # the view's own transaction has rolled the attempt back
            setattr(request, self._REFUSAL_ATTR, refused.error)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        error = getattr(request, self._REFUSAL_ATTR, None)
        if error is None:
            return form_class

        field = self.refusal_fields.get(error.field, error.field)

        def clean(form):
            cleaned = form_class.clean(form)
            form.add_error(field if field in form.fields else None, error.message)
            return cleaned

        return type(form_class.__name__, (form_class,), {"clean": clean})

    def through_service(self, call, *args, **kwargs):
        """Run a service call for the admin; its refusal is shown on the form (see the class)."""
        try:
            return call(*args, **kwargs)
        except SupportError as error:
            raise _Refused(error) from None


class TrustModelAdmin(ServiceAdminMixin, BoundedAdminMixin, admin.ModelAdmin):
    """Admin-role users may manage these; saves and deletes leave an audit event.

    A model whose writes a service owns saves through it (``through_service``) or is read-only here; the
    plain audited save below is for the trust's settings that only the admin writes (schools' names,
    partners, memberships, voucher types, funds, the policy)."""

    selector = None  # a function (user) -> queryset; None means the model's default manager
    service_fields: tuple[str, ...] = ()  # written by a service in save_model, not by the plain save

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
            stored = type(obj).objects.get(pk=obj.pk)
            for name in self.service_fields:  # the service writes these after the plain save
                setattr(obj, name, getattr(stored, name))
            own = {f.name for f in obj._meta.get_fields()}  # not a form's own extra fields
            fields = [name for name in form.changed_data if name in own and name not in self.service_fields]
            before = snapshot(stored, fields)
            super().save_model(request, obj, form, change)
            if fields:
                audit_record(
                    actor=request.user,
                    action=f"{label}.updated",
                    subject=obj,
                    before=before,
                    after=snapshot(obj, fields),
                    note="admin",
                )
        else:
            for name in self.service_fields:
                setattr(obj, name, obj._meta.get_field(name).get_default())
            super().save_model(request, obj, form, change)
            audit_record(
                actor=request.user,
                action=f"{label}.created",
                subject=obj,
                after=snapshot(obj, [f for f in self._fields(obj) if f not in self.service_fields]),
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
    service_fields = ("safeguarding_lead", "safeguarding_deputy")
    refusal_fields = {"lead": "safeguarding_lead", "deputy": "safeguarding_deputy"}

    def save_model(self, request, obj, form, change) -> None:
        leads = {name: form.cleaned_data.get(name, "") for name in self.service_fields}
        super().save_model(request, obj, form, change)
        if any(name in form.changed_data for name in self.service_fields):
            self.through_service(
                school_safeguarding_leads_set,
                school=obj,
                actor=request.user,
                lead=leads["safeguarding_lead"],
                deputy=leads["safeguarding_deputy"],
            )
            obj.refresh_from_db()


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
            self.through_service(services.family_update, family=obj, actor=request.user, **values)
        else:
            obj.pk = self.through_service(services.family_create, actor=request.user, **values).pk
        obj.refresh_from_db()


class PupilAdminForm(BoundedFormMixin, forms.ModelForm):
    in_need_reason = forms.CharField(
        label="Why the pupil is in need",
        required=False,
        max_length=200,
        help_text="Needed when you flag the pupil as in need; kept in the audit log only.",
    )


@admin.register(Pupil)
class PupilAdmin(TrustModelAdmin):
    """Pupils come from the import (which keeps their rolls), so they are not added here, and their school
    and family change only through the import, the rolls and merges; the in-need flag goes through its
    service, which asks for a reason."""

    form = PupilAdminForm
    service_fields = ("in_need",)
    refusal_fields = {"reason": "in_need_reason"}
    readonly_fields = ["school", "family"]
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if "in_need" in form.changed_data:
            self.through_service(
                services.pupil_set_in_need,
                pupil=obj,
                actor=request.user,
                in_need=form.cleaned_data["in_need"],
                reason=form.cleaned_data.get("in_need_reason", ""),
            )


@admin.register(Policy)
class PolicyAdmin(TrustModelAdmin):
    """The policy page: amounts in pounds and months by name (``BoundedAdminMixin``); who changed it
    last and when are recorded by the save, never typed."""

    exclude = ["updated_by"]
    readonly_fields = ["updated", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._is_admin(request) and not Policy.objects.exists()

    @admin.display(description="Updated by")
    def updated(self, obj: Policy) -> str:
        return person_name(obj.updated_by) or "—"

    def save_model(self, request, obj, form, change) -> None:
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


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
