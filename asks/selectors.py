"""Reads of asks, scoped through ``support.scopes.scope_for``: only the pastoral leads of the ask's school
(and trust admins) see an ask. Other staff at the school do not: a parent asked the leads."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from asks.models import Ask, AskLink
from support.models import School
from support.scopes import scope_for

User = AbstractBaseUser | AnonymousUser


def asks_visible_to(user: User) -> QuerySet[Ask]:
    scope = scope_for(user)
    if scope.is_admin:
        return Ask.objects.all()
    return Ask.objects.filter(school_id__in=scope.lead_school_ids)


def asks_open_for(user: User) -> QuerySet[Ask]:
    """The lead's queue: asks not yet turned into help or closed, oldest first."""
    return asks_visible_to(user).filter(status__in=(Ask.Status.WAITING, Ask.Status.MATCHED))


def ask_schools_visible_to(user: User) -> QuerySet[School]:
    """Schools whose poster a user may print: staff of the school (the link is public anyway)."""
    scope = scope_for(user)
    if scope.is_admin:
        return School.objects.all()
    if scope.is_school_staff:
        return School.objects.filter(pk__in=scope.school_ids)
    return School.objects.none()


def ask_link_by_code(code: str) -> AskLink | None:
    """The active link typed or scanned, or None: a public read, with nothing about the school's families."""
    return AskLink.objects.select_related("school").filter(code=code.lower(), is_active=True).first()
