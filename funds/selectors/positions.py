"""Money positions: the one home of the ledger's sums. Services, pages, the API, reports and exports
all read a fund's figures through this module, so no two of them can disagree.

Every ledger amount is positive pence and the entry's kind gives the direction (``funds.models``):

- income    = Σ income − Σ reversals of income
- spent     = Σ spend − Σ reversals of spend
- committed = Σ commitment − Σ commitment_release
- balance   = income − spent
- available = balance − committed

A fund's position *now* is its latest checkpoint (``FundCheckpoint``, nightly) plus the entries after
it, so its cost does not grow with the ledger's history. Figures for a day or a period go by
``occurred_on``: a checkpoint is cut by entry id, not by day, and a back-dated entry may land in any day
before it. So a checkpoint also keeps the entries it covers summed per month they happened in
(``FundCheckpointMonth``): a report's months (``boundary_sums``) add those to the entries after the latest
checkpoint, whatever day those entries happened on. A ledger page's opening balance, at any day, is
summed over the entries themselves.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth

from funds.models import Fund, FundCheckpoint, FundCheckpointMonth, LedgerEntry
from support.hot_queries import hot_query

Kind = LedgerEntry.Kind
_AMOUNT = F("amount_pence")

__all__ = [
    "ZERO_POSITION",
    "BoundarySums",
    "EntryTotals",
    "Flows",
    "FundPosition",
    "amount_sum",
    "balance_before",
    "balance_effect",
    "boundary_sums",
    "committed_effect",
    "entry_totals",
    "flows_between",
    "fund_position",
    "fund_positions",
    "month_sums",
    "position_of",
    "positions_at",
    "spend_by_school_and_category",
]


@dataclass(frozen=True)
class FundPosition:
    income_pence: int
    spent_pence: int
    committed_pence: int

    @property
    def balance_pence(self) -> int:
        return self.income_pence - self.spent_pence

    @property
    def available_pence(self) -> int:
        return self.balance_pence - self.committed_pence

    def __add__(self, other: "FundPosition") -> "FundPosition":
        return FundPosition(
            self.income_pence + other.income_pence,
            self.spent_pence + other.spent_pence,
            self.committed_pence + other.committed_pence,
        )


ZERO_POSITION = FundPosition(income_pence=0, spent_pence=0, committed_pence=0)


@dataclass(frozen=True)
class Flows:
    """Money moved in a period, net of reversals made in it."""

    income_pence: int = 0
    spent_pence: int = 0
    committed_pence: int = 0  # commitments made
    released_pence: int = 0  # commitments given back: released, or made actual

    def __add__(self, other: "Flows") -> "Flows":
        return Flows(
            self.income_pence + other.income_pence,
            self.spent_pence + other.spent_pence,
            self.committed_pence + other.committed_pence,
            self.released_pence + other.released_pence,
        )

    def applied_to(self, position: FundPosition) -> FundPosition:
        return FundPosition(
            income_pence=position.income_pence + self.income_pence,
            spent_pence=position.spent_pence + self.spent_pence,
            committed_pence=position.committed_pence + self.committed_pence - self.released_pence,
        )


# --- Signed amounts, in SQL ----------------------------------------------------------------------


def amount_sum(expression, **extra) -> Coalesce:
    """``SUM(expression)``, 0 rather than NULL over no rows."""
    return Coalesce(Sum(expression, **extra), Value(0), output_field=BigIntegerField())


def _signed(plus: Q, minus: Q) -> Case:
    return Case(
        When(plus, then=_AMOUNT), When(minus, then=-_AMOUNT), default=Value(0), output_field=BigIntegerField()
    )


def _income_effect() -> Case:
    return _signed(Q(kind=Kind.INCOME), Q(kind=Kind.REVERSAL, reverses__kind=Kind.INCOME))


def _spent_effect() -> Case:
    return _signed(Q(kind=Kind.SPEND), Q(kind=Kind.REVERSAL, reverses__kind=Kind.SPEND))


def balance_effect() -> Case:
    """What an entry does to the balance, in pence: income +, spend −, a reversal the opposite of what
    it reverses (one LEFT JOIN to the reversed entry)."""
    return Case(
        When(kind=Kind.INCOME, then=_AMOUNT),
        When(kind=Kind.SPEND, then=-_AMOUNT),
        When(kind=Kind.REVERSAL, reverses__kind=Kind.INCOME, then=-_AMOUNT),
        When(kind=Kind.REVERSAL, reverses__kind=Kind.SPEND, then=_AMOUNT),
        default=Value(0),
        output_field=BigIntegerField(),
    )


def committed_effect() -> Case:
    """What an entry does to the money committed: commitment +, release −."""
    return _signed(Q(kind=Kind.COMMITMENT), Q(kind=Kind.COMMITMENT_RELEASE))


def _position_sums() -> dict[str, Coalesce]:
    return {
        "income": amount_sum(_income_effect()),
        "spent": amount_sum(_spent_effect()),
        "committed": amount_sum(committed_effect()),
    }


def _from_row(row: dict) -> FundPosition:
    return FundPosition(int(row["income"]), int(row["spent"]), int(row["committed"]))


# --- Positions -----------------------------------------------------------------------------------


def position_of(entries: QuerySet[LedgerEntry]) -> FundPosition:
    """The position made by ``entries`` alone (a fund's, a source's, a range of ids): one aggregate."""
    return _from_row(entries.aggregate(**_position_sums()))


def _checkpoint(checkpoint: FundCheckpoint | None) -> FundPosition:
    if checkpoint is None:
        return ZERO_POSITION
    return FundPosition(checkpoint.income_pence, checkpoint.spent_pence, checkpoint.committed_pence)


def fund_position(*, fund: Fund) -> FundPosition:
    """Income, spent and committed, and from them balance and available, for ``fund`` now.

    The latest checkpoint's totals plus one aggregate over the entries after it (a short range of the
    primary key). Without a checkpoint, one aggregate over the fund's whole ledger.
    """
    checkpoint = next(iter(_latest_checkpoint(fund.pk)), None)
    after = checkpoint.up_to_entry_id if checkpoint else 0
    tail = _entry_sums(fund.pk, after)
    return _checkpoint(checkpoint) + (_from_row(tail[0]) if tail else ZERO_POSITION)


def source_position(*, source_type_id: int, source_id: str) -> FundPosition:
    """The position made by one source's entries (a voucher's, a request's): whether it is paid for."""
    rows = _source_sums(source_type_id, source_id)
    return _from_row(rows[0]) if rows else ZERO_POSITION


