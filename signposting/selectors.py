"""Reads of the agency directory and of signposts, scoped through ``support.scopes.scope_for``.

School staff see the directory, and their own schools' signposts of families they can see; trust admins
see all. Finance, charity staff and anyone else see no signpost (which family went to which agency is a
case detail) and no directory.
"""

import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, F, IntegerField, Q, QuerySet, Value
from django.db.models.functions import Cast
from django.utils import timezone

from signposting.models import Agency, Signpost
from support.models import Family
from support.scopes import scope_for
from support.selectors import families_visible_to, family_schools_visible_to

User = AbstractBaseUser | AnonymousUser


def agencies_visible_to(user: User) -> QuerySet[Agency]:
    scope = scope_for(user)
    if scope.is_admin or scope.is_school_staff:
        return Agency.objects.all()
    return Agency.objects.none()


def agencies_for_family(user: User, family: Family) -> QuerySet[Agency]:
    """The active agencies serving one of the user's schools the family is at (an agency naming no school
    serves every school), safeguarding services included: choosing one shows the guidance instead."""
    school_ids = list(family_schools_visible_to(user, family).values_list("pk", flat=True))
    return (
        agencies_visible_to(user)
        .filter(is_active=True)
        .annotate(served=Count("schools"))
        .filter(Q(served=0) | Q(schools__in=school_ids))
        .distinct()
        .order_by("safeguarding", "name")
    )


def signposts_visible_to(user: User) -> QuerySet[Signpost]:
    """Signposts recorded at one of the user's schools, of families the user can see (all, for admins)."""
    scope = scope_for(user)
    if scope.is_admin:
        return Signpost.objects.all()
    if not scope.school_ids:
        return Signpost.objects.none()
    return Signpost.objects.filter(school_id__in=scope.school_ids, family__in=families_visible_to(user))


def follow_ups_due(user: User, *, today: datetime.date | None = None) -> QuerySet[Signpost]:
    """Open signposts whose follow-up date has come: those the user recorded, and, for a pastoral lead,
    every one at the schools they lead (home's count and the follow-ups list)."""
    today = today or timezone.localdate()
    scope = scope_for(user)
    mine = Q(recorded_by=user) if user.is_authenticated else Q(pk__in=[])
    if scope.lead_school_ids:
        mine |= Q(school_id__in=scope.lead_school_ids)
    return (
        signposts_visible_to(user)
        .filter(mine, follow_up_on__lte=today, outcome__in=["", Signpost.Outcome.WAITING])
        .order_by("follow_up_on", "pk")
    )


def support_events(start: datetime.date, end: datetime.date) -> QuerySet:
    """For the trust's impact report (aggregates only, never shown per family): one row per signpost,
    referral, Early Help assessment or team around the family given from ``start`` to ``end`` inclusive,
    as tuples ``family_id, pupil_id (None: it is for the family), school_id, on`` — the shape every kind
    of support gives the report, which unions them in SQL."""
    return (
        Signpost.objects.filter(given_on__gte=start, given_on__lte=end)
        .order_by()
        # A typed NULL: PostgreSQL types a UNION's column from its branches.
        .annotate(pupil_ref=Cast(Value(None), IntegerField()), on=F("given_on"))
        .values_list("family_id", "pupil_ref", "school_id", "on")
    )
