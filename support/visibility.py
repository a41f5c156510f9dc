"""The field-visibility table: which fields of each model each role may see.

One table, read by every door that shows, searches, filters or sorts by a field: API serializers
(``support.api.visibility.VisibleFieldsMixin``), the API's search, ordering and filter backends, and
the pages and exports that hide case details from finance. A role cannot search, filter or sort by a
field it cannot see, because those doors ask the same question (``can_see``).

Rows are registered per model. The core registers its own models here; a feature app registers its
models from its ``AppConfig.ready`` (the core never imports a feature app). A field may be a model
field, a relation (followed with ``__``), or a name a serializer or filter adds (``Reads``): such a
name is visible only to the roles that may see every field it reads.

A field nobody registered is visible to trust admins only: a new field stays hidden until someone
decides who may see it, and ``tests/security/test_visibility.py`` fails until they do.
"""

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from support.models import Role
from support.scopes import scope_for

ALL_ROLES = frozenset(Role.values)
SCHOOL_STAFF = frozenset({Role.PASTORAL, Role.LEAD})
# Who sees money and the facts of support, but no names and no case details.
MONEY = SCHOOL_STAFF | {Role.FINANCE}
FINANCE = frozenset({Role.FINANCE})
EVERYONE = frozenset({Role.PASTORAL, Role.LEAD, Role.FINANCE, Role.CHARITY})
NOBODY: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Reads:
    """A name that is not a model field (a serializer's computed field, a filter that searches):
    visible to the roles that may see every path it reads (``"pupil__surname"``)."""

    paths: tuple[str, ...]

    def __init__(self, *paths: str) -> None:
        object.__setattr__(self, "paths", paths)


Rule = frozenset[str] | Reads
_TABLE: dict[str, dict[str, Rule]] = {}
_VERSION = [0]  # bumped by every change to the table: what is remembered from it is keyed by it


def _label(model: type[models.Model] | str) -> str:
    return model if isinstance(model, str) else model._meta.label


def register_fields(model: type[models.Model], rules: Mapping[str, Iterable[str] | Reads]) -> None:
    """Say who may see each named field of ``model`` (roles; trust admins see everything).

    Called at start-up; registering a field again replaces its rule.
    """
    rows = _TABLE.setdefault(_label(model), {})
    for name, rule in rules.items():
        rows[name] = rule if isinstance(rule, Reads) else frozenset(rule)
    roles_seeing.cache_clear()
    _VERSION[0] += 1


def table_version() -> int:
    """Changes whenever the table does (a cache of answers read from it keys on it)."""
    return _VERSION[0]


def table() -> dict[str, dict[str, Rule]]:
    """A copy of the whole table (for the threat model's tests and the docs)."""
    return {label: dict(rows) for label, rows in _TABLE.items()}


def is_declared(model: type[models.Model], name: str) -> bool:
    return name in _TABLE.get(_label(model), {})


def roles_of(user: AbstractBaseUser | AnonymousUser | None) -> frozenset[str] | None:
    """The user's roles, or None for a trust admin (who sees every field)."""
    scope = scope_for(user)
    return None if scope.is_admin else scope.roles


@functools.lru_cache(maxsize=4096)
def roles_seeing(model: type[models.Model], path: str) -> frozenset[str]:
    """The roles (trust admins aside) that may see ``path`` (``"name"``, ``"pupil__surname"``) of
    ``model``. Every hop of a relation must be visible, and the field at its end.

    Remembered (every serializer asks it of every field on every request); ``register_fields``
    forgets what it remembered."""
    return _roles_seeing(model, path, depth=0)


def _roles_seeing(model: type[models.Model], path: str, *, depth: int) -> frozenset[str]:
    if depth > 8:  # a Reads that reads itself, through some loop
        return NOBODY
    name, _, rest = path.partition("__")
    rows = _TABLE.get(_label(model), {})
    if name not in rows:
        try:  # a relation's column (``partner_id``) is the relation
            name = model._meta.get_field(name).name
        except FieldDoesNotExist:
            return NOBODY
    rule = rows.get(name)
    if isinstance(rule, Reads):
        allowed = ALL_ROLES
        for read in rule.paths:
            allowed &= _roles_seeing(model, read, depth=depth + 1)
    else:
        allowed = rule if rule is not None else NOBODY
    if not rest or not allowed:
        return allowed
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return NOBODY
    target = field.related_model if field.is_relation else None
    if target is None or target == "self":
        # A lookup on a plain field (``issued_at__date``) reads the field itself.
        return allowed
    return allowed & _roles_seeing(target, rest, depth=depth + 1)


def can_see(user: AbstractBaseUser | AnonymousUser | None, model: type[models.Model], path: str) -> bool:
    """May ``user`` see ``path`` of ``model``? The one question every door asks."""
    return roles_can_see(roles_of(user), model, path)


def roles_can_see(roles: frozenset[str] | None, model: type[models.Model], path: str) -> bool:
    """``can_see`` for a user with ``roles`` (None: a trust admin)."""
    if roles is None:
        return True
    return bool(roles & roles_seeing(model, path))


