"""What the core learns about feature apps: small registries they fill from ``AppConfig.ready``.

The core (``support``) never imports a feature app. It reads these registries instead:

- permissions: ``register_permissions`` adds a feature's action names and the roles granted each
  (``support.permissions.has_perm`` is still the one check);
- navigation: ``register_nav_item`` adds a link to the header (optionally in a group registered with
  ``register_nav_group``, which folds into one menu when a user sees too many links for one line),
  ``register_section_nav`` a section's own sub-navigation (finance's tabs);
- home page: ``register_home_panel`` adds a panel (a template and a context function) to one of home's
  slots: ``start`` (the role's first job: the charity's code box), ``work`` (counts of the work waiting,
  each a ``WorkWaiting`` linking to its queue) or ``main`` (finance's standby fund);
- family page: ``register_family_panel`` adds a panel in one of the page's slots;
- family timeline: ``register_timeline_source`` adds a kind of entry to the family's timeline
  (``support.timeline``);
- guides: ``register_guide`` adds a short guide for a task (``docs/guides/<slug>.md``), served at
  ``/help/<slug>/`` to users holding its permission (``support.guides``).

Each context or entries function is called with the request's user and is responsible for its own scope:
it returns None (panel) or nothing (timeline) when the user may not see it. Registering a name again
replaces the earlier registration, so a reloaded app does not appear twice. An entry counts only while
the app that registered it (the package of the module that called ``register_*``) is installed, so the
core's pages still work when a feature app is taken out of ``INSTALLED_APPS``.
"""

import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.http import HttpRequest

from support.permissions import PERMISSIONS


def _registering_app() -> str:
    """The top-level package of the module that called a ``register_*`` function."""
    return sys._getframe(2).f_globals.get("__name__", "").partition(".")[0]


def _installed(app: str) -> bool:
    return apps.is_installed(app)


# --- Permissions ---------------------------------------------------------------------------------


def register_permissions(grants: Mapping[str, Iterable[str]]) -> None:
    """Add (or replace) feature action names and the roles they are granted to (trust admins: all)."""
    for name, roles in grants.items():
        PERMISSIONS[name] = frozenset(roles)


# --- Navigation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    permission: str | None  # None: every signed-in user
    prefix: str | None  # the path prefix that marks it current; None: only its own URL
    order: int
    app: str = "support"
    group: str | None = None  # a key given to register_nav_group


@dataclass(frozen=True)
class NavGroup:
    key: str
    label: str
    order: int
    app: str = "support"


_NAV: dict[str, NavEntry] = {}
_NAV_GROUPS: dict[str, NavGroup] = {}

# The most top-level header links that still fit one line at 1280 px beside the service name and
# "Sign out" (measured by tests/e2e/test_words.py); a user who sees more gets the groups folded.
NAV_FLAT_MAX = 5


def register_nav_item(
    label: str,
    *,
    url_name: str,
    permission: str | None,
    prefix: str | None,
    order: int,
    group: str | None = None,
) -> None:
    """A link in the header for users holding ``permission``, placed by ``order`` (lower first).

    With ``group``, the link folds into that group's menu for users who see more than ``NAV_FLAT_MAX``
    links; the group then takes the place of its first link.
    """
    _NAV[url_name] = NavEntry(label, url_name, permission, prefix, order, _registering_app(), group)


def register_nav_group(key: str, *, label: str, order: int) -> None:
    """A header menu (a ``<details>``: it opens without JavaScript) that links with ``group=key`` join."""
    _NAV_GROUPS[key] = NavGroup(key, label, order, _registering_app())


def nav_entries() -> list[NavEntry]:
    shown = [entry for entry in _NAV.values() if _installed(entry.app)]
    return sorted(shown, key=lambda entry: (entry.order, entry.label))


def nav_group(key: str) -> NavGroup | None:
    group = _NAV_GROUPS.get(key)
    return group if group is not None and _installed(group.app) else None


@dataclass(frozen=True)
class SectionNav:
    name: str
    permission: str
    items: tuple[tuple[str, str, str], ...]  # (url name, label, section key)
    app: str = "support"


_SECTIONS: dict[str, SectionNav] = {}


def register_section_nav(name: str, *, permission: str, items: Iterable[tuple[str, str, str]]) -> None:
    """A section's sub-navigation, given to templates as ``<name>_nav`` for users holding ``permission``."""
    _SECTIONS[name] = SectionNav(name, permission, tuple(items), _registering_app())


def section_navs() -> list[SectionNav]:
    return [_SECTIONS[name] for name in sorted(_SECTIONS) if _installed(_SECTIONS[name].app)]


# --- Home and family-page panels -----------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    context: Callable[..., Any]
    order: int
    slot: str = "main"
    app: str = "support"


@dataclass(frozen=True)
class ShownPanel:
    """A panel to render: ``{% include panel.template with panel=panel.context %}``."""

    name: str
    template: str
    context: Any


_HOME: dict[str, Panel] = {}
_FAMILY: dict[str, Panel] = {}

# Home's slots: the role's first job (under the greeting), the work waiting (one task list), the rest.
HOME_SLOTS = ("start", "work", "main")

