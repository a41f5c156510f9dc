"""Finance's dashboard: one fund's financial year at a glance, its summary exports and the year-end report.

Every figure comes from one ``fund_year_summary`` (a handful of grouped queries however long the ledger)
and links to the ledger filtered to the entries behind it. Reading needs ``fund.view``; taking the
figures away (CSV, XLSX, PDF) needs ``fund.export`` and is audited, like the ledger's exports.
"""

import datetime
import io
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone

from funds.charts import charts_for
from funds.filters import FIRST_YEAR, LAST_YEAR
from funds.models import Fund, LedgerEntry, SpendRequest
from funds.selectors import funds_visible_to, spend_requests_visible_to
from funds.selectors.ledger import LedgerFilters
from funds.selectors.reports import (
    FundYearSummary,
    current_year,
    default_fund,
    fund_year_summary,
    years_for,
)
from funds.services.ledger import STANDBY_FUND_NAME, financial_year_label
from funds.services.year_end import (
    TABLES,
    SummaryTable,
    render_year_end_pdf,
    summary_filename,
    summary_table,
    year_end_report,
)
from funds.web.ledger import MONEY_FORMAT
from support.access import requires
from support.audit import audit_record
from support.csv_safe import csv_text, safe_cell
from support.forms import GovukErrorsMixin
from support.models import School
from support.money import pence_to_pounds
from support.people import person_name
from support.permissions import has_perm

Kind = LedgerEntry.Kind
# Income drills down by category rather than kind: the category filter keeps a donation's reversal
# (which carries its entry's category), so the ledger's total matches the figure net of reversals.
INCOME_CATEGORY = "donation"


# --- Which fund and year -------------------------------------------------------------------------


class YearPickerForm(GovukErrorsMixin, forms.Form):
    """Always bound (to request.GET): nothing chosen is the standby fund's current year."""

    fund = forms.ChoiceField(
        label="Fund",
        error_messages={"invalid_choice": "Choose a fund from the list"},
        widget=forms.Select(attrs={"class": "govuk-select"}),
    )
    year = forms.TypedChoiceField(
        label="Financial year",
        coerce=int,
        error_messages={"invalid_choice": "Choose a financial year from the list"},
        widget=forms.Select(attrs={"class": "govuk-select"}),
    )

    def __init__(self, data, *, funds: list[Fund], default: Fund, today: datetime.date) -> None:
        self.funds = {str(fund.pk): fund for fund in funds}
        data = data.copy()
        if not data.get("fund"):
            data["fund"] = str(default.pk)
        if not data.get("year"):
            data["year"] = str(current_year(today))
        super().__init__(data)
        self.fields["fund"].choices = [(pk, fund.name) for pk, fund in self.funds.items()]
        # The years offered are the chosen fund's (the default's until a valid fund is chosen); a year
        # asked for by a link is kept when it is a real one, as the ledger's filters keep it.
        years = years_for(self.funds.get(data["fund"], default), today=today)
        asked = str(data["year"]).strip()
        if asked.isdigit() and FIRST_YEAR <= int(asked) <= LAST_YEAR and int(asked) not in years:
            years = sorted([*years, int(asked)], reverse=True)
        self.fields["year"].choices = [(str(year), financial_year_label(year)) for year in years]

    def chosen(self) -> tuple[Fund, int]:
        return self.funds[self.cleaned_data["fund"]], self.cleaned_data["year"]


def _picker(request: HttpRequest, today: datetime.date) -> YearPickerForm:
    funds = list(funds_visible_to(request.user).order_by("name"))
    if not funds:
        funds = [default_fund()]  # created on first use, as every reader of the fund does
    default = next((f for f in funds if f.name == STANDBY_FUND_NAME), funds[0])
    return YearPickerForm(request.GET, funds=funds, default=default, today=today)


def _summary_or_404(request: HttpRequest) -> FundYearSummary:
    """For the downloads: the asked fund and year, or a 404 (a link that names no real fund or year)."""
    today = timezone.localdate()
    form = _picker(request, today)
    if not form.is_valid():
        raise Http404("No such fund or financial year")
    fund, year = form.chosen()
    return fund_year_summary(fund=fund, year=year, today=today)


# --- Links to the entries behind a figure ----------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """A figure in pence and the ledger filtered to the entries that make it."""

    pence: int
    url: str


class _Ledger:
    """Builds links to the ledger for one fund and year. A school is given by id (no query for it)."""

    def __init__(self, summary: FundYearSummary) -> None:
        self.fund, self.year = summary.fund, summary.year
        self.base = reverse("finance_ledger")

    def url(self, *, school_id: int | str | None = "", **filters) -> str:
        if school_id != "":
            filters["school"] = "none" if school_id is None else School(pk=school_id)
        params = LedgerFilters(**{"fund": self.fund, "year": self.year, **filters}).as_params()
        return f"{self.base}?{urlencode(params)}"

    def figure(self, pence: int, **filters) -> Figure:
        return Figure(pence, self.url(**filters))


