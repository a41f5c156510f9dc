"""Reads of uniform, gifts, stock and requests, scoped through ``support.scopes.scope_for``.

School staff see their schools' items, gifts and requests; finance and trust admins see all;
charity staff see none.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from support.dates import local_midnight
from support.models import School
from support.scopes import scope_for
from uniform.models import (
    SECONDHAND,
    Gift,
    StockLevel,
    StockMovement,
    SupportRequest,
    UniformItem,
    WelcomePack,
)

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


# --- Second-hand uniform ----------------------------------------------------------------------


def _day_bounds(start: datetime.date, end: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """From the start of ``start`` to the end of ``end``, in the trust's time zone."""
    return local_midnight(start), local_midnight(end + datetime.timedelta(days=1))


def secondhand_savings(start: datetime.date, end: datetime.date) -> dict[int, int]:
    """What donated second-hand uniform saved each school between ``start`` and ``end`` (inclusive):
    school id → pence, the items' unit cost new, for the second-hand items handed over (welcome packs)
    or taken for a request in those days. Schools that saved nothing are left out.

    Trust-wide aggregates with no pupil or family in them, for the trustees' impact report: the caller
    decides who may read them.
    """
    since, until = _day_bounds(start, end)
    rows = (
        StockMovement.objects.filter(
            kind=StockMovement.Kind.HANDOVER, condition__in=SECONDHAND, at__gte=since, at__lt=until
        )
        .values("item__school_id")
        .annotate(saved=Sum("saved_pence"))
        .order_by("item__school_id")
    )
    return {row["item__school_id"]: row["saved"] for row in rows if row["saved"]}


@dataclass(frozen=True)
class SecondhandRow:
    """One school's second-hand uniform: in stock now, and given out and saved between two days."""

    school: School
    in_stock: int
    given: int
    saved_pence: int


def secondhand_by_school(user: User, *, start: datetime.date, end: datetime.date) -> list[SecondhandRow]:
    """Second-hand uniform per school the user sees (the second-hand page and its API): in stock now,
    items given out and what they saved between ``start`` and ``end``."""
    schools = list(_school_filter(user, School.objects.filter(is_active=True), "pk").order_by("name"))
    since, until = _day_bounds(start, end)
    stock = dict(
        stock_levels_visible_to(user)
        .filter(condition__in=SECONDHAND)
        .values("item__school_id")
        .annotate(n=Sum("quantity"))
        .values_list("item__school_id", "n")
    )
    given = {
        row["item__school_id"]: row
        for row in stock_movements_visible_to(user)
        .filter(kind=StockMovement.Kind.HANDOVER, condition__in=SECONDHAND, at__gte=since, at__lt=until)
        .values("item__school_id")
        .annotate(n=Sum("change"), saved=Sum("saved_pence"))
    }
    return [
        SecondhandRow(
            school=school,
            in_stock=stock.get(school.pk) or 0,
            given=-(given[school.pk]["n"] or 0) if school.pk in given else 0,
            saved_pence=(given[school.pk]["saved"] or 0) if school.pk in given else 0,
        )
        for school in schools
    ]


# --- Aggregates for the impact report (impact/): counts only ----------------------------------------
# Unscoped by design, like vouchers.selectors.voucher_year_figures: the report is for roles that see the
# whole trust (``impact.view``) and shows counts grouped by school, suppressed where small.


def _handed_over_between(queryset: QuerySet, start: datetime.date, end: datetime.date) -> QuerySet:
    return queryset.filter(
        handed_over_at__gte=local_midnight(start),
        handed_over_at__lt=local_midnight(end + datetime.timedelta(days=1)),
    )


def gift_support_events(start: datetime.date, end: datetime.date) -> QuerySet:
    """Welcome packs handed over from ``start`` to ``end`` as support events:
    ``family_id, pupil_id, school_id, on``."""
    gifts = _handed_over_between(Gift.objects.filter(status=Gift.Status.HANDED_OVER), start, end)
    return (
        gifts.order_by()
        .annotate(on=TruncDate("handed_over_at"))
        .values_list("pupil__family_id", "pupil_id", "school_id", "on")
    )


def request_support_events(kind: str) -> Callable[[datetime.date, datetime.date], QuerySet]:
    """Coats, shoes or uniform for need (``kind``) handed over from ``start`` to ``end``, as support
    events: ``family_id, pupil_id, school_id, on``."""

    def events(start: datetime.date, end: datetime.date) -> QuerySet:
        handed = SupportRequest.objects.filter(kind=kind, status=SupportRequest.Status.HANDED_OVER)
        return (
            _handed_over_between(handed, start, end)
            .order_by()
            .annotate(on=TruncDate("handed_over_at"))
            .values_list("pupil__family_id", "pupil_id", "school_id", "on")
        )

    return events


def welcome_coverage(academic_year: int) -> list[dict]:
    """Per school and year group (Reception, Year 7): the pupils entitled to a welcome pack in
    ``academic_year`` (a gift was generated for them) and how many were handed over. One query."""
    return list(
        Gift.objects.filter(academic_year=academic_year)
        .order_by()
        .values("school_id", "year_group")
        .annotate(entitled=Count("pk"), handed_over=Count("pk", filter=Q(status=Gift.Status.HANDED_OVER)))
    )


def in_need_received(kind: str, period: int, pupils: QuerySet) -> list[dict]:
    """Per school, of ``pupils`` (a queryset of pupils flagged in need): how many there are and how many
    were handed a ``kind`` (coat, shoes) counted against ``period`` (the coat season's or the academic
    year's start year). One query."""
    handed = SupportRequest.objects.filter(
        pupil=OuterRef("pk"), kind=kind, period=period, status=SupportRequest.Status.HANDED_OVER
    )
    return list(
        pupils.order_by()
        .annotate(received=Exists(handed))
        .values("school_id")
        .annotate(flagged=Count("pk"), received_count=Count("pk", filter=Q(received=True)))
    )