# Every voucher issued asks these under the fund's lock: compiled once per connection (compiling the
# sums was most of the time the lock was held), then only executed.


@hot_query
def _latest_checkpoint(fund_id: int) -> QuerySet[FundCheckpoint]:
    return FundCheckpoint.objects.filter(fund_id=fund_id).order_by("-up_to_entry_id")[:1]


@hot_query
def _entry_sums(fund_id: int, after_id: int) -> QuerySet[LedgerEntry]:
    entries = LedgerEntry.objects.filter(fund_id=fund_id, pk__gt=after_id)
    return entries.values("fund_id").annotate(**_position_sums()).order_by()


@hot_query
def _source_sums(source_type_id: int, source_id: str) -> QuerySet[LedgerEntry]:
    entries = LedgerEntry.objects.filter(source_type_id=source_type_id, source_id=source_id)
    return entries.values("source_type_id").annotate(**_position_sums()).order_by()


def fund_positions(fund_ids: Iterable[int]) -> dict[int, FundPosition]:
    """``fund_position`` of each fund, for a page of funds in two queries: the latest checkpoint of each,
    then the entries after it grouped by fund."""
    wanted = set(fund_ids)
    if not wanted:
        return {}
    newest = FundCheckpoint.objects.filter(fund_id=OuterRef("fund_id")).order_by("-up_to_entry_id")
    latest = {
        checkpoint.fund_id: checkpoint
        for checkpoint in FundCheckpoint.objects.filter(
            fund_id__in=wanted, pk=Subquery(newest.values("pk")[:1])
        )
    }
    tails = Q()
    for fund_id in wanted:
        after = latest[fund_id].up_to_entry_id if fund_id in latest else 0
        tails |= Q(fund_id=fund_id, pk__gt=after)
    rows = LedgerEntry.objects.filter(tails).values("fund_id").annotate(**_position_sums()).order_by()
    tail = {row["fund_id"]: _from_row(row) for row in rows}
    return {
        fund_id: _checkpoint(latest.get(fund_id)) + tail.get(fund_id, ZERO_POSITION) for fund_id in wanted
    }


