"""Reads of uniform, gifts, stock and requests, scoped through ``support.scopes.scope_for``.

School staff see their schools' items, gifts and requests; finance and trust admins see all;
charity staff see none.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from support.scopes import scope_for
from uniform.models import Gift, StockLevel, StockMovement, SupportRequest, UniformItem, WelcomePack

User = AbstractBaseUser | AnonymousUser


def _school_filter(user: User, queryset: QuerySet, field: str = "school_id") -> QuerySet:
    scope = scope_for(user)
    if scope.is_admin or scope.is_finance:
        return queryset
    if scope.is_school_staff:
        return queryset.filter(**{f"{field}__in": scope.school_ids})
    return queryset.none()


def uniform_items_visible_to(user: User) -> QuerySet[UniformItem]:
    return _school_filter(user, UniformItem.objects.all())


def welcome_packs_visible_to(user: User) -> QuerySet[WelcomePack]:
    return _school_filter(user, WelcomePack.objects.all())


def gifts_visible_to(user: User) -> QuerySet[Gift]:
    return _school_filter(user, Gift.objects.all())


def support_requests_visible_to(user: User) -> QuerySet[SupportRequest]:
    return _school_filter(user, SupportRequest.objects.all())


def stock_levels_visible_to(user: User) -> QuerySet[StockLevel]:
    return _school_filter(user, StockLevel.objects.all(), "item__school_id")


def stock_movements_visible_to(user: User) -> QuerySet[StockMovement]:
    return _school_filter(user, StockMovement.objects.all(), "item__school_id")


def support_requests_to_decide(user: User) -> QuerySet[SupportRequest]:
    """Requests waiting for a lead's decision at the schools the user leads (every school, for a trust
    admin): the lead's queue, and home's count of it."""
    scope = scope_for(user)
    waiting = support_requests_visible_to(user).filter(status=SupportRequest.Status.REQUESTED)
    if not scope.is_admin:
        waiting = waiting.filter(school_id__in=scope.lead_school_ids)
    return waiting


def support_requests_sent_back(user: User) -> QuerySet[SupportRequest]:
    """Requests finance sent back for changes, at the user's schools: any of their staff may change one
    and send it on again (the requests list filtered to "Sent back for changes", and home's count of it)."""
    return support_requests_visible_to(user).filter(status=SupportRequest.Status.CHANGES)


def gifts_awaiting_sizes(user: User, *, academic_year: int) -> QuerySet[Gift]:
    """Welcome packs of ``academic_year`` with a size still to record (the overview's "Waiting for sizes")."""
    return gifts_visible_to(user).filter(academic_year=academic_year, status=Gift.Status.AWAITING_SIZES)
