"""Reading a fund's ledger as finance does: filters, signed amounts and a running balance, in SQL.

Amounts are stored positive with a ``kind`` (see ``funds.services.ledger``); here they are signed the way
finance reads a ledger (``funds.selectors.positions``, the one home of the ledger's sums):

- ``amount``: what the entry does to the balance. Income +, spend −; a reversal undoes the entry it
  reverses (a reversed spend is +, a reversed donation −). Commitments and releases: 0.
- ``committed``: what the entry does to the money committed. Commitment +, release −; others 0.

Entries are dated by the day the money moved (``occurred_on``), not the moment they were typed in
(``created_at``): date filters, the order and the running figure go by it, and an entry recorded in a
later month than it happened is shown as back-dated.

The running figure is a window function (``SUM(amount) OVER (ORDER BY occurred_on, id)``) over the
filtered rows, so it costs one sort in the database whatever the page. Filtered by fund and dates only,
it is the fund's *balance* after each entry (the balance before the first day shown is added as an
opening balance). When a school, category or kind narrows the rows, the sum of the shown rows is not a
balance, so it is called a running total and starts at zero."""

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import NamedTuple

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.db.models import BigIntegerField, F, QuerySet, Sum, Value, Window
from django.db.models.expressions import RowRange
from django.db.models.functions import Coalesce
from django.utils import timezone

from funds.filters import LedgerEntryFilter
from funds.models import Fund, LedgerEntry, is_back_dated
from funds.selectors import ledger_entries_visible_to
from funds.selectors.positions import balance_before, balance_effect, committed_effect, entry_totals
from funds.services.ledger import SourceFacts, category_label, describe_sources, financial_year_bounds
from support.dates import month_bounds
from support.models import School

Kind = LedgerEntry.Kind
User = AbstractBaseUser | AnonymousUser | None

__all__ = [
    "LedgerFilters",
    "LedgerTotals",
    "entry_chain",
    "ledger_entries",
    "ledger_export_rows",
    "ledger_opening_balance",
    "ledger_page_entries",
    "ledger_totals",
    "reversals_of",
    "source_titles",
]


# --- Filters -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerFilters:
    """What the ledger page, its exports and the dashboard's links filter by. All optional but the fund.

    ``school`` is a School, the string "none" (entries charged to no school), or None (any).
    ``category`` is a group ("voucher": "voucher" and "voucher:*") or a full key ("voucher:food_parcel").
    Dates are inclusive days in the trust's time zone; year, month and from/to all apply (intersection).
    """

    fund: Fund
    year: int | None = None
    month: datetime.date | None = None  # the first of the month
    school: School | str | None = None
    category: str = ""
    kind: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None

    @property
    def narrowed(self) -> bool:
        """True when something other than the fund and dates picks rows: the running figure is then a
        total of the rows shown, not the fund's balance."""
        return self.school is not None or bool(self.category) or bool(self.kind)

    def days(self) -> tuple[datetime.date | None, datetime.date | None]:
        """The first and last day shown (None: unbounded), the intersection of year, month and dates."""
        firsts, lasts = [], []
        if self.year is not None:
            first, last = financial_year_bounds(self.year)
            firsts.append(first)
            lasts.append(last)
        if self.month is not None:
            first, last = month_bounds(self.month)
            firsts.append(first)
            lasts.append(last)
        if self.date_from is not None:
            firsts.append(self.date_from)
        if self.date_to is not None:
            lasts.append(self.date_to)
        return (max(firsts) if firsts else None, min(lasts) if lasts else None)

    def as_params(self) -> dict[str, str]:
        """The filters as the query string the page takes (for links, the audit trail and filenames)."""
        params = {"fund": str(self.fund.pk)}
        if self.year is not None:
            params["year"] = str(self.year)
        if self.month is not None:
            params["month"] = f"{self.month:%Y-%m}"
        if self.school is not None:
            params["school"] = "none" if self.school == "none" else str(self.school.pk)
        if self.category:
            params["category"] = self.category
        if self.kind:
            params["kind"] = self.kind
        if self.date_from is not None:
            params["date_from"] = self.date_from.isoformat()
        if self.date_to is not None:
            params["date_to"] = self.date_to.isoformat()
        return params


