"""Reads of vouchers, scoped through the one access mechanism (``support.scopes.scope_for``)."""

import datetime
from collections.abc import Callable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import (
    BooleanField,
    CharField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.utils import timezone

from support.contacts import family_recipient_address
from support.hot_queries import hot_query
from support.languages import language_label
from support.models import Family, PartnerCharity, PartnerService, Policy
from support.scopes import scope_for
from vouchers import codes
from vouchers.models import Delivery, PartnerStatement, Redemption, Voucher, VoucherType

User = AbstractBaseUser | AnonymousUser


def vouchers_visible_to(user: User) -> QuerySet[Voucher]:
    """School staff: vouchers their schools issued. Finance and admins: all. Charity staff: their own."""
    scope = scope_for(user)
    if scope.is_admin or scope.is_finance:
        return Voucher.objects.all()
    if scope.is_school_staff:
        return Voucher.objects.filter(school_id__in=scope.school_ids)
    if scope.is_charity:
        return Voucher.objects.filter(voucher_type__partner_id__in=scope.partner_ids)
    return Voucher.objects.none()


def families_with_voucher_code(user: User, text: str) -> QuerySet | None:
    """The family of the voucher with code ``text`` (typed any way), among the user's vouchers, as a
    queryset of family ids; None when ``text`` is no voucher code (the family search's finder)."""
    try:
        code = codes.validate(text)
    except codes.CodeError:
        return None
    return vouchers_visible_to(user).filter(code=code).values("family")


def voucher_search(vouchers: QuerySet[Voucher], *, user: User, query: str) -> QuerySet[Voucher]:
    """``vouchers`` (already the user's) whose code is ``query`` (typed any way, or its first characters
    when they hold a digit), or whose lead carer's name is like it (titles, case and a misspelling
    forgiven, as the family search does). A carer's name counts only for those who may see it."""
    from support.pupil_csv import normalise_name_key
    from support.search import WordSimilar
    from support.visibility import can_see

    text = " ".join(str(query).split())
    if not text:
        return vouchers
    try:
        return vouchers.filter(code=codes.normalise(text))
    except codes.CodeError:
        pass  # not a whole code: its start or a carer's name, below
    found = Q(pk__in=[])
    start = codes.normalise_start(text)
    if start and len(start) >= 4 and any(ch.isdigit() for ch in text):
        found |= Q(code__startswith=start)
    name_key = normalise_name_key(text)
    if name_key and can_see(user, Voucher, "lead_carer_name"):
        term = Value(name_key, output_field=CharField())
        # Candidates from the families' trigram index, then judged on the name the voucher itself shows.
        alike = Family.objects.filter(WordSimilar(F("carer_name_key"), term)).values("pk")
        found |= Q(family__in=alike) & Q(WordSimilar(F("lead_carer_name"), term))
    return vouchers.filter(found)


def register_search() -> None:
    from support.search import register_family_finder

    register_family_finder("voucher code", families_with_voucher_code)


# How soon an unredeemed voucher's expiry shows on the school staff's home ("Waiting for you").
EXPIRING_WITHIN_DAYS = 7


def vouchers_expiring(
    user: User, *, today: datetime.date, within_days: int = EXPIRING_WITHIN_DAYS
) -> QuerySet[Voucher]:
    """Vouchers still issued (not redeemed or cancelled) whose last valid day falls from ``today`` to
    ``within_days`` later: the voucher list under the same filters, and home's count of it."""
    return vouchers_visible_to(user).filter(
        state=Voucher.State.ISSUED,
        expires_on__gte=today,
        expires_on__lte=today + datetime.timedelta(days=within_days),
    )


def redemptions_visible_to(user: User) -> QuerySet[Redemption]:
    scope = scope_for(user)
    if scope.is_admin or scope.is_finance:
        return Redemption.objects.all()
    return Redemption.objects.filter(partner_id__in=scope.partner_ids)


def voucher_delivery_preference(*, user: User, family: Family) -> str:
    """How the family prefers to get a voucher, as recorded: the way chosen for its last voucher from the
    user's schools, while the family still has an address for it. Printed when nothing is recorded."""
    last = (
        vouchers_visible_to(user)
        .filter(family=family)
        .order_by("-issued_at", "-pk")
        .values_list("delivery", flat=True)
        .first()
    )
    # Only an allowed contact's address counts (support.contacts): never a restricted contact's.
    if last in (Delivery.EMAIL, Delivery.SMS) and family_recipient_address(family, last):
        return last
    return Delivery.PRINT


def _service_stopped(prefix: str = "") -> Exists:
    """The type's partner has marked its service as no longer offered (PartnerService.is_active off).

    ``prefix`` is the path from the query's model to the voucher type ("voucher_type__" from a voucher).
    """
    return Exists(
        PartnerService.objects.filter(
            partner=OuterRef(f"{prefix}partner"), service=OuterRef(f"{prefix}service"), is_active=False
        )
    )


def _offered(prefix: str = "") -> Q:
    return Q(**{f"{prefix}is_active": True, f"{prefix}partner__is_active": True}) & ~_service_stopped(prefix)


# Types given some other way than a code at the counter (the deliveries app registers its delivered
# services: issuing for them makes a referral). No new vouchers of these; vouchers already issued are
# honoured at the counter as before (the counter reads ``_offered``, not this).
_NOT_FOR_VOUCHERS: list[Callable[[], QuerySet]] = []


def register_not_for_vouchers(type_ids: Callable[[], QuerySet]) -> None:
    """``type_ids()`` returns the ids of voucher types no longer issued as vouchers (a values queryset)."""
    _NOT_FOR_VOUCHERS.append(type_ids)


def voucher_types_available() -> QuerySet[VoucherType]:
    """The types a school may issue now: the type, its partner and the partner's service all active, and
    not given another way (see ``register_not_for_vouchers``)."""
    return VoucherType.objects.filter(_available()).select_related("partner")


def _available() -> Q:
    available = _offered()
    for type_ids in _NOT_FOR_VOUCHERS:
        available &= ~Q(pk__in=type_ids())
    return available


def vouchers_with_type_offered(vouchers: QuerySet[Voucher]) -> QuerySet[Voucher]:
    """``vouchers`` with whether each one's type is still offered read in the same query (the counter's
    check asks it of every voucher): ``voucher_type_offered`` then answers without a query."""
    return vouchers.annotate(type_offered=ExpressionWrapper(_offered("voucher_type__"), BooleanField()))


def voucher_type_offered(voucher_type: VoucherType, *, voucher: Voucher | None = None) -> bool:
    """Whether new vouchers of this type may be issued (see ``voucher_types_available``)."""
    known = getattr(voucher, "type_offered", getattr(voucher_type, "available", None))
    if known is not None:
        return known
    return bool(_type_available(voucher_type.pk))


def voucher_type_active(user: object, pk: int) -> VoucherType | None:
    """An active voucher type by id, with its partner (consent names it) and fund (the face value is
    committed there), compiled once per connection: every voucher issued names one. Any user may name
    any type (the partner's consent and the fund decide the rest)."""
    found = _active_type(pk)
    return found[0] if found else None


def voucher_types_active() -> QuerySet[VoucherType]:
    return VoucherType.objects.filter(is_active=True).select_related("partner", "fund")


@hot_query
def _active_type(pk: int) -> QuerySet[VoucherType]:
    # Whether new vouchers of it may be issued, in the same query (``voucher_type_offered`` reads it).
    available = ExpressionWrapper(_available(), BooleanField())
    return voucher_types_active().filter(pk=pk).annotate(available=available)


@hot_query
def _type_available(type_id: int) -> QuerySet[VoucherType]:
    """Every voucher issued asks it: compiled once per connection (support.hot_queries)."""
    return voucher_types_available().filter(pk=type_id).order_by()[:1]


class LimitStatus:
    """How many vouchers of a type a family has had in the rolling window, and when the next is allowed."""

    def __init__(
        self, *, count: int, limit: int, window_days: int, next_allowed: datetime.date | None
    ) -> None:
        self.count = count
        self.limit = limit
        self.window_days = window_days
        self.next_allowed = next_allowed

    @property
    def reached(self) -> bool:
        return self.count >= self.limit


def voucher_limit_status(
    *, family: Family, voucher_type: VoucherType, now: datetime.datetime | None = None
) -> LimitStatus:
    policy = Policy.current()
    limit = voucher_type.limit_count if voucher_type.limit_count is not None else policy.food_voucher_limit
    window = voucher_type.limit_window_days or policy.voucher_window_days
    now = now or timezone.now()
    start = now - datetime.timedelta(days=window)
    issued = [row["issued_at"] for row in _issued_since(family.pk, voucher_type.pk, start)]
    next_allowed = None
    if len(issued) >= limit:
        # The next is allowed once enough of the oldest have left the window.
        leaving = issued[len(issued) - limit]
        next_allowed = timezone.localdate(leaving + datetime.timedelta(days=window)) + datetime.timedelta(
            days=1
        )
    return LimitStatus(count=len(issued), limit=limit, window_days=window, next_allowed=next_allowed)


@hot_query
def _issued_since(family_id: int, type_id: int, start: datetime.datetime) -> QuerySet[Voucher]:
    """The limit's count, asked by every issue: compiled once per connection (support.hot_queries)."""
    return (
        Voucher.objects.filter(family_id=family_id, voucher_type_id=type_id, issued_at__gt=start)
        .exclude(state=Voucher.State.CANCELLED)
        .order_by("issued_at")
        .values("issued_at")
    )


def statement_partners_visible_to(user: User) -> QuerySet[PartnerCharity]:
    """Finance and admins: every partner. Charity staff: their own. Anyone else: none."""
    scope = scope_for(user)
    if scope.is_admin or scope.is_finance:
        return PartnerCharity.objects.all()
    if scope.is_charity:
        return PartnerCharity.objects.filter(pk__in=scope.partner_ids)
    return PartnerCharity.objects.none()


def statements_visible_to(user: User) -> QuerySet[PartnerStatement]:
    """Stored statements of the partners ``user`` may see; the PDF bytes are left in the database."""
    return (
        PartnerStatement.objects.filter(partner__in=statement_partners_visible_to(user))
        .defer("pdf")
        .select_related("partner", "generated_by")
    )


def voucher_family_language(voucher: Voucher) -> str:
    """The family's preferred language as the counter sees it ("Urdu (اردو)", "English"), and nothing more.

    ``voucher`` is one the caller may already see; ``services.voucher_find_for_partner`` reads the
    language in its own query, so the counter's check stays at its query count.
    """
    if hasattr(voucher, "family_language"):
        return language_label(voucher.family_language, voucher.family_language_noted)
    family = Family.objects.filter(pk=voucher.family_id)
    language, noted = family.values_list("language", "language_noted").get()
    return language_label(language, noted)


# --- Aggregates for the impact report (impact/): no family, no code, only counts --------------------
# Unscoped by design: the impact report is for roles that see the whole trust (``impact.view``) and
# shows only counts grouped by school and service, suppressed where small (impact.suppression).


def voucher_support_events(start: datetime.date, end: datetime.date) -> QuerySet:
    """Vouchers issued from ``start`` to ``end`` (inclusive, local days), cancelled ones left out, as
    support events: ``family_id, pupil_id (None: a voucher is for the family), school_id, on`` and
    ``"voucher:<service>"``, in one scan of the vouchers."""
    from django.db.models import IntegerField
    from django.db.models.functions import Cast, Concat, TruncDate

    from support.dates import local_midnight

    return (
        Voucher.objects.filter(
            issued_at__gte=local_midnight(start),
            issued_at__lt=local_midnight(end + datetime.timedelta(days=1)),
        )
        .exclude(state=Voucher.State.CANCELLED)
        .order_by()
        # A typed NULL: PostgreSQL types a UNION's column from its first branches, and an untyped NULL
        # there would be text against the other kinds' pupil ids.
        .annotate(
            pupil_ref=Cast(Value(None), IntegerField()),
            on=TruncDate("issued_at"),
            part=Concat(Value("voucher:"), F("voucher_type__service"), output_field=CharField()),
        )
        .values_list("family_id", "pupil_ref", "school_id", "on", "part")
    )


def voucher_year_figures(years: list[tuple[datetime.date, datetime.date]]) -> list[dict]:
    """Per period of ``years`` ((start, end) pairs, inclusive local days, consecutive and in order),
    school and service, of the vouchers issued in it: how many were issued (cancelled left out),
    redeemed, expired unused, and the total days from issue to redemption; each row's ``period`` is its
    index in ``years``. One grouped query over the vouchers of every period at once."""
    from django.db.models import Case, Count, DurationField, IntegerField, Sum, When
    from django.db.models.functions import TruncDate

    from support.dates import local_midnight

    period = Case(
        *(
            When(issued_at__gte=local_midnight(start), then=Value(index))
            for index, (start, _end) in reversed(list(enumerate(years)))
        ),
        output_field=IntegerField(),
    )
    issued = Voucher.objects.filter(
        issued_at__gte=local_midnight(years[0][0]),
        issued_at__lt=local_midnight(years[-1][1] + datetime.timedelta(days=1)),
    ).exclude(state=Voucher.State.CANCELLED)
    return list(
        issued.order_by()
        .annotate(period=period)
        .values("period", "school_id", service=F("voucher_type__service"))
        .annotate(
            issued=Count("pk"),
            redeemed=Count("pk", filter=Q(state=Voucher.State.REDEEMED)),
            expired=Count("pk", filter=Q(state=Voucher.State.EXPIRED)),
            wait=Sum(
                ExpressionWrapper(
                    TruncDate("redemption__redeemed_at") - TruncDate("issued_at"),
                    output_field=DurationField(),
                ),
                filter=Q(state=Voucher.State.REDEEMED),
            ),
        )
    )
