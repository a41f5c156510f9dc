from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from support.bounds import BoundedFormMixin
from support.scopes import scope_for


class TrustAdminAuthenticationForm(BoundedFormMixin, AdminAuthenticationForm):
    def confirm_login_allowed(self, user) -> None:
        if not user.is_active or not scope_for(user).is_admin:
            raise ValidationError(
                "Only trust administrators can use this part of the site.", code="invalid_login"
            )


class TrustModelForm(BoundedFormMixin, forms.ModelForm):
    """The admin's default form: bounded, and its "required" messages name their field, as every form
    of the site (a ModelAdmin or inline that sets its own form inherits BoundedFormMixin itself)."""


def _trust_form(options: type) -> None:
    if options.form is forms.ModelForm:
        options.form = TrustModelForm


class TrustAdminSite(admin.AdminSite):
    """Django admin for trust admins only: the role decides, not the is_staff flag."""

    site_header = "TrustSupport administration"
    site_title = "TrustSupport admin"
    index_title = "Schools, partners, users and policy"
    login_form = TrustAdminAuthenticationForm

    def register(self, model_or_iterable, admin_class=None, **options) -> None:
        admin_class = admin_class or type("ModelAdmin", (admin.ModelAdmin,), {})
        _trust_form(admin_class)
        for inline in getattr(admin_class, "inlines", ()):
            _trust_form(inline)
        super().register(model_or_iterable, admin_class, **options)

    def has_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and scope_for(request.user).is_admin
