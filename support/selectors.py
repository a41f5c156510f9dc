"""Reads, always scoped to the user asking. A door that queries ``Model.objects`` directly is a bug."""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, QuerySet, Subquery

from support.hot_queries import hot_query
from support.models import (
    AuditEvent,
    Contact,
    Enrolment,
    Family,
    FamilyDuplicate,
    PartnerCharity,
    Pupil,
    PupilImport,
    SafeguardingReferral,
    School,
)
from support.scopes import scope_for

User = AbstractBaseUser | AnonymousUser


def schools_visible_to(user: User) -> QuerySet[School]:
    scope = scope_for(user)
    if scope.is_admin or scope.is_finance:
        return School.objects.all()
    return School.objects.filter(pk__in=scope.school_ids)


def lead_schools_of(user: User) -> QuerySet[School]:
    """Schools where the user may do a lead's work (import pupils, merge families, approve)."""
    scope = scope_for(user)
    if scope.is_admin:
        return School.objects.all()
    return School.objects.filter(pk__in=scope.lead_school_ids)


def on_roll_at(school_ids: Iterable[int] | int) -> Exists:
    """A filter for pupils on the current roll (main or subsidiary) of any of ``school_ids``."""
    ids = list(school_ids) if isinstance(school_ids, list | tuple | set | frozenset) else [school_ids]
    return Exists(Enrolment.objects.current().filter(pupil=OuterRef("pk"), school_id__in=ids))


def family_on_roll_at(school_ids: Iterable[int] | int) -> Exists:
    """A filter for families with a pupil on the current roll of any of ``school_ids``."""
    ids = list(school_ids) if isinstance(school_ids, list | tuple | set | frozenset) else [school_ids]
    return Exists(Enrolment.objects.current().filter(pupil__family=OuterRef("pk"), school_id__in=ids))


def pupils_visible_to(user: User) -> QuerySet[Pupil]:
    """Pupils on the current roll of one of the user's schools (dual registration counts at both).
    A sibling at another school stays that school's data; a roll the pupil left no longer counts."""
    scope = scope_for(user)
    if scope.is_admin:
        return Pupil.objects.all()
    if not scope.school_ids:
        return Pupil.objects.none()
    return Pupil.objects.filter(on_roll_at(scope.school_ids))


@hot_query
def _pupils_of_families(family_ids: tuple) -> QuerySet[Pupil]:
    return Pupil.objects.filter(family_id__in=family_ids).order_by("year_group", "pk")


@hot_query
def _pupils_of_families_at(family_ids: tuple, school_ids: tuple) -> QuerySet[Pupil]:
    return Pupil.objects.filter(on_roll_at(list(school_ids)), family_id__in=family_ids).order_by(
        "year_group", "pk"
    )


def family_page_pupils(user: User, family_ids: list[int]) -> dict[int, list[Pupil]]:
    """Of a page of families, each one's pupils the user may see (as ``pupils_visible_to``), by year
    group: one query compiled once per page size (``support.hot_queries``), not a prefetch built and
    compiled on every request."""
    scope = scope_for(user)
    found: dict[int, list[Pupil]] = {pk: [] for pk in family_ids}
    if not family_ids or (not scope.is_admin and not scope.school_ids):
        return found
    ids = tuple(family_ids)
    pupils = (
        _pupils_of_families(ids)
        if scope.is_admin
        else _pupils_of_families_at(ids, tuple(sorted(scope.school_ids)))
    )
    for pupil in pupils:
        found[pupil.family_id].append(pupil)
    return found


def former_pupils_visible_to(user: User) -> QuerySet[Pupil]:
    """Pupils who left the roll of one of the user's schools and are on none of them now, each with
    ``left_here`` (the latest leaving date there). Only shown inside a family the user can see."""
    scope = scope_for(user)
    if scope.is_admin:
        ids = None
    elif not scope.school_ids:
        return Pupil.objects.none()
    else:
        ids = list(scope.school_ids)
    rolls = Enrolment.objects.filter(pupil=OuterRef("pk"), left_on__isnull=False)
    current = Enrolment.objects.current().filter(pupil=OuterRef("pk"))
    if ids is not None:
        rolls, current = rolls.filter(school_id__in=ids), current.filter(school_id__in=ids)
    return (
        Pupil.objects.filter(Exists(rolls))
        .exclude(Exists(current))
        .annotate(left_here=Subquery(rolls.order_by("-left_on").values("left_on")[:1]))
    )


def families_visible_to(user: User) -> QuerySet[Family]:
    """Families with at least one pupil on the roll of one of the user's schools (all for admins)."""
    scope = scope_for(user)
    if scope.is_admin:
        return Family.objects.all()
    if not scope.school_ids:
        return Family.objects.none()
    return Family.objects.filter(family_on_roll_at(scope.school_ids))


def family_visible_to(user: User, pk: int) -> Family | None:
    """``families_visible_to(user).filter(pk=pk)``'s family, or None, by SQL compiled once per connection
    (support.hot_queries): every voucher issued names a family."""
    scope = scope_for(user)
    if scope.is_admin:
        found = _family(pk)
    elif not scope.school_ids:
        return None
    else:
        found = _family_on_roll(pk, tuple(sorted(scope.school_ids)))
    return found[0] if found else None


def school_visible_to(user: User, pk: int) -> School | None:
    """``schools_visible_to(user).filter(pk=pk)``'s school, or None, compiled once per connection."""
    scope = scope_for(user)
    if not (scope.is_admin or scope.is_finance or pk in scope.school_ids):
        return None
    found = _school(pk)
    return found[0] if found else None


