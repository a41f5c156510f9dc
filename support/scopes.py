"""Who may see what: one scope per user, computed once per request.

Every list, detail, search, export, PDF, admin list and API queryset starts from a selector in
``support.selectors`` (or a feature app's selectors), and every selector starts from ``scope_for``.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from support.errors import SupportError
from support.models import Membership, Role, School

_CACHE_ATTR = "_support_scope"


@dataclass(frozen=True)
class Scope:
    roles: frozenset[str]
    school_ids: frozenset[int]
    lead_school_ids: frozenset[int]
    partner_ids: frozenset[int]
    is_admin: bool

    @property
    def is_finance(self) -> bool:
        return Role.FINANCE in self.roles

    @property
    def is_charity(self) -> bool:
        return Role.CHARITY in self.roles

    @property
    def is_school_staff(self) -> bool:
        return bool(self.school_ids)

    def has_role(self, *roles: str) -> bool:
        return self.is_admin or any(role in self.roles for role in roles)


NO_SCOPE = Scope(frozenset(), frozenset(), frozenset(), frozenset(), is_admin=False)


def scope_for(user: AbstractBaseUser | AnonymousUser | None) -> Scope:
    """The scope of ``user``: the union of their active memberships. Superusers are trust admins."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_SCOPE
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    # One query: a row per (active membership, school), or one row with no school.
    rows = (
        Membership.objects.filter(user=user, is_active=True)
        .order_by()
        .values_list("role", "partner_id", "schools__id")
    )
    return remember_scope(user, rows)


def remember_scope(
    user: AbstractBaseUser, rows: Iterable[tuple[str | None, int | None, int | None]]
) -> Scope:
    """Build ``user``'s scope from (role, partner id, school id) rows of their active memberships (role
    None for a user with none) and keep it on the user object for the rest of the request.

    The token authentication (``support.api.authentication``) reads these rows in the same query as the
    token, so an API request learns who is calling and what they may see in one round trip.
    """
    roles: set[str] = set()
    schools: set[int] = set()
    lead_schools: set[int] = set()
    partners: set[int] = set()
    for role, partner_id, school_id in rows:
        if role is None:
            continue
        roles.add(role)
        if role in (Role.PASTORAL, Role.LEAD) and school_id is not None:
            schools.add(school_id)
            if role == Role.LEAD:
                lead_schools.add(school_id)
        elif role == Role.CHARITY and partner_id:
            partners.add(partner_id)
    is_admin = bool(getattr(user, "is_superuser", False)) or Role.ADMIN in roles
    if is_admin:
        roles.add(Role.ADMIN)
    scope = Scope(
        frozenset(roles), frozenset(schools), frozenset(lead_schools), frozenset(partners), is_admin
    )
    setattr(user, _CACHE_ATTR, scope)
    return scope


def forget_scope(user: AbstractBaseUser) -> None:
    """Drop the cached scope, e.g. after a membership changes within one request or test."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def require_school(user: AbstractBaseUser, school: School | int, *, lead: bool = False) -> None:
    """Refuse (SupportError) unless ``user`` works at ``school`` — as a pastoral lead when ``lead``.

    Services call this for rules about who may act for a school; doors have already checked the role.
    """
    scope = scope_for(user)
    school_id = school.pk if isinstance(school, School) else school
    allowed = scope.lead_school_ids if lead else scope.school_ids
    if not (scope.is_admin or school_id in allowed):
        role = "a pastoral lead" if lead else "staff"
        where = school.name if isinstance(school, School) else "the school"
        raise SupportError(f"Only {role} at {where} can do this.", code="forbidden")