@dataclass(frozen=True)
class Headline:
    label: str
    figure: Figure
    hint: str


@dataclass(frozen=True)
class MonthRow:
    month: datetime.date
    income: Figure
    spent: Figure
    committed: Figure  # commitments made in the month
    balance: Figure | None  # at the month's end; None for a month not yet started
    available: Figure | None


@dataclass(frozen=True)
class SchoolRow:
    name: str
    spent: Figure
    committed: Figure
    total: Figure
    allocation_pence: int | None
    remaining_pence: int | None
    over_allocation: bool


@dataclass(frozen=True)
class CategoryRow:
    label: str
    spent: Figure
    committed: Figure
    total: Figure
    is_detail: bool  # a voucher service under its group


def _headlines(summary: FundYearSummary, ledger: _Ledger) -> list[Headline]:
    as_at = f"{summary.as_at:%-d %B %Y}"
    return [
        Headline(
            "Income",
            ledger.figure(summary.income_pence, category=INCOME_CATEGORY),
            "donations and other income in the year, less any reversed",
        ),
        Headline(
            "Actual spend",
            ledger.figure(summary.spent_pence, kind=Kind.SPEND),
            "goods handed over and vouchers redeemed in the year",
        ),
        Headline(
            "Committed",
            ledger.figure(summary.committed_pence, kind=Kind.COMMITMENT),
            f"promised and not yet spent on {as_at}",
        ),
        Headline("Balance", ledger.figure(summary.balance_pence), f"income less spend, on {as_at}"),
        Headline("Available", ledger.figure(summary.available_pence), f"balance less committed, on {as_at}"),
    ]


def _month_rows(summary: FundYearSummary, ledger: _Ledger) -> list[MonthRow]:
    rows = []
    for m in summary.months:
        url = ledger.url(month=m.month)
        rows.append(
            MonthRow(
                month=m.month,
                income=ledger.figure(m.flows.income_pence, month=m.month, category=INCOME_CATEGORY),
                spent=ledger.figure(m.flows.spent_pence, month=m.month, kind=Kind.SPEND),
                committed=ledger.figure(m.flows.committed_pence, month=m.month, kind=Kind.COMMITMENT),
                balance=Figure(m.closing.balance_pence, url) if m.closing else None,
                available=Figure(m.closing.available_pence, url) if m.closing else None,
            )
        )
    return rows


def _school_rows(summary: FundYearSummary, ledger: _Ledger) -> list[SchoolRow]:
    return [
        SchoolRow(
            name=s.name,
            spent=ledger.figure(s.spent_pence, school_id=s.school_id, kind=Kind.SPEND),
            committed=ledger.figure(s.committed_pence, school_id=s.school_id, kind=Kind.COMMITMENT),
            total=ledger.figure(s.total_pence, school_id=s.school_id),
            allocation_pence=s.allocation_pence,
            remaining_pence=s.remaining_pence,
            over_allocation=s.over_allocation,
        )
        for s in summary.schools
    ]


def _category_rows(summary: FundYearSummary, ledger: _Ledger) -> list[CategoryRow]:
    """Each group, followed by its categories when it has any (vouchers by service)."""
    rows = []
    for group in summary.categories:
        rows.append(
            CategoryRow(
                label=group.label,
                spent=ledger.figure(group.spent_pence, category=group.key, kind=Kind.SPEND),
                committed=ledger.figure(group.committed_pence, category=group.key, kind=Kind.COMMITMENT),
                total=ledger.figure(group.total_pence, category=group.key),
                is_detail=False,
            )
        )
        if group.has_detail:
            rows += [
                CategoryRow(
                    label=row.label,
                    spent=ledger.figure(row.spent_pence, category=row.key, kind=Kind.SPEND),
                    committed=ledger.figure(row.committed_pence, category=row.key, kind=Kind.COMMITMENT),
                    total=ledger.figure(row.total_pence, category=row.key),
                    is_detail=True,
                )
                for row in group.rows
            ]
    return rows


def _download_query(summary: FundYearSummary, **extra: str) -> str:
    return urlencode({"fund": summary.fund.pk, "year": summary.year, **extra})