# The family page's slots: under the heading (actions), after consent (main), and in each pupil's card.
FAMILY_SLOTS = ("actions", "main", "pupil")


@dataclass(frozen=True)
class WorkWaiting:
    """One count on home's "Waiting for you" list, linking to the queue it counted.

    ``url`` opens that queue filtered to exactly what ``count`` counted, so the number and the list agree.
    """

    name: str  # what waits, as the queue calls it: "Requests to decide"
    count: int
    url: str
    hint: str = ""  # one line on what counts and what to do


WORK_TEMPLATE = "includes/work_waiting.html"


def register_home_panel(
    name: str,
    *,
    template: str = WORK_TEMPLATE,
    context: Callable[[HttpRequest], Any],
    slot: str = "main",
    order: int = 100,
) -> None:
    """A panel on home, in one of ``HOME_SLOTS``. ``context(request)`` returns the template's ``panel``, or
    None to hide it; in the ``work`` slot, a list of ``WorkWaiting`` (each an item of one task list, so
    each counts in one query whatever the data holds: home's query count stays flat)."""
    if slot not in HOME_SLOTS:
        raise ValueError(f"Unknown home slot {slot!r}: one of {HOME_SLOTS}")
    _HOME[name] = Panel(name, template, context, order, slot, _registering_app())


def home_panels(request: HttpRequest) -> dict[str, list[ShownPanel]]:
    """Home's panels by slot, each scoped by its own context function."""
    by_slot: dict[str, list[ShownPanel]] = {slot: [] for slot in HOME_SLOTS}
    for panel in sorted(_HOME.values(), key=lambda p: (p.order, p.name)):
        if not _installed(panel.app):
            continue
        context = panel.context(request)
        if context is None or (panel.slot == "work" and not context):  # not for this user
            continue
        by_slot[panel.slot].append(ShownPanel(panel.name, panel.template, context))
    return by_slot


def register_family_panel(
    name: str, *, template: str, context: Callable[..., Any], slot: str = "main", order: int = 100
) -> None:
    """A panel on the family page.

    For the ``actions`` and ``main`` slots ``context(request, family)`` returns the template's ``panel``
    or None to hide it. For the ``pupil`` slot ``context(request, family, pupils)`` returns a mapping of
    pupil id to that pupil's ``panel`` (pupils left out show nothing): one call for all the pupils, so
    the page's query count does not grow with them.
    """
    if slot not in FAMILY_SLOTS:
        raise ValueError(f"Unknown family-page slot {slot!r}: one of {FAMILY_SLOTS}")
    _FAMILY[name] = Panel(name, template, context, order, slot, _registering_app())


def family_panels(request: HttpRequest, family: Any, pupils: list) -> dict[str, list[ShownPanel]]:
    """The family page's panels by slot; each pupil in ``pupils`` gets ``pupil.panels``."""
    by_slot: dict[str, list[ShownPanel]] = {slot: [] for slot in FAMILY_SLOTS}
    for pupil in pupils:
        pupil.panels = []
    for panel in sorted(_FAMILY.values(), key=lambda p: (p.order, p.name)):
        if not _installed(panel.app):
            continue
        if panel.slot == "pupil":
            per_pupil = panel.context(request, family, pupils) or {}
            for pupil in pupils:
                if pupil.pk in per_pupil:
                    pupil.panels.append(ShownPanel(panel.name, panel.template, per_pupil[pupil.pk]))
            continue
        context = panel.context(request, family)
        if context is not None:
            by_slot[panel.slot].append(ShownPanel(panel.name, panel.template, context))
    return by_slot


# --- Family timeline -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineSource:
    kind: str
    label: str
    entries: Callable[..., list]
    permission: str | None
    order: int
    app: str = "support"


_TIMELINE: dict[str, TimelineSource] = {}


def register_timeline_source(
    kind: str,
    *,
    label: str,
    entries: Callable[..., list],
    permission: str | None = None,
    order: int = 100,
) -> None:
    """A kind of entry on the family timeline, for users holding ``permission``.

    ``entries(user=, family=, limit=)`` returns at most ``limit`` ``support.timeline.TimelineEntry``,
    newest first, each scoped to ``user``, in a fixed number of queries whatever the family holds.
    """
    _TIMELINE[kind] = TimelineSource(kind, label, entries, permission, order, _registering_app())


def timeline_sources() -> list[TimelineSource]:
    shown = [source for source in _TIMELINE.values() if _installed(source.app)]
    return sorted(shown, key=lambda s: (s.order, s.kind))


# --- Guides --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Guide:
    slug: str
    title: str
    permission: str | None
    app: str = "support"


_GUIDES: dict[str, Guide] = {}


def register_guide(slug: str, *, title: str, permission: str | None) -> None:
    """A task's guide, ``docs/guides/<slug>.md``, for users holding ``permission`` (None: everyone)."""
    _GUIDES[slug] = Guide(slug, title, permission, _registering_app())


def guides() -> list[Guide]:
    return [guide for guide in _GUIDES.values() if _installed(guide.app)]


def guide(slug: str) -> Guide | None:
    found = _GUIDES.get(slug)
    return found if found is not None and _installed(found.app) else None
