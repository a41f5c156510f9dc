"""What finance reads about a fund's year: totals, a month-by-month burn-down, spend by school and by
category, restricted donations against their spend, overdue pledges. Selectors for the dashboard, the
summary exports and the year-end PDF.

Every figure is summed in SQL by ``funds.selectors.positions``, the one home of the ledger's sums: a
handful of GROUP BY queries per summary, however many entries the fund holds. Python only folds the
grouped rows (a few per month, per school and category), never the entries themselves.

A figure for a period counts the entries that *happened* in it (``occurred_on``: a donation on the day
it was received, however late it was typed in); a reversal counts in the period it is dated and
reduces the figure of the kind of entry it reverses (a spend reversed in March reduces March's spend,
and that school's and category's spend).
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field, replace

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    CharField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.functions import Cast
from django.utils import timezone

from funds.models import Donation, Fund, FundAllocation, LedgerEntry, Pledge
from funds.selectors.positions import (  # noqa: F401 (Flows, ZERO_POSITION: the report's figures)
    ZERO_POSITION,
    Flows,
    FundPosition,
    amount_sum,
    boundary_sums,
    flows_between,
    fund_position,
    positions_at,
    spend_by_school_and_category,
)
from funds.services.ledger import (
    CATEGORIES,
    category_group,
    category_label,
    financial_year_bounds,
    financial_year_for,
    financial_year_label,
    standby_fund,
)
from support.models import School

Kind = LedgerEntry.Kind
TRUST_WIDE = "Trust-wide"


# --- Which funds ---------------------------------------------------------------------------------


def default_fund() -> Fund:
    return standby_fund()


def current_year(today: datetime.date | None = None) -> int:
    return financial_year_for(today or timezone.localdate())


def years_for(fund: Fund, *, today: datetime.date | None = None) -> list[int]:
    """Financial years worth offering for ``fund``, newest first: from the fund's first year (at least
    the last three) to the current one."""
    this_year = current_year(today)
    first = min(financial_year_for(timezone.localdate(fund.created_at)), this_year - 2)
    return list(range(this_year, first - 1, -1))


# --- The summary ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthFigures:
    month: datetime.date  # the first of the month
    flows: Flows
    # The fund's position at the end of the month (at ``as_at`` for the month in progress); None for a
    # month that has not started yet.
    closing: FundPosition | None

    @property
    def key(self) -> str:
        return f"{self.month:%Y-%m}"


@dataclass(frozen=True)
class SchoolFigures:
    school_id: int | None  # None: trust-wide spend, not charged to a school
    name: str
    spent_pence: int  # actual spend in the year
    committed_pence: int  # commitments still open at ``as_at``
    allocation_pence: int | None  # the school's allocation from the fund for the year, if set

    @property
    def total_pence(self) -> int:
        return self.spent_pence + self.committed_pence

    @property
    def remaining_pence(self) -> int | None:
        return None if self.allocation_pence is None else self.allocation_pence - self.total_pence

    @property
    def over_allocation(self) -> bool:
        return self.remaining_pence is not None and self.remaining_pence < 0


@dataclass(frozen=True)
class CategoryFigures:
    key: str  # "coat", "voucher:food_parcel"
    spent_pence: int
    committed_pence: int

    @property
    def group(self) -> str:
        return category_group(self.key)

    @property
    def label(self) -> str:
        return category_label(self.key)

    @property
    def total_pence(self) -> int:
        return self.spent_pence + self.committed_pence


@dataclass(frozen=True)
class CategoryGroupFigures:
    key: str  # "voucher"
    rows: list[CategoryFigures]  # its categories; one row, its own key, for a group with no detail

    @property
    def label(self) -> str:
        return category_label(self.key)

    @property
    def spent_pence(self) -> int:
        return sum(row.spent_pence for row in self.rows)

    @property
    def committed_pence(self) -> int:
        return sum(row.committed_pence for row in self.rows)

    @property
    def total_pence(self) -> int:
        return self.spent_pence + self.committed_pence

    @property
    def has_detail(self) -> bool:
        return any(row.key != self.key for row in self.rows)


@dataclass(frozen=True)
class RestrictedFigures:
    purpose: str  # a category group, e.g. "coat"
    received_pence: int  # restricted donations received in the year (not reversed)
    spent_pence: int  # actual spend in that category group in the year
    committed_pence: int  # open commitments in it at ``as_at``

    @property
    def label(self) -> str:
        return category_label(self.purpose)

    @property
    def unspent_pence(self) -> int:
        """Restricted money received in the year not yet spent or committed on its purpose."""
        return self.received_pence - self.spent_pence - self.committed_pence


@dataclass(frozen=True)
class FundYearSummary:
    fund: Fund
    year: int  # the financial year's start year
    start: datetime.date  # 1 September
    end: datetime.date  # 31 August
    as_at: datetime.date  # the end of the year, or today while it runs
    opening: FundPosition  # at the start of 1 September
    closing: FundPosition  # at the end of ``as_at``
    now: FundPosition  # all time: ``funds.selectors.positions.fund_position``
    flows: Flows  # the year's money moved
    months: list[MonthFigures]  # September to August
    schools: list[SchoolFigures]
    categories: list[CategoryGroupFigures]
    restricted: list[RestrictedFigures]
    overdue_pledges: list[Pledge]
    today: datetime.date = field(repr=False, default_factory=timezone.localdate)

    @property
    def label(self) -> str:
        return financial_year_label(self.year)

    @property
    def is_current(self) -> bool:
        return self.start <= self.today <= self.end

    @property
    def has_started(self) -> bool:
        return self.today >= self.start

    @property
    def income_pence(self) -> int:
        return self.flows.income_pence

    @property
    def spent_pence(self) -> int:
        return self.flows.spent_pence

    @property
    def committed_made_pence(self) -> int:
        return self.flows.committed_pence

    @property
    def committed_pence(self) -> int:
        """Committed at the end of the year (now, while it runs)."""
        return self.closing.committed_pence

    @property
    def balance_pence(self) -> int:
        return self.closing.balance_pence

    @property
    def available_pence(self) -> int:
        return self.closing.available_pence

    @property
    def category_rows(self) -> list[CategoryFigures]:
        """Every category, vouchers by service, largest first."""
        rows = [row for group in self.categories for row in group.rows]
        return sorted(rows, key=lambda row: (-row.total_pence, row.label))


def _year_boundaries(year: int) -> list[datetime.date]:
    """The first of each month from September ``year`` to September ``year + 1``."""
    return [_month_start(year, index) for index in range(13)]


def _month_start(year: int, index: int) -> datetime.date:
    """The first day of month ``index`` (0: September) of the financial year starting in ``year``."""
    return datetime.date(year + (index + 8) // 12, (index + 8) % 12 + 1, 1)


def _school_figures(
    fund: Fund, year: int, figures: dict[tuple[int | None, str], tuple[int, int]]
) -> list[SchoolFigures]:
    by_school: dict[int | None, list[int]] = defaultdict(lambda: [0, 0])
    for (school_id, _category), (spent, committed) in figures.items():
        by_school[school_id][0] += spent
        by_school[school_id][1] += committed
    allocations = dict(
        FundAllocation.objects.filter(fund=fund, financial_year=year).values_list("school_id", "amount_pence")
    )
    ids = {school_id for school_id in by_school if school_id is not None} | set(allocations)
    names = dict(School.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
    schools = [
        SchoolFigures(
            school_id=school_id,
            name=names.get(school_id, f"School {school_id}"),
            spent_pence=by_school[school_id][0] if school_id in by_school else 0,
            committed_pence=by_school[school_id][1] if school_id in by_school else 0,
            allocation_pence=allocations.get(school_id),
        )
        for school_id in ids
    ]
    schools.sort(key=lambda row: (-row.total_pence, row.name))
    if None in by_school:
        spent, committed = by_school[None]
        schools.append(SchoolFigures(None, TRUST_WIDE, spent, committed, allocation_pence=None))
    return [
        row for row in schools if row.spent_pence or row.committed_pence or row.allocation_pence is not None
    ]


def _category_figures(figures: dict[tuple[int | None, str], tuple[int, int]]) -> list[CategoryGroupFigures]:
    by_category: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (_school_id, category), (spent, committed) in figures.items():
        by_category[category][0] += spent
        by_category[category][1] += committed
    groups: dict[str, list[CategoryFigures]] = defaultdict(list)
    for category, (spent, committed) in by_category.items():
        if spent or committed:
            groups[category_group(category)].append(CategoryFigures(category, spent, committed))
    result = [
        CategoryGroupFigures(key, sorted(rows, key=lambda row: (-row.total_pence, row.label)))
        for key, rows in groups.items()
    ]
    # Known categories in the trust's order, then anything else by size.
    order = {key: index for index, key in enumerate(CATEGORIES)}
    result.sort(key=lambda group: (order.get(group.key, len(order)), -group.total_pence, group.key))
    return result


def _reversals_of_donations() -> QuerySet[LedgerEntry]:
    """Reversals of the income entry of the outer query's donation (a reversal keeps its entry's
    source, so the source index finds it without a join)."""
    return LedgerEntry.objects.filter(
        kind=Kind.REVERSAL,
        source_type=ContentType.objects.get_for_model(Donation),
        source_id=Cast(OuterRef("pk"), CharField()),
    )


def _restricted_received(fund: Fund, start: datetime.date, end: datetime.date) -> dict[str, int]:
    """Restricted donations received in [start, end] whose income entry has not been reversed."""
    reversed_income = _reversals_of_donations()
    rows = (
        Donation.objects.filter(fund=fund, received_on__gte=start, received_on__lte=end)
        .exclude(restricted_purpose="")
        .exclude(Exists(reversed_income))
        .values("restricted_purpose")
        .annotate(total=amount_sum("amount_pence"))
        .order_by()
    )
    return {row["restricted_purpose"]: row["total"] for row in rows}


def _restricted_figures(
    received: dict[str, int], categories: list[CategoryGroupFigures]
) -> list[RestrictedFigures]:
    by_group = {group.key: group for group in categories}
    result = []
    for purpose, total in sorted(received.items(), key=lambda item: category_label(item[0])):
        group = by_group.get(category_group(purpose))
        result.append(
            RestrictedFigures(
                purpose=purpose,
                received_pence=total,
                spent_pence=group.spent_pence if group else 0,
                committed_pence=group.committed_pence if group else 0,
            )
        )
    return result


def overdue_pledges(*, fund: Fund, today: datetime.date | None = None) -> list[Pledge]:
    """Active pledges whose next payment was due before ``today`` and has not been recorded."""
    today = today or timezone.localdate()
    pledges = Pledge.objects.filter(fund=fund, is_active=True, next_due__lt=today)
    return list(pledges.order_by("next_due", "pk"))


def fund_year_summary(*, fund: Fund, year: int, today: datetime.date | None = None) -> FundYearSummary:
    """Everything the dashboard shows for ``fund`` in the financial year starting September ``year``.

    A handful of queries whatever the number of entries: the fund's entries summed by kind, school and
    category at each month boundary (``boundary_sums``: its checkpoints' month sums and the entries
    since the latest, or without a checkpoint one pass over every entry, the same for its reversals),
    then allocations, school names, restricted donations and overdue pledges, and the position now
    (``fund_position``: its checkpoint and the entries since, so it is the same figure the services, the
    API and the pages show). An opening balance needs all of history: the checkpoints' month sums hold
    it, so the cost grows with the entries since the last night's checkpoint, not with the ledger.
    """
    today = today or timezone.localdate()
    start, end = financial_year_bounds(year)
    as_at = min(end, max(today, start - datetime.timedelta(days=1)))

    sums = boundary_sums(fund, _year_boundaries(year))
    positions = positions_at(sums, 13)
    months = []
    for index in range(12):
        month = _month_start(year, index)
        flows = flows_between(sums, index)
        months.append(MonthFigures(month, flows, positions[index + 1] if month <= today else None))
    year_flows = sum((m.flows for m in months), Flows())

    figures = spend_by_school_and_category(sums)
    categories = _category_figures(figures)
    return FundYearSummary(
        fund=fund,
        year=year,
        start=start,
        end=end,
        as_at=as_at,
        opening=positions[0],
        closing=positions[12],
        now=fund_position(fund=fund),
        flows=year_flows,
        months=months,
        schools=_school_figures(fund, year, figures),
        categories=categories,
        restricted=_restricted_figures(_restricted_received(fund, start, end), categories),
        overdue_pledges=overdue_pledges(fund=fund, today=today),
        today=today,
    )


_DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class FundYearTotals:
    """A financial year's totals for a fund: the part of ``FundYearSummary`` the trustees' impact report
    shows, counted the same way (``boundary_sums``)."""

    year: int
    income_pence: int
    spent_pence: int
    committed_pence: int  # open at the end of the year (the same as the summary's ``committed_pence``)
    categories: list[CategoryGroupFigures]
    schools: dict[int | None, tuple[int, int]]  # school id (None: trust-wide) → (spent, committed)


def fund_years_totals(*, fund: Fund, years: list[int]) -> dict[int, FundYearTotals]:
    """{year: FundYearTotals} for each financial year of ``years``, from the fund's entries summed at the
    years' starts and ends only (``boundary_sums``; ``fund_year_summary`` sums at every month's, once a
    year): the impact report's this year and the year before. Four queries at most, however many years."""
    bounds = {year: financial_year_bounds(year) for year in years}
    boundaries = sorted({start for start, _ in bounds.values()} | {end + _DAY for _, end in bounds.values()})
    sums = boundary_sums(fund, boundaries)
    totals = {}
    for year, (start, end) in bounds.items():
        first, last = boundaries.index(start), boundaries.index(end + _DAY)
        year_sums = [replace(group, before=(group.before[first], group.before[last])) for group in sums]
        flows, closing = flows_between(year_sums, 0), positions_at(year_sums, 2)[1]
        figures = spend_by_school_and_category(year_sums)
        schools: dict[int | None, tuple[int, int]] = {}
        for (school_id, _category), (spent, committed) in figures.items():
            was = schools.get(school_id, (0, 0))
            schools[school_id] = (was[0] + spent, was[1] + committed)
        totals[year] = FundYearTotals(
            year=year,
            income_pence=flows.income_pence,
            spent_pence=flows.spent_pence,
            committed_pence=closing.committed_pence,
            categories=_category_figures(figures),
            schools=schools,
        )
    return totals


def pledges_due_and_received(*, fund: Fund, start: datetime.date, end: datetime.date) -> tuple[int, int]:
    """(due, received) in pence for the pledges to ``fund`` from ``start`` to ``end``: what the pledges
    active in the period promise for it (an annual pledge once, a monthly one for each month of the
    period after it was made) and what donations recorded against a pledge brought in. Two queries; for
    the impact report's fund section (aggregates only)."""
    from django.db.models import Sum

    due = 0
    for amount, frequency, created in (
        Pledge.objects.filter(fund=fund, created_at__date__lte=end)
        .filter(Q(is_active=True) | Q(donations__received_on__gte=start))
        .distinct()
        .values_list("amount_pence", "frequency", "created_at")
    ):
        if frequency == Pledge.Frequency.MONTHLY:
            first = max(start, created.date())
            months = (end.year - first.year) * 12 + end.month - first.month + 1
            due += amount * max(months, 0)
        else:
            due += amount
    received = (
        Donation.objects.filter(fund=fund, pledge__isnull=False, received_on__range=(start, end))
        .exclude(Exists(_reversals_of_donations()))
        .aggregate(total=Sum("amount_pence"))["total"]
        or 0
    )
    return due, received