# --- A ledger page's figures ---------------------------------------------------------------------


@dataclass(frozen=True)
class EntryTotals:
    count: int
    amount_pence: int  # net effect of the rows on the balance
    committed_pence: int  # net effect on the money committed


def entry_totals(entries: QuerySet[LedgerEntry]) -> EntryTotals:
    """Count and net effects of ``entries`` (a filtered ledger): one aggregate."""
    totals = entries.aggregate(
        count=Count("pk"), amount=amount_sum(balance_effect()), committed=amount_sum(committed_effect())
    )
    return EntryTotals(int(totals["count"]), int(totals["amount"]), int(totals["committed"]))


def balance_before(entries: QuerySet[LedgerEntry], day: datetime.date) -> int:
    """The balance made by ``entries`` dated before ``day`` (a ledger page's opening balance).

    Income and spend summed without the join to reversed entries (which costs a lookup per row over
    the whole history); the few reversals are summed apart, through the (fund, kind) index.
    """
    before = entries.filter(occurred_on__lt=day)
    flows = before.filter(kind__in=[Kind.INCOME, Kind.SPEND]).aggregate(
        income=amount_sum(_AMOUNT, filter=Q(kind=Kind.INCOME)),
        spent=amount_sum(_AMOUNT, filter=Q(kind=Kind.SPEND)),
    )
    reversed_ = before.filter(kind=Kind.REVERSAL).aggregate(total=amount_sum(balance_effect()))["total"]
    return int(flows["income"] - flows["spent"] + reversed_)


# --- A period's figures, at month boundaries -----------------------------------------------------


@dataclass(frozen=True)
class BoundarySums:
    """One group of entries of one effective kind: its amounts dated before each boundary."""

    kind: str  # for a reversal, the kind of the entry it reverses
    sign: int  # -1 for reversals
    school_id: int | None
    category: str
    before: tuple[int, ...]


def boundary_sums(fund: Fund, boundaries: list[datetime.date]) -> list[BoundarySums]:
    """The fund's entries summed per kind, school and category, cumulatively at each boundary.

    At month boundaries (every report's: a year's months, its start and end) with a checkpoint: its
    entries are read from the checkpoints' month sums (``FundCheckpointMonth``: a few rows a month, not
    one a voucher), and only the entries after the latest checkpoint from the ledger. Otherwise one
    pass over the fund's entries. Either way the same sums (a test holds them equal).
    """
    checkpoint = next(iter(_latest_checkpoint(fund.pk)), None)
    if checkpoint is None or any(boundary.day != 1 for boundary in boundaries):
        return _entry_boundary_sums(LedgerEntry.objects.filter(fund=fund), boundaries)
    up_to = checkpoint.up_to_entry_id
    months = (
        FundCheckpointMonth.objects.filter(checkpoint__fund=fund, checkpoint__up_to_entry_id__lte=up_to)
        .values("kind", "reversed_kind", "school_id", "category")
        .annotate(
            **{
                f"before_{index}": amount_sum("amount_pence", filter=Q(month__lt=boundary))
                for index, boundary in enumerate(boundaries)
            }
        )
        .order_by()
    )
    merged: dict[tuple, list[int]] = {}

    def add(kind: str, sign: int, school_id: int | None, category: str, before: tuple[int, ...]) -> None:
        sums = merged.setdefault((kind, sign, school_id, category), [0] * len(boundaries))
        for index, amount in enumerate(before):
            sums[index] += amount

    for row in months:
        reversal = row["kind"] == Kind.REVERSAL
        add(
            row["reversed_kind"] if reversal else row["kind"],
            -1 if reversal else 1,
            row["school_id"],
            row["category"],
            tuple(row[f"before_{index}"] for index in range(len(boundaries))),
        )
    after = LedgerEntry.objects.filter(fund=fund, pk__gt=up_to)
    for group in _entry_boundary_sums(after, boundaries):
        add(group.kind, group.sign, group.school_id, group.category, group.before)
    return [BoundarySums(*key, tuple(before)) for key, before in merged.items()]


