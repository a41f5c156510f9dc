"""The kinds of support the impact report counts, each family and pupil once across all of them.

A kind is a key, a label and ``events(start, end)``: a queryset of tuples (``values_list``) of
``family_id, pupil_id, school_id, on`` — one row per piece of support given from ``start`` to ``end``
(local days, inclusive); ``pupil_id`` is None for support given to the family as a whole (a voucher), in
which case the family's pupils on that school's roll count as supported. The report unions the kinds'
querysets in SQL (``impact.selectors``), so a family helped three ways is counted once.

Kinds come from two places, so that nothing has to import ``impact``:
- ``impact.registrations`` registers vouchers (one kind per service), welcome packs, coats, shoes and
  uniform for need, from those apps' selectors;
- any installed app whose ``AppConfig`` has ``impact_support_kinds()`` returning
  ``[(key, label, events), ...]`` (signposting, second-hand uniform): read once at start-up.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet

Events = Callable[[datetime.date, datetime.date], QuerySet]


@dataclass(frozen=True)
class SupportKind:
    key: str  # "welcome_pack", "coat", "voucher"
    label: str  # "Coats"
    events: Events
    group: str = ""
    # A kind counted in parts (vouchers by service): ((part key, label), ...). Its ``events`` then give a
    # fifth column, the part's key, so one scan of the table serves every part.
    parts: tuple[tuple[str, str], ...] = ()

    def listed(self) -> list["SupportKind"]:
        """What the report lists: the kind, or each of its parts."""
        if not self.parts:
            return [self]
        return [SupportKind(key, label, self.events, self.label) for key, label in self.parts]


_KINDS: dict[str, SupportKind] = {}


def register_support_kind(
    key: str, label: str, events: Events, *, group: str = "", parts: tuple[tuple[str, str], ...] = ()
) -> None:
    """Add (or replace) a kind of support the report counts (``parts``: see ``SupportKind``)."""
    _KINDS[key] = SupportKind(key, label, events, group, tuple(parts))


def unregister_support_kind(key: str) -> None:
    _KINDS.pop(key, None)


def support_kinds() -> list[SupportKind]:
    """Every registered kind, in the order registered."""
    return list(_KINDS.values())


def collect_app_kinds() -> None:
    """Register the kinds each installed app's ``AppConfig.impact_support_kinds()`` declares."""
    from django.apps import apps

    for config in apps.get_app_configs():
        declare = getattr(config, "impact_support_kinds", None)
        if declare is None:
            continue
        for key, label, events, *rest in declare():
            register_support_kind(key, label, events, group=rest[0] if rest else "")


def listed_kinds() -> list[SupportKind]:
    """Every kind as the report lists it (a kind in parts, each part)."""
    return [listed for kind in support_kinds() for listed in kind.listed()]
