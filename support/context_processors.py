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
    """A header link, or (with ``items``) a group's menu of links."""

    label: str
    url: str
    current: bool
    items: tuple["NavItem", ...] = ()


def register_core_nav() -> None:
    """The core's own header links; feature apps add theirs (``support.registry.register_nav_item``)."""
    registry.register_guide("imports", title="Importing pupils", permission="pupils.import")
    registry.register_guide("duplicates", title="Possible duplicate families", permission="families.merge")
    registry.register_nav_group("families", label="Families", order=20)
    registry.register_nav_group("admin", label="Admin", order=120)
    registry.register_nav_item("Home", url_name="home", permission=None, prefix=None, order=0)
    registry.register_nav_item(
        "Families",
        url_name="family_list",
        permission="families.view",
        prefix="/families/",
        order=20,
        group="families",
    )
    registry.register_nav_item(
        "Pupil import",
        url_name="import_list",
        permission="pupils.import",
        prefix="/imports/",
        order=90,
        group="families",
    )
    registry.register_nav_item(
        "Possible duplicates",
        url_name="duplicate_list",
        permission="families.merge",
        prefix="/duplicates/",
        order=100,
        group="families",
    )
    registry.register_nav_item(
        "Admin", url_name="admin:index", permission="policy.edit", prefix="/admin/", order=110, group="admin"
    )
    # The API's pages are for whoever connects other systems: trust admins (``api.docs``).
    registry.register_nav_item(
        "API", url_name="api_docs", permission="api.docs", prefix="/api/", order=120, group="admin"
    )


def nav_items(request: HttpRequest, user) -> list[NavItem]:
    """The header's links for ``user``; when they are more than fit one line, each group's links fold
    into the group's menu (a group of one stays a plain link)."""
    shown: list[tuple[registry.NavEntry, NavItem]] = []
    for entry in registry.nav_entries():
        if entry.permission is not None and not has_perm(user, entry.permission):
            continue
        url = reverse(entry.url_name)
        current = request.path == url if entry.prefix is None else request.path.startswith(entry.prefix)
        shown.append((entry, NavItem(entry.label, url, current)))
    if len(shown) <= registry.NAV_FLAT_MAX:
        return [item for _, item in shown]
    members: dict[str, list[NavItem]] = {}
    for entry, item in shown:
        if entry.group is not None and registry.nav_group(entry.group) is not None:
            members.setdefault(entry.group, []).append(item)
    placed: list[tuple[int, NavItem]] = []
    for entry, item in shown:
        if entry.group in members and len(members[entry.group]) > 1:
            continue
        placed.append((entry.order, item))
    for key, items in members.items():
        if len(items) > 1:
            group = registry.nav_group(key)
            current = any(item.current for item in items)
            placed.append((group.order, NavItem(group.label, items[0].url, current, tuple(items))))
    return [item for _, item in sorted(placed, key=lambda pair: pair[0])]


def shell(request: HttpRequest) -> dict:
    context: dict = {
        "trust_name": settings.TRUST_NAME,
        "lockout_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return context
    scope = scope_for(user)
    context["nav_items"] = nav_items(request, user)
    for section in registry.section_navs():
        if has_perm(user, section.permission):
            context[f"{section.name}_nav"] = list(section.items)
    context["role_labels"] = [label for value, label in Role.choices if value in scope.roles]
    return context
