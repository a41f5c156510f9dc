from typing import TYPE_CHECKING

from rest_framework.permissions import BasePermission

if TYPE_CHECKING:  # importing these at run time is circular: DRF loads this class while importing views
    from rest_framework.request import Request
    from rest_framework.views import APIView

from support.permissions import has_perm


class HasRolePermission(BasePermission):
    """The API's one permission check. A view declares ``permission = "families.view"``, or a dict
    from action name to permission (``permissions = {"list": ..., "update": ...}``).

    A view that declares nothing is refused: a new endpoint must say who may use it.
    """

    def has_permission(self, request: "Request", view: "APIView") -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        permission = _declared(view)
        if permission is None:
            return False
        return has_perm(request.user, permission)


def _declared(view: "APIView") -> str | None:
    per_action = getattr(view, "permissions", None)
    action = getattr(view, "action", None)
    if per_action and action in per_action:
        return per_action[action]
    return getattr(view, "permission", None)
