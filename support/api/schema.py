"""The OpenAPI schema and its docs, per caller: each role is shown only the endpoints it may call.

Every role that signs in uses the API for something (school staff: families, pupils, vouchers and
requests; finance: the fund; partner charities: checking and redeeming codes), so each is served a
schema; it holds the operations whose declared permission (``HasRolePermission``) lets that user
through, and the fields of each answer that the visibility table lets them see. A signed-in user
with no role gets none. Made without a request (``manage.py spectacular``), the schema is whole.
"""

from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.generators import SchemaGenerator
from rest_framework.permissions import BasePermission

from support.api.visibility import ALL_FIELDS, schema_viewer, visible
from support.scopes import scope_for


class RoleSchemaGenerator(SchemaGenerator):
    """Serializers the generator makes without a request show the caller's fields (``public=False``
    already drops the operations the caller's permission check refuses)."""

    def get_schema(self, request=None, public=False):
        token = schema_viewer.set(request.user if request is not None else ALL_FIELDS)
        try:
            return super().get_schema(request=request, public=public)
        finally:
            schema_viewer.reset(token)


class UsesTheApi(BasePermission):
    """Signed in, with a role: the schema and docs are for the API's users only."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        scope = scope_for(user)
        return scope.is_admin or bool(scope.roles)


class VisibleFilterExtension(DjangoFilterExtension):
    """A role's schema lists only the filters ``VisibleFilterBackend`` lets that role use: finance's
    does not offer ``?family=`` on vouchers or ``?pupil=`` on requests (which it would ignore)."""

    target_class = "support.api.visibility.VisibleFilterBackend"
    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        viewer = schema_viewer.get()
        hidden = viewer not in (None, ALL_FIELDS) and not visible(
            viewer,
            model,
            field_name,
            filter_field.field_name,  # type: ignore[arg-type]
        )
        if hidden:
            return []
        return super().resolve_filter_field(auto_schema, model, filterset_class, field_name, filter_field)