@requires("fund.view")
def dashboard(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    form = _picker(request, today)
    if not form.is_valid():
        return render(request, "finance/dashboard.html", {"form": form}, status=400)
    fund, year = form.chosen()
    summary = fund_year_summary(fund=fund, year=year, today=today)
    ledger = _Ledger(summary)
    pending = spend_requests_visible_to(request.user).filter(status=SpendRequest.Status.PENDING).count()
    downloads = {
        key: {
            "title": title,
            "csv": f"{reverse('finance_summary_csv')}?{_download_query(summary, table=key)}",
            "xlsx": f"{reverse('finance_summary_xlsx')}?{_download_query(summary, table=key)}",
        }
        for key, title in TABLES.items()
    }
    context = {
        "form": form,
        "summary": summary,
        "fund": fund,
        "charts": charts_for(summary),
        "headlines": _headlines(summary, ledger),
        "opening": ledger.figure(
            summary.opening.balance_pence, year=None, date_to=summary.start - datetime.timedelta(days=1)
        ),
        "months": _month_rows(summary, ledger),
        "schools": _school_rows(summary, ledger),
        "has_allocations": any(s.allocation_pence is not None for s in summary.schools),
        "categories": _category_rows(summary, ledger),
        "restricted": [(r, ledger.url(category=r.purpose)) for r in summary.restricted],
        "year_ledger_url": ledger.url(),
        "pending_count": pending,
        "can_export": has_perm(request.user, "fund.export"),
        "can_record": has_perm(request.user, "fund.record_donation"),
        "downloads": downloads,
        "pdf_url": f"{reverse('finance_year_end_pdf')}?{_download_query(summary)}",
    }
    return render(request, "finance/dashboard.html", context)


# --- Downloads -----------------------------------------------------------------------------------


def _pounds(pence: int | None) -> Decimal | None:
    return None if pence is None else pence_to_pounds(pence)


def _cells(table: SummaryTable, row: list) -> list:
    return [_pounds(v) if column.money else v for column, v in zip(table.columns, row, strict=True)]


def _table_or_404(request: HttpRequest) -> SummaryTable:
    key = request.GET.get("table", "")
    if key not in TABLES:
        raise Http404("No such summary table")
    return summary_table(_summary_or_404(request), key)


def _audit(request: HttpRequest, summary: FundYearSummary, what: str, fmt: str) -> None:
    audit_record(
        actor=request.user,
        action="finance.summary_exported",
        subject=summary.fund,
        after={"fund": summary.fund.pk, "year": summary.year, "table": what, "format": fmt},
    )


@requires("fund.export")
def summary_csv(request: HttpRequest) -> HttpResponse:
    table = _table_or_404(request)
    summary = table.summary
    _audit(request, summary, table.key, "csv")
    text = csv_text(
        (["" if v is None else v for v in _cells(table, row)] for row in [*table.rows, table.total]),
        header=[column.title for column in table.columns],
        bom=True,  # makes Excel read UTF-8 (£)
    )
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    filename = summary_filename(summary, table.title, "csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@requires("fund.export")
def summary_xlsx(request: HttpRequest) -> HttpResponse:
    """One summary table as a sheet, money as numbers in a £ format; text neutralised like the CSV's
    (openpyxl would otherwise store a name starting "=" as a formula)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    table = _table_or_404(request)
    summary = table.summary
    _audit(request, summary, table.key, "xlsx")
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = table.title
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([column.title for column in table.columns])
    for row in [*table.rows, table.total]:
        sheet.append([safe_cell(v) for v in _cells(table, row)])
    for index, column in enumerate(table.columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = 16 if column.money else 30
        for cell in sheet[letter][1:]:
            if column.money:
                cell.number_format = MONEY_FORMAT
    for cell in [*sheet[1], *sheet[sheet.max_row]]:
        cell.font = bold
    about = workbook.create_sheet("About")
    about.column_dimensions["A"].width = 24
    about.column_dimensions["B"].width = 40
    for label, value in [
        ("Fund", summary.fund.name),
        ("Financial year", summary.label),
        ("From", summary.start),
        ("To", summary.as_at),
        ("Exported", timezone.localtime().replace(tzinfo=None, microsecond=0)),
        ("Exported by", person_name(request.user)),
    ]:
        about.append([label, safe_cell(value)])
        about.cell(row=about.max_row, column=1).font = bold
        if isinstance(value, datetime.datetime):
            about.cell(row=about.max_row, column=2).number_format = "dd/mm/yyyy hh:mm"
        elif isinstance(value, datetime.date):
            about.cell(row=about.max_row, column=2).number_format = "dd/mm/yyyy"
    out = io.BytesIO()
    workbook.save(out)
    response = HttpResponse(
        out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    filename = summary_filename(summary, table.title, "xlsx")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@requires("fund.export")
def year_end_pdf(request: HttpRequest) -> HttpResponse:
    summary = _summary_or_404(request)
    report = year_end_report(user=request.user, summary=summary)
    _audit(request, summary, "year_end_report", "pdf")
    response = HttpResponse(render_year_end_pdf(report), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{report.filename}"'
    return response


urlpatterns = [
    path("", dashboard, name="finance_dashboard"),
    path("summary.csv", summary_csv, name="finance_summary_csv"),
    path("summary.xlsx", summary_xlsx, name="finance_summary_xlsx"),
    path("year-end.pdf", year_end_pdf, name="finance_year_end_pdf"),
]
