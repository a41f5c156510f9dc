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


class TrustAdminSite(admin.AdminSite):
    """Django admin for trust admins only: the role decides, not the is_staff flag."""

    site_header = "TrustSupport administration"
    site_title = "TrustSupport admin"
    index_title = "Schools, partners, users and policy"
    login_form = TrustAdminAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and scope_for(request.user).is_admin
