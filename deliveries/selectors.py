"""Reads of delivered services and referrals, scoped through ``support.scopes.scope_for``."""

import datetime
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import F, IntegerField, Min, QuerySet, Value
from django.db.models.functions import Cast
from django.utils import timezone

from deliveries.models import CatalogueItem, DeliveredService, Referral
from support.consents import consented_partner_ids
from support.models import Family
from support.scopes import scope_for

User = AbstractBaseUser | AnonymousUser


def referrals_visible_to(user: User) -> QuerySet[Referral]:
    """School staff: their schools' referrals. Charity staff: referrals to their partner. Admins: all.
    Finance sees a referral only as money, through the ledger's source facts (``fund_sources``)."""
    scope = scope_for(user)
    if scope.is_admin:
        return Referral.objects.all()
    if scope.is_school_staff:
        return Referral.objects.filter(school_id__in=scope.school_ids)
    if scope.is_charity:
        return Referral.objects.filter(service__voucher_type__partner_id__in=scope.partner_ids)
    return Referral.objects.none()


def delivered_services_visible_to(user: User) -> QuerySet[DeliveredService]:
    """The charity's own delivered services (to set capacity); school staff and admins: every active one."""
    scope = scope_for(user)
    services = DeliveredService.objects.select_related("voucher_type__partner")
    if scope.is_admin or scope.is_school_staff:
        return services.filter(voucher_type__is_active=True, voucher_type__partner__is_active=True)
    if scope.is_charity:
        return services.filter(voucher_type__partner_id__in=scope.partner_ids)
    return services.none()


def services_for_family(user: User, family: Family) -> list[DeliveredService]:
    """The delivered services a school may refer ``family`` to: only partners the family consents to."""
    partners = consented_partner_ids(family)
    return list(
        delivered_services_visible_to(user)
        .filter(voucher_type__partner_id__in=partners)
        .prefetch_related("items")
    )


def active_items(service: DeliveredService) -> QuerySet[CatalogueItem]:
    return service.items.filter(is_active=True).order_by("name")


def week_start(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


@dataclass(frozen=True)
class Capacity:
    """What staff see when referring: the week's places left (None: no stated limit), the wait."""

    per_week: int | None
    taken: int
    paused_until: datetime.date | None
    pause_note: str
    waiting: int
    waiting_since: datetime.date | None

    @property
    def remaining(self) -> int | None:
        if self.paused_until is not None:
            return 0
        if self.per_week is None:
            return None
        return max(self.per_week - self.taken, 0)

    @property
    def full(self) -> bool:
        return self.remaining == 0


def service_capacity(service: DeliveredService, *, today: datetime.date | None = None) -> Capacity:
    """This week's (Monday to Sunday) places taken, and the waiting list. A referral that went straight in
    (never wait-listed at issue) takes a place in the week it was made."""
    today = today or timezone.localdate()
    start = week_start(today)
    referrals = Referral.objects.filter(service=service)
    taken = referrals.filter(
        created_at__date__gte=start,
        created_at__date__lt=start + datetime.timedelta(days=7),
        waiting_since__isnull=True,
    ).count()
    waiting = referrals.filter(state=Referral.State.WAITING).aggregate(since=Min("waiting_since"))
    paused = service.paused_until if service.paused_until and service.paused_until > today else None
    return Capacity(
        per_week=service.capacity_per_week,
        taken=taken,
        paused_until=paused,
        pause_note=service.pause_note if paused else "",
        waiting=referrals.filter(state=Referral.State.WAITING).count(),
        waiting_since=waiting["since"],
    )


def delivery_support_events(start: datetime.date, end: datetime.date) -> QuerySet:
    """For the trust's impact report (aggregates only): one row per item delivered from ``start`` to
    ``end`` inclusive, as tuples ``family_id, pupil_id (None: it is for the family), school_id, on``."""
    return (
        Referral.objects.filter(
            state=Referral.State.DELIVERED, delivered_on__gte=start, delivered_on__lte=end
        )
        .order_by()
        .annotate(pupil_ref=Cast(Value(None), IntegerField()), on=F("delivered_on"))
        .values_list("family_id", "pupil_ref", "school_id", "on")
    )