def _entry_boundary_sums(
    entries: QuerySet[LedgerEntry], boundaries: list[datetime.date]
) -> list[BoundarySums]:
    """``entries`` (one fund's) summed per kind, school and category, cumulatively at each boundary: one
    pass over them (reversals aside). Cumulative sums (``occurred_on < boundary``) cost one comparison
    each a row, half what per-period ranges would. The reversals (few; the (fund, kind) index finds
    them) are summed apart, joined to what they reverse."""
    cumulative = {
        f"before_{index}": amount_sum("amount_pence", filter=Q(occurred_on__lt=boundary))
        for index, boundary in enumerate(boundaries)
    }
    groups = (
        entries.exclude(kind=Kind.REVERSAL)
        .values("kind", "school_id", "category")
        .annotate(**cumulative)
        .order_by()
    )
    reversals = (
        entries.filter(kind=Kind.REVERSAL)
        .values("reverses__kind", "school_id", "category")
        .annotate(**cumulative)
        .order_by()
    )

    def sums(row: dict, kind: str, sign: int) -> BoundarySums:
        before = tuple(row[f"before_{index}"] for index in range(len(boundaries)))
        return BoundarySums(kind, sign, row["school_id"], row["category"], before)

    return [sums(row, row["kind"], 1) for row in groups] + [
        sums(row, row["reverses__kind"], -1) for row in reversals
    ]


def month_sums(*, fund_id: int, after: int, up_to: int) -> list[dict]:
    """The fund's entries after entry ``after`` up to entry ``up_to``, summed per month they happened in,
    kind (a reversal's: with the kind it reverses), school and category: a checkpoint's month rows
    (``FundCheckpointMonth``). One grouped query over that range of the primary key."""
    rows = (
        LedgerEntry.objects.filter(fund_id=fund_id, pk__gt=after, pk__lte=up_to)
        .annotate(month=TruncMonth("occurred_on"))
        .values("month", "kind", "reverses__kind", "school_id", "category")
        .annotate(amount=Sum("amount_pence"))
        .order_by()
    )
    return [
        {
            "month": row["month"],
            "kind": row["kind"],
            "reversed_kind": row["reverses__kind"] or "",
            "school_id": row["school_id"],
            "category": row["category"],
            "amount_pence": int(row["amount"]),
        }
        for row in rows
    ]


def _by_kind(sums: list[BoundarySums], amount) -> dict[str, int]:
    moved = dict.fromkeys(Kind.values, 0)
    for group in sums:
        moved[group.kind] += group.sign * amount(group)
    return moved


def _position_from_kinds(values: dict[str, int]) -> FundPosition:
    return FundPosition(
        income_pence=values[Kind.INCOME],
        spent_pence=values[Kind.SPEND],
        committed_pence=values[Kind.COMMITMENT] - values[Kind.COMMITMENT_RELEASE],
    )


def positions_at(sums: list[BoundarySums], points: int) -> list[FundPosition]:
    """The fund's position at the start of each of the ``points`` boundaries."""
    return [
        _position_from_kinds(_by_kind(sums, lambda group, i=index: group.before[i]))
        for index in range(points)
    ]


def flows_between(sums: list[BoundarySums], index: int) -> Flows:
    """Money moved between boundary ``index`` and ``index + 1``."""
    moved = _by_kind(sums, lambda group: group.before[index + 1] - group.before[index])
    return Flows(
        income_pence=moved[Kind.INCOME],
        spent_pence=moved[Kind.SPEND],
        committed_pence=moved[Kind.COMMITMENT],
        released_pence=moved[Kind.COMMITMENT_RELEASE],
    )


def spend_by_school_and_category(
    sums: list[BoundarySums],
) -> dict[tuple[int | None, str], tuple[int, int]]:
    """(school id, category) → (actual spend between the first and last boundary, commitments open at
    the last)."""
    figures: dict[tuple[int | None, str], list[int]] = defaultdict(lambda: [0, 0])
    for group in sums:
        key = (group.school_id, group.category)
        if group.kind == Kind.SPEND:
            figures[key][0] += group.sign * (group.before[-1] - group.before[0])
        elif group.kind == Kind.COMMITMENT:
            figures[key][1] += group.before[-1]
        elif group.kind == Kind.COMMITMENT_RELEASE:
            figures[key][1] -= group.before[-1]
    return {key: (spent, committed) for key, (spent, committed) in figures.items()}