def _filtered(user: User, filters: LedgerFilters) -> QuerySet[LedgerEntry]:
    """The page's and the exports' entries, filtered by the ledger's one filter set (the API's)."""
    filterset = LedgerEntryFilter(filters.as_params(), queryset=ledger_entries_visible_to(user))
    if not filterset.is_valid():  # the page's form checked them: a bad one here is a programming error
        raise ValueError(f"Ledger filters the filter set refuses: {filterset.errors.as_text()}")
    return filterset.qs


def ledger_opening_balance(*, user: User, filters: LedgerFilters) -> int | None:
    """The fund's balance before the first day shown; None when the running figure is not a balance
    (narrowing filters). 0, without a query, when no start date applies."""
    if filters.narrowed:
        return None
    first, _ = filters.days()
    if first is None:
        return 0
    return balance_before(ledger_entries_visible_to(user).filter(fund=filters.fund), first)


def ledger_entries(
    *, user: User, filters: LedgerFilters, opening: int | None = None
) -> QuerySet[LedgerEntry]:
    """The filtered entries, annotated with ``amount`` and ``committed`` (signed pence) and ``running``:
    ``opening`` (the balance before the period, or 0 for a running total) plus the window sum of
    ``amount`` in (occurred_on, id) order. Order the result as you like: the window keeps its own order.
    """
    running = Window(
        Sum(balance_effect()),
        order_by=[F("occurred_on").asc(), F("pk").asc()],
        frame=RowRange(start=None, end=0),
    )
    return _filtered(user, filters).annotate(
        amount=balance_effect(),
        committed=committed_effect(),
        reverses_kind=F("reverses__kind"),
        running=running + Value(opening or 0, output_field=BigIntegerField()),
    )


def ledger_page_entries(
    *, user: User, filters: LedgerFilters, totals: "LedgerTotals"
) -> QuerySet[LedgerEntry]:
    """The filtered entries newest first, annotated as ``ledger_entries``, for a page of the list.

    ``running`` is the closing figure (``totals``) less the entries after each row: a window read
    backwards along the (fund, occurred_on, id) index, so the database stops at the page's last row
    instead of summing and sorting the whole ledger first (page one of a million entries: ms, not s).
    """
    after = Window(
        Sum(balance_effect()),
        order_by=[F("occurred_on").desc(), F("pk").desc()],
        frame=RowRange(start=None, end=-1),
    )
    closing_pence = totals.amount_pence if totals.closing_pence is None else totals.closing_pence
    closing = Value(closing_pence, output_field=BigIntegerField())
    return (
        _filtered(user, filters)
        .annotate(
            amount=balance_effect(),
            committed=committed_effect(),
            reverses_kind=F("reverses__kind"),
            running=closing - Coalesce(after, Value(0), output_field=BigIntegerField()),
        )
        .order_by("-occurred_on", "-pk")
    )


@dataclass(frozen=True)
class LedgerTotals:
    count: int
    amount_pence: int  # net effect of the rows on the balance
    committed_pence: int  # net effect on the money committed
    opening_pence: int | None  # the balance before the period; None under narrowing filters

    @property
    def closing_pence(self) -> int | None:
        return None if self.opening_pence is None else self.opening_pence + self.amount_pence


def ledger_totals(*, user: User, filters: LedgerFilters, opening: int | None) -> LedgerTotals:
    """Count and net totals of the filtered rows: one aggregate query."""
    totals = entry_totals(_filtered(user, filters))
    return LedgerTotals(
        count=totals.count,
        amount_pence=totals.amount_pence,
        committed_pence=totals.committed_pence,
        opening_pence=opening,
    )


# --- What is behind the entries ------------------------------------------------------------------


class _SourceRef(NamedTuple):
    source_type_id: int | None
    source_id: str


def source_title(
    facts: dict[tuple[int, str], SourceFacts], source_type_id: int | None, source_id: str
) -> str:
    """The describer's title for a source, or its kind and id when no app describes it."""
    if not source_type_id or not source_id:
        return ""
    found = facts.get((source_type_id, source_id))
    if found is not None:
        return found.title
    return f"{ContentType.objects.get_for_id(source_type_id).name.capitalize()} {source_id}"


def source_titles(entries: Iterable[LedgerEntry]) -> dict[int, str]:
    """{entry id: what is behind it}, for a page of entries: one describe_sources call."""
    entries = list(entries)
    facts = describe_sources(entries)
    return {entry.pk: source_title(facts, entry.source_type_id, entry.source_id) for entry in entries}