@hot_query
def _family(pk: int) -> QuerySet[Family]:
    return Family.objects.filter(pk=pk)


@hot_query
def _family_on_roll(pk: int, school_ids: tuple[int, ...]) -> QuerySet[Family]:
    return Family.objects.filter(family_on_roll_at(school_ids), pk=pk)


@hot_query
def _school(pk: int) -> QuerySet[School]:
    return School.objects.filter(pk=pk)


def family_schools_visible_to(user: User, family: Family) -> QuerySet[School]:
    """The user's schools that have one of ``family``'s pupils on their current roll."""
    return schools_visible_to(user).filter(
        Exists(Enrolment.objects.current().filter(school=OuterRef("pk"), pupil__family=family))
    )


def family_search(
    *,
    user: User,
    query: str = "",
    school_id: int | None = None,
    families: QuerySet[Family] | None = None,
) -> QuerySet[Family]:
    """Families the user may see that match ``query`` the way staff type it (``support.search``: any
    phone format, a postcode with or without its space, a misspelt or titled name, a UPN, a voucher
    code), best match first, then by surname. Merged-away records are left out.

    ``families`` narrows a door's own queryset (with its prefetches); it must already be scoped to
    ``user`` (it comes from ``families_visible_to``)."""
    from support.search import family_search_apply

    if families is None:
        families = families_visible_to(user)
    families = families.filter(merged_into__isnull=True).order_by("carer_sort_key", "pk")
    scope = scope_for(user)
    # The schools a name is looked for through (None: the whole trust, for an admin).
    school_ids = None if scope.is_admin else sorted(scope.school_ids)

    # Pupil names count only through pupils the user may see, so a search never reveals that a family
    # has a child of a given name at a school outside the user's scope. Built only when read: the
    # names table's road (PostgreSQL) has the scope in its rows.
    def visible_pupils() -> QuerySet[Pupil]:
        pupils = pupils_visible_to(user)
        return pupils if school_id is None else pupils.filter(on_roll_at(school_id))

    if school_id is not None:
        families = families.filter(Exists(visible_pupils().filter(family=OuterRef("pk"))))
        school_ids = [school_id] if school_ids is None else [s for s in school_ids if s == school_id]
    return family_search_apply(
        families, user=user, query=query, visible_pupils=visible_pupils, school_ids=school_ids
    )


def partners_visible_to(user: User) -> QuerySet[PartnerCharity]:
    scope = scope_for(user)
    if scope.is_admin or scope.is_finance or scope.is_school_staff:
        return PartnerCharity.objects.all()
    return PartnerCharity.objects.filter(pk__in=scope.partner_ids)


def family_duplicates_visible_to(user: User) -> QuerySet[FamilyDuplicate]:
    """Likely duplicate pairs for a lead of a school where either family has a pupil."""
    scope = scope_for(user)
    if scope.is_admin:
        return FamilyDuplicate.objects.all()
    if not scope.lead_school_ids:
        return FamilyDuplicate.objects.none()
    at_lead_school = Pupil.objects.filter(on_roll_at(scope.lead_school_ids))
    return FamilyDuplicate.objects.filter(
        Exists(at_lead_school.filter(family=OuterRef("family_a")))
        | Exists(at_lead_school.filter(family=OuterRef("family_b")))
    )


def family_duplicates_waiting(user: User) -> QuerySet[FamilyDuplicate]:
    """The pairs waiting for a lead to merge or keep apart: the duplicates page's list and home's count."""
    return family_duplicates_visible_to(user).filter(
        status__in=[FamilyDuplicate.Status.OPEN, FamilyDuplicate.Status.REQUESTED]
    )


def families_spoken_for(user: User, family_ids: list[int]) -> set[int]:
    """Of ``family_ids``, the families the user may decide about as a lead: a pupil at one of their lead
    schools (every family, for an admin). A lead never decides for another school's family alone."""
    scope = scope_for(user)
    if scope.is_admin:
        return set(Family.objects.filter(pk__in=family_ids).values_list("pk", flat=True))
    return set(
        Pupil.objects.filter(on_roll_at(scope.lead_school_ids), family_id__in=family_ids)
        .values_list("family_id", flat=True)
        .distinct()
    )


def imports_visible_to(user: User) -> QuerySet[PupilImport]:
    scope = scope_for(user)
    if scope.is_admin:
        return PupilImport.objects.all()
    return PupilImport.objects.filter(school_id__in=scope.lead_school_ids)


def imports_ready_to_apply(user: User) -> QuerySet[PupilImport]:
    """Uploads previewed and waiting for a lead to apply them (until the preview expires)."""
    return imports_visible_to(user).filter(status=PupilImport.Status.PREVIEWED)


def audit_events_visible_to(user: User) -> QuerySet[AuditEvent]:
    scope = scope_for(user)
    if scope.is_admin:
        return AuditEvent.objects.all()
    return AuditEvent.objects.none()


def contacts_visible_to(user: AbstractBaseUser) -> QuerySet[Contact]:
    """Contacts of the families the user may see (school staff; trust admins see all)."""
    return Contact.objects.filter(family__in=families_visible_to(user)).order_by("family", "priority", "pk")


def safeguarding_referrals_visible_to(
    user: AbstractBaseUser | AnonymousUser,
) -> QuerySet[SafeguardingReferral]:
    scope = scope_for(user)
    return SafeguardingReferral.objects.filter(school_id__in=scope.school_ids)
