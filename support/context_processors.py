from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from support import registry
from support.models import Role
from support.permissions import has_perm
from support.scopes import scope_for


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    current: bool


def register_core_nav() -> None:
    """The core's own header links; feature apps add theirs (``support.registry.register_nav_item``)."""
    registry.register_nav_item("Home", url_name="home", permission=None, prefix=None, order=0)
    registry.register_nav_item(
        "Families", url_name="family_list", permission="families.view", prefix="/families/", order=20
    )
    registry.register_nav_item(
        "Pupil import", url_name="import_list", permission="pupils.import", prefix="/imports/", order=90
    )
    registry.register_nav_item(
        "Possible duplicates",
        url_name="duplicate_list",
        permission="families.merge",
        prefix="/duplicates/",
        order=100,
    )
    registry.register_nav_item("API", url_name="api_docs", permission=None, prefix="/api/", order=110)
    registry.register_nav_item(
        "Admin", url_name="admin:index", permission="policy.edit", prefix="/admin/", order=120
    )


def shell(request: HttpRequest) -> dict:
    context: dict = {
        "trust_name": settings.TRUST_NAME,
        "lockout_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return context
    scope = scope_for(user)
    items = []
    for entry in registry.nav_entries():
        if entry.permission is not None and not has_perm(user, entry.permission):
            continue
        if entry.url_name == "api_docs" and not scope.roles:
            continue
        url = reverse(entry.url_name)
        current = request.path == url if entry.prefix is None else request.path.startswith(entry.prefix)
        items.append(NavItem(entry.label, url, current))
    context["nav_items"] = items
    for section in registry.section_navs():
        if has_perm(user, section.permission):
            context[f"{section.name}_nav"] = list(section.items)
    context["role_labels"] = [label for value, label in Role.choices if value in scope.roles]
    return context