def lookup_path(field_path: str) -> str:
    """A search or ordering field as a model path: ``"^name"``, ``"-surname"``, ``"pupil.surname"``."""
    return field_path.lstrip("^=@$-").replace(".", "__")


# --- The core's models ---------------------------------------------------------------------------


def register_core() -> None:
    """The core's rows (``SupportConfig.ready``). Feature apps register theirs in their own ready()."""
    from django.contrib.auth import get_user_model

    from support.models import (
        Family,
        FamilyConsent,
        PartnerCharity,
        PartnerService,
        Pupil,
        PupilAttendance,
        SafeguardingReferral,
        School,
    )

    # Usernames show who did something (issued, redeemed, approved); names of families never.
    register_fields(get_user_model(), {"id": EVERYONE, "username": EVERYONE})
    # The trust's schools and partners are public knowledge.
    school = ("id", "name", "urn", "phase", "phone", "email", "is_active")
    register_fields(School, dict.fromkeys(school, EVERYONE))
    partner = ("id", "name", "address", "postcode", "phone", "email", "opening_times", "is_active")
    register_fields(PartnerCharity, {**dict.fromkeys(partner, EVERYONE), "services": EVERYONE})
    service = ("service", "description", "is_active", "partner")
    register_fields(PartnerService, dict.fromkeys(service, EVERYONE))
    # A family and its pupils are school staff's business only: finance counts money, not people.
    family = (
        "id", "lead_carer_name", "phone", "email", "address", "postcode", "adults", "children",
        "dietary_needs", "language", "language_noted", "created_at", "updated_at",
    )  # fmt: skip
    register_fields(
        Family,
        {
            **dict.fromkeys(family, SCHOOL_STAFF),
            "household_size": Reads("adults", "children"),
            "pupils": SCHOOL_STAFF,
            "consents": SCHOOL_STAFF,
            "school": Reads("pupils__school"),
            "q": Reads("lead_carer_name", "postcode", "email", "phone", "pupils__surname", "pupils__upn"),
            # The list's order: by the carer's surname (a key made from the name).
            "carer_sort_key": Reads("lead_carer_name"),
        },
    )
    # Whom the family agreed to share with, and when: the family's schools' staff, like the family itself.
    consent = (
        "id", "partner", "partner_name", "given_on", "method", "recorded_by", "recorded_at", "migrated",
        "confirmed_by", "confirmed_at", "withdrawn_on", "withdrawn_by", "withdrawn_at", "is_current",
        "awaits_confirmation",
    )  # fmt: skip
    register_fields(FamilyConsent, dict.fromkeys(consent, SCHOOL_STAFF))
    pupil = (
        "id", "upn", "legal_forename", "preferred_forename", "surname", "date_of_birth", "year_group",
        "school", "family", "fsm", "pupil_premium", "in_need",
        # The measures of disadvantage, kept apart (issue 20.5).
        "fsm_start", "fsm_end", "uifsm", "service_child", "looked_after",
    )  # fmt: skip
    register_fields(Pupil, dict.fromkeys(pupil, SCHOOL_STAFF))
    # That a concern was passed on (never the concern): the pupil's school only (the selector scopes it).
    referral = ("id", "pupil", "school", "passed_by_name", "lead_kind", "lead_name", "passed_at")
    register_fields(SafeguardingReferral, dict.fromkeys(referral, SCHOOL_STAFF))
    # A pupil's attendance per term (issue 18), as imported: the pupil's school's staff, like the pupil.
    # Trustees see no field of any family, pupil or voucher: only the impact report's suppressed counts.
    attendance = ("id", "pupil", "school", "academic_year", "term", "percent", "updated_at")
    register_fields(PupilAttendance, dict.fromkeys(attendance, SCHOOL_STAFF))


def visible_names(user: AbstractBaseUser | AnonymousUser | None, model: type[models.Model]) -> frozenset[str]:
    """The table's names of ``model`` that ``user`` may see: a page or export shows a field when its
    name is in here (``{% if "reason" in sees %}``)."""
    return frozenset(name for name in _TABLE.get(_label(model), {}) if can_see(user, model, name))


def order_visible(
    queryset: models.QuerySet, user: AbstractBaseUser | AnonymousUser | None
) -> models.QuerySet:
    """``queryset`` sorted only by fields ``user`` may see: a term of its ordering (given, or the model's
    default) that reads a hidden field is dropped, then ``pk`` breaks ties. A list in pupils' surname
    order would otherwise tell finance each pupil's place in the alphabet."""
    query = queryset.query
    terms = list(query.order_by) or (list(queryset.model._meta.ordering) if query.default_ordering else [])
    kept = [term for term in terms if not isinstance(term, str) or _orderable(user, queryset.model, term)]
    if kept == terms:
        return queryset
    return queryset.order_by(*kept, "pk")


def _orderable(user: AbstractBaseUser | AnonymousUser | None, model: type[models.Model], term: str) -> bool:
    path = lookup_path(term)
    return path in ("pk", "?") or can_see(user, model, path)
