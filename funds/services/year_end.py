"""A fund's year as finance hands it on: each summary table as plain rows (the CSV and XLSX exports) and
the year-end report for the trust board (a PDF).

Everything here reads one ``fund_year_summary``; the tables hold pence and the doors turn them into
pounds. The report adds the year's donations and the fund's pledges, through the user's selectors.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from django.utils.text import slugify

from funds.charts import charts_for
from funds.models import Donation, Pledge
from funds.selectors import pledges_visible_to
from funds.selectors.reports import FundYearSummary
from funds.services.ledger import category_label
from funds.services.pledges import DonationTotals, donation_list, donation_totals
from support.pdf import render_pdf

TEMPLATE = "finance/pdf/year_end.html"
STYLESHEET = "finance/pdf/year_end.css"

# The summary tables, in the dashboard's order: key → title.
TABLES = {"months": "By month", "schools": "By school", "categories": "By category"}

Cell = str | int | None  # money columns hold pence (None: no figure)


@dataclass(frozen=True)
class Column:
    title: str
    money: bool = False


@dataclass(frozen=True)
class SummaryTable:
    summary: FundYearSummary
    key: str
    title: str
    columns: list[Column]
    rows: list[list[Cell]]
    total: list[Cell]


def _months_table(summary: FundYearSummary) -> SummaryTable:
    columns = [
        Column("Month"),
        Column("Income (£)", money=True),
        Column("Actual spend (£)", money=True),
        Column("New commitments (£)", money=True),
        Column("Commitments released or made actual (£)", money=True),
        Column("Balance at month end (£)", money=True),
        Column("Committed at month end (£)", money=True),
        Column("Available at month end (£)", money=True),
    ]
    rows = []
    for month in summary.months:
        closing = month.closing
        rows.append(
            [
                f"{month.month:%B %Y}",
                month.flows.income_pence,
                month.flows.spent_pence,
                month.flows.committed_pence,
                month.flows.released_pence,
                closing.balance_pence if closing else None,
                closing.committed_pence if closing else None,
                closing.available_pence if closing else None,
            ]
        )
    flows, closing = summary.flows, summary.closing
    total = [
        f"Year {summary.label}",
        flows.income_pence,
        flows.spent_pence,
        flows.committed_pence,
        flows.released_pence,
        closing.balance_pence,
        closing.committed_pence,
        closing.available_pence,
    ]
    return SummaryTable(summary, "months", TABLES["months"], columns, rows, total)


def _schools_table(summary: FundYearSummary) -> SummaryTable:
    columns = [
        Column("School"),
        Column("Allocation (£)", money=True),
        Column("Actual spend (£)", money=True),
        Column("Committed (£)", money=True),
        Column("Spent and committed (£)", money=True),
        Column("Allocation left (£)", money=True),
    ]
    rows: list[list[Cell]] = [
        [s.name, s.allocation_pence, s.spent_pence, s.committed_pence, s.total_pence, s.remaining_pence]
        for s in summary.schools
    ]
    allocations = [s.allocation_pence for s in summary.schools if s.allocation_pence is not None]
    total: list[Cell] = [
        "All schools and trust-wide",
        sum(allocations) if allocations else None,
        sum(s.spent_pence for s in summary.schools),
        sum(s.committed_pence for s in summary.schools),
        sum(s.total_pence for s in summary.schools),
        None,
    ]
    return SummaryTable(summary, "schools", TABLES["schools"], columns, rows, total)


def _categories_table(summary: FundYearSummary) -> SummaryTable:
    columns = [
        Column("Group"),
        Column("Category"),
        Column("Category key"),
        Column("Actual spend (£)", money=True),
        Column("Committed (£)", money=True),
        Column("Spent and committed (£)", money=True),
    ]
    rows: list[list[Cell]] = [
        [group.label, row.label, row.key, row.spent_pence, row.committed_pence, row.total_pence]
        for group in summary.categories
        for row in group.rows
    ]
    total: list[Cell] = [
        "All categories",
        "",
        "",
        sum(g.spent_pence for g in summary.categories),
        sum(g.committed_pence for g in summary.categories),
        sum(g.total_pence for g in summary.categories),
    ]
    return SummaryTable(summary, "categories", TABLES["categories"], columns, rows, total)


_BUILDERS = {"months": _months_table, "schools": _schools_table, "categories": _categories_table}


def summary_table(summary: FundYearSummary, key: str) -> SummaryTable:
    """One of ``TABLES`` for the summary: its columns, a row a month, school or category, and a total."""
    if key not in _BUILDERS:
        raise KeyError(f"Unknown summary table {key!r}: one of {', '.join(TABLES)}")
    return _BUILDERS[key](summary)


def summary_filename(summary: FundYearSummary, what: str, extension: str) -> str:
    """'standby-fund-2025-26-by-school.csv'."""
    year = f"{summary.year}-{str(summary.year + 1)[-2:]}"
    return f"{slugify(summary.fund.name) or 'fund'}-{year}-{slugify(what)}.{extension}"


# --- The year-end report -------------------------------------------------------------------------


@dataclass(frozen=True)
class PurposeTotal:
    label: str
    count: int
    amount_pence: int


@dataclass(frozen=True)
class PledgeRow:
    pledge: Pledge
    overdue: bool

    @property
    def yearly_pence(self) -> int:
        """What the pledge brings in a year."""
        per_year = 12 if self.pledge.frequency == Pledge.Frequency.MONTHLY else 1
        return self.pledge.amount_pence * per_year


@dataclass(frozen=True)
class YearEndReport:
    summary: FundYearSummary
    donations: list[Donation]  # oldest first, each with ``is_reversed`` and ``purpose_label``
    donation_totals: DonationTotals
    by_purpose: list[PurposeTotal]  # restricted donations received, by purpose, then unrestricted
    pledges: list[PledgeRow]  # the fund's active pledges
    generated_at: datetime.datetime

    @property
    def pledged_yearly_pence(self) -> int:
        return sum(row.yearly_pence for row in self.pledges)

    @property
    def filename(self) -> str:
        return summary_filename(self.summary, "year-end-report", "pdf")


def year_end_report(
    *, user: AbstractBaseUser, summary: FundYearSummary, generated_at: datetime.datetime | None = None
) -> YearEndReport:
    """What the board report shows beyond the summary: three queries (donations, their totals, pledges)."""
    donations_qs = donation_list(user=user, fund=summary.fund, year=summary.year)
    donations = list(donations_qs.order_by("received_on", "pk"))
    totals = donation_totals(donations_qs)
    purposes: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for donation in donations:
        donation.purpose_label = (
            category_label(donation.restricted_purpose) if donation.restricted_purpose else ""
        )
        if not donation.is_reversed:
            purposes[donation.restricted_purpose][0] += 1
            purposes[donation.restricted_purpose][1] += donation.amount_pence
    by_purpose = [
        PurposeTotal(category_label(purpose), count, amount)
        for purpose, (count, amount) in sorted(purposes.items(), key=lambda item: category_label(item[0]))
        if purpose
    ]
    if "" in purposes:
        count, amount = purposes[""]
        by_purpose.append(PurposeTotal("Unrestricted", count, amount))
    overdue = {pledge.pk for pledge in summary.overdue_pledges}
    pledges = (
        pledges_visible_to(user).filter(fund=summary.fund, is_active=True).order_by("next_due", "donor", "pk")
    )
    return YearEndReport(
        summary=summary,
        donations=donations,
        donation_totals=totals,
        by_purpose=by_purpose,
        pledges=[PledgeRow(pledge, pledge.pk in overdue) for pledge in pledges],
        generated_at=generated_at or timezone.now(),
    )


def render_year_end_pdf(report: YearEndReport) -> bytes:
    """The report as an A4 PDF: the year's figures and charts, schools against their allocations,
    categories, restricted money, donations and pledges."""
    return render_pdf(
        TEMPLATE,
        {
            "trust_name": settings.TRUST_NAME,
            "report": report,
            "summary": report.summary,
            "charts": charts_for(report.summary, prefix="pdf-"),
            "generated_at": timezone.localtime(report.generated_at),
        },
        stylesheet=STYLESHEET,
        cache_key=f"year-end:{report.summary.fund.pk}:{report.summary.year}",
    )