def reversals_of(entries: Iterable[LedgerEntry]) -> dict[int, int]:
    """{entry id: id of the reversal that undid it} for the given entries: one query."""
    ids = [entry.pk for entry in entries]
    return dict(LedgerEntry.objects.filter(reverses_id__in=ids).values_list("reverses_id", "pk"))


def entry_chain(*, user: User, entry: LedgerEntry) -> QuerySet[LedgerEntry]:
    """Every entry of ``entry``'s source (commitment → release → spend → reversal), oldest first."""
    if not entry.source_type_id or not entry.source_id:
        return (
            ledger_entries_visible_to(user)
            .filter(pk=entry.pk)
            .annotate(
                amount=balance_effect(), committed=committed_effect(), reverses_kind=F("reverses__kind")
            )
        )
    return (
        ledger_entries_visible_to(user)
        .filter(source_type_id=entry.source_type_id, source_id=entry.source_id)
        .select_related("fund")
        .annotate(amount=balance_effect(), committed=committed_effect(), reverses_kind=F("reverses__kind"))
        .order_by("occurred_on", "pk")
    )


def kind_label(kind: str, reverses_kind: str | None) -> str:
    """ "Reversal of spend" rather than "Reversal"."""
    label = Kind(kind).label
    if kind == Kind.REVERSAL and reverses_kind:
        return f"{label} of {Kind(reverses_kind).label.lower()}"
    return label


# --- Export rows ---------------------------------------------------------------------------------

EXPORT_FIELDS = (
    "pk",
    "occurred_on",
    "created_at",
    "kind",
    "reverses_kind",
    "category",
    "school__name",
    "source_type_id",
    "source_id",
    "amount",
    "committed",
    "running",
    "reverses_id",
    "note",
    "override_reason",
    "created_by__username",
)


class ExportRow(NamedTuple):
    entry_id: int
    occurred_on: datetime.date  # the day the money moved
    created_at: datetime.datetime  # when it was recorded: local time, naive (spreadsheets have no time zones)
    back_dated: bool  # recorded in a later month than it happened
    kind: str
    category: str
    category_label: str
    school: str
    what: str
    source_type: str
    source_id: str
    amount_pence: int
    committed_pence: int
    running_pence: int
    reverses_id: int | None
    note: str
    override_reason: str
    created_by: str


def ledger_export_rows(
    *, user: User, filters: LedgerFilters, opening: int | None, chunk_size: int = 2000
) -> Iterator[ExportRow]:
    """The filtered ledger oldest first, streamed in chunks from a server-side cursor: memory stays
    constant however many rows. What is behind each entry is described one chunk at a time."""
    rows = (
        ledger_entries(user=user, filters=filters, opening=opening)
        .order_by("occurred_on", "pk")
        .values_list(*EXPORT_FIELDS)
        .iterator(chunk_size=chunk_size)
    )
    type_names: dict[int, str] = {}
    while chunk := list(islice(rows, chunk_size)):
        facts = describe_sources(_SourceRef(row[7], row[8]) for row in chunk)
        for (
            pk,
            occurred_on,
            created_at,
            kind,
            reverses_kind,
            category,
            school,
            source_type_id,
            source_id,
            amount,
            committed,
            running,
            reverses_id,
            note,
            override_reason,
            username,
        ) in chunk:
            if source_type_id and source_type_id not in type_names:
                content_type = ContentType.objects.get_for_id(source_type_id)
                type_names[source_type_id] = f"{content_type.app_label}.{content_type.model}"
            yield ExportRow(
                entry_id=pk,
                occurred_on=occurred_on,
                created_at=timezone.localtime(created_at).replace(tzinfo=None),
                back_dated=is_back_dated(occurred_on, created_at),
                kind=kind_label(kind, reverses_kind),
                category=category,
                category_label=category_label(category) if category else "",
                school=school or "",
                what=source_title(facts, source_type_id, source_id),
                source_type=type_names.get(source_type_id, "") if source_type_id else "",
                source_id=source_id,
                amount_pence=int(amount),
                committed_pence=int(committed),
                running_pence=int(running),
                reverses_id=reverses_id,
                note=note,
                override_reason=override_reason,
                created_by=username or "",
            )
