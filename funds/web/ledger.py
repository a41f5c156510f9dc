"""Finance's ledger: the filtered list with a running balance, one entry and its chain, reversal, exports.

Entries are listed newest first (the latest balance at the top of page one); the exports run oldest
first, as a ledger is read on paper. Both take the running figure from the same SQL window.
"""

import tempfile
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify

from funds.filters import LedgerEntryFilter
from funds.models import LedgerEntry
from funds.selectors import funds_visible_to, ledger_entries_visible_to
from funds.selectors.ledger import (
    LedgerFilters,
    entry_chain,
    kind_label,
    ledger_export_rows,
    ledger_opening_balance,
    ledger_page_entries,
    ledger_totals,
    reversals_of,
    source_title,
    source_titles,
)
from funds.selectors.positions import balance_effect, committed_effect, fund_position
from funds.selectors.reports import default_fund, years_for
from funds.services.ledger import (
    REVERSIBLE,
    category_label,
    describe_sources,
    fund_entry_reverse,
)
from funds.web.forms import EntryReverseForm
from support.access import requires
from support.audit import audit_record
from support.csv_safe import safe_cell, stream_csv
from support.errors import SupportError
from support.forms import form_error_from
from support.money import pence_to_pounds, pounds
from support.people import person_name
from support.permissions import has_perm
from support.selectors import schools_visible_to

PAGE_SIZE = 50
XLSX_MAX_ROWS = 1_048_575  # a sheet's 1,048,576 rows less the header
MONEY_FORMAT = '"£"#,##0.00;-"£"#,##0.00'
Kind = LedgerEntry.Kind


def _dashboard_url() -> str | None:
    try:
        return reverse("finance_dashboard")
    except NoReverseMatch:
        return None


def _filters(request: HttpRequest) -> tuple[forms.Form, LedgerFilters | None]:
    """The page's (and the exports') filters, read by the API's ``LedgerEntryFilter``: its form, and the
    filters when that form is valid."""
    fund = default_fund()
    filterset = LedgerEntryFilter(
        request.GET, queryset=ledger_entries_visible_to(request.user), request=request
    ).for_page(
        funds=funds_visible_to(request.user),
        default_fund=fund,
        schools=schools_visible_to(request.user).order_by("name"),
        years=years_for(fund),
    )
    filters = filterset.page_filters()
    return filterset.form, filters


def _querystring(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _running_label(filters: LedgerFilters | None) -> str:
    return "Running total of these entries" if filters is not None and filters.narrowed else "Balance"


def _ledger_page(request: HttpRequest, form: forms.Form, filters: LedgerFilters | None) -> HttpResponse:
    user = request.user
    context: dict = {
        "form": form,
        "filters": filters,
        "querystring": _querystring(request),
        "can_export": has_perm(user, "fund.export"),
        "dashboard_url": _dashboard_url(),
        "running_label": _running_label(filters),
    }
    if filters is None:
        return render(request, "finance/ledger.html", context, status=400)
    opening = ledger_opening_balance(user=user, filters=filters)
    totals = ledger_totals(user=user, filters=filters, opening=opening)
    entries = ledger_page_entries(user=user, filters=filters, totals=totals).select_related("school")
    paginator = Paginator(entries, PAGE_SIZE)
    paginator.count = totals.count  # the totals query counted them already
    page = paginator.get_page(request.GET.get("page"))
    rows = list(page.object_list)
    titles = source_titles(rows)
    reversed_by = reversals_of(rows)
    for entry in rows:
        entry.what = titles[entry.pk]
        entry.kind_text = kind_label(entry.kind, entry.reverses_kind)
        entry.category_text = category_label(entry.category) if entry.category else ""
        entry.reversed_by_id = reversed_by.get(entry.pk)
    first_day, last_day = filters.days()
    context.update(
        {
            "fund": filters.fund,
            "page": page,
            "rows": rows,
            "totals": totals,
            "first_day": first_day,
            "last_day": last_day,
            "export_query": "&".join(f"{k}={v}" for k, v in filters.as_params().items()),
        }
    )
    return render(request, "finance/ledger.html", context)


@requires("fund.view")
def ledger(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    return _ledger_page(request, form, filters)


# --- Exports -------------------------------------------------------------------------------------


def _filename(filters: LedgerFilters, extension: str) -> str:
    parts = [slugify(filters.fund.name) or "fund", "ledger"]
    if filters.year is not None:
        parts.append(f"{filters.year}-{str(filters.year + 1)[-2:]}")
    if filters.month is not None:
        parts.append(f"{filters.month:%Y-%m}")
    if filters.year is None and filters.month is None:
        parts.append("all-years")
    return f"{'-'.join(parts)}.{extension}"


def _audit_export(request: HttpRequest, filters: LedgerFilters, fmt: str) -> None:
    audit_record(
        actor=request.user,
        action="ledger.exported",
        subject=filters.fund,
        after={**filters.as_params(), "format": fmt},
    )


def _header(filters: LedgerFilters) -> list[str]:
    running = "Running total (£)" if filters.narrowed else "Balance (£)"
    return [
        "Entry",
        "Date",
        "Recorded",
        "Back-dated",
        "Kind",
        "Category",
        "Category key",
        "School",
        "What",
        "Source type",
        "Source id",
        "Amount (£)",
        "Committed (£)",
        running,
        "Reverses entry",
        "Note",
        "Override reason",
        "Recorded by",
    ]


@requires("fund.export")
def ledger_csv(request: HttpRequest) -> HttpResponse:
    """The filtered ledger, oldest first, streamed: constant memory however long the ledger."""
    form, filters = _filters(request)
    if filters is None:
        return _ledger_page(request, form, None)
    opening = ledger_opening_balance(user=request.user, filters=filters)
    _audit_export(request, filters, "csv")
    rows = (
        [
            row.entry_id,
            row.occurred_on.strftime("%d/%m/%Y"),
            row.created_at.strftime("%d/%m/%Y %H:%M"),
            "Yes" if row.back_dated else "",
            row.kind,
            row.category_label,
            row.category,
            row.school,
            row.what,
            row.source_type,
            row.source_id,
            pence_to_pounds(row.amount_pence),
            pence_to_pounds(row.committed_pence),
            pence_to_pounds(row.running_pence),
            row.reverses_id or "",
            row.note,
            row.override_reason,
            row.created_by,
        ]
        for row in ledger_export_rows(user=request.user, filters=filters, opening=opening)
    )
    # The BOM makes Excel read UTF-8 (£).
    return stream_csv(rows, filename=_filename(filters, "csv"), header=_header(filters), bom=True)


@requires("fund.export")
def ledger_xlsx(request: HttpRequest) -> HttpResponse:
    """The filtered ledger as a spreadsheet: money as numbers in a £ format, text cells neutralised
    like the CSV's (openpyxl would otherwise store a string starting "=" as a formula)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    form, filters = _filters(request)
    if filters is None:
        return _ledger_page(request, form, None)
    opening = ledger_opening_balance(user=request.user, filters=filters)
    totals = ledger_totals(user=request.user, filters=filters, opening=opening)
    if totals.count > XLSX_MAX_ROWS:
        messages.error(
            request,
            f"{totals.count:,} entries are more than one spreadsheet holds. Choose a year or a month, "
            "or download the CSV.",
        )
        return redirect(f"{reverse('finance_ledger')}?{_querystring(request)}")
    _audit_export(request, filters, "xlsx")

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Ledger")
    sheet.freeze_panes = "A2"
    for letter, width in zip(
        "ABCDEFGHIJKLMNOPQR",
        (8, 11, 16, 10, 20, 26, 22, 28, 30, 18, 10, 12, 12, 14, 9, 30, 30, 14),
        strict=True,
    ):
        sheet.column_dimensions[letter].width = width
    bold = Font(bold=True)

    def cell(value, number_format: str | None = None, font: Font | None = None) -> WriteOnlyCell:
        made = WriteOnlyCell(sheet, value=safe_cell(value))
        if number_format:
            made.number_format = number_format
        if font:
            made.font = font
        return made

    sheet.append([cell(title, font=bold) for title in _header(filters)])
    for row in ledger_export_rows(user=request.user, filters=filters, opening=opening):
        sheet.append(
            [
                row.entry_id,
                cell(row.occurred_on, "dd/mm/yyyy"),
                cell(row.created_at.replace(microsecond=0), "dd/mm/yyyy hh:mm"),
                cell("Yes" if row.back_dated else ""),
                cell(row.kind),
                cell(row.category_label),
                cell(row.category),
                cell(row.school),
                cell(row.what),
                cell(row.source_type),
                cell(row.source_id),
                cell(pence_to_pounds(row.amount_pence), MONEY_FORMAT),
                cell(pence_to_pounds(row.committed_pence), MONEY_FORMAT),
                cell(pence_to_pounds(row.running_pence), MONEY_FORMAT),
                row.reverses_id,
                cell(row.note),
                cell(row.override_reason),
                cell(row.created_by),
            ]
        )
    about = workbook.create_sheet("About")
    about.column_dimensions["A"].width = 28
    about.column_dimensions["B"].width = 40
    first_day, last_day = filters.days()
    for label, value, number_format in [
        ("Fund", filters.fund.name, None),
        ("From", first_day, "dd/mm/yyyy"),
        ("To", last_day, "dd/mm/yyyy"),
        ("Filters", "&".join(f"{k}={v}" for k, v in filters.as_params().items()), None),
        ("Entries", totals.count, None),
        ("Balance before the first entry", _opening_or_none(totals.opening_pence), MONEY_FORMAT),
        ("Net effect on the balance", pence_to_pounds(totals.amount_pence), MONEY_FORMAT),
        ("Net change in money committed", pence_to_pounds(totals.committed_pence), MONEY_FORMAT),
        ("Exported", timezone.localtime().replace(tzinfo=None, microsecond=0), "dd/mm/yyyy hh:mm"),
        ("Exported by", person_name(request.user), None),
    ]:
        about.append([cell(label, font=bold), cell(value, number_format if value is not None else None)])

    spool = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it, and the file goes)
    workbook.save(spool)
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=_filename(filters, "xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _opening_or_none(pence: int | None) -> Decimal | str:
    return "Not a balance (filtered by school, category or kind)" if pence is None else pence_to_pounds(pence)


# --- One entry -----------------------------------------------------------------------------------


def _visible_entry(request: HttpRequest, pk: int) -> LedgerEntry:
    entries = (
        ledger_entries_visible_to(request.user)
        .select_related("fund", "school", "created_by", "reverses")
        .annotate(amount=balance_effect(), committed=committed_effect(), reverses_kind=F("reverses__kind"))
    )
    return get_object_or_404(entries, pk=pk)


def _not_reversible_reason(entry: LedgerEntry, reversal: LedgerEntry | None) -> str:
    if entry.kind == Kind.REVERSAL:
        return "This entry is itself a reversal. A reversal cannot be reversed: record a new entry instead."
    if entry.kind not in REVERSIBLE:
        return (
            "Commitments are not reversed. A wrong commitment is released when what it pays for (the "
            "voucher, gift or request) is cancelled."
        )
    if reversal is not None:
        when = date_format(timezone.localtime(reversal.created_at), "j F Y")
        return f"This entry was reversed by entry {reversal.pk} on {when}."
    return ""


def _entry_context(request: HttpRequest, entry: LedgerEntry) -> dict:
    user = request.user
    reversal = ledger_entries_visible_to(user).filter(reverses=entry).first()
    chain = list(entry_chain(user=user, entry=entry))
    for other in chain:
        other.kind_text = kind_label(other.kind, other.reverses_kind)
    described = describe_sources([entry])
    facts = described.get((entry.source_type_id, entry.source_id))
    entry.kind_text = kind_label(entry.kind, entry.reverses_kind)
    entry.category_text = category_label(entry.category) if entry.category else ""
    entry.what = source_title(described, entry.source_type_id, entry.source_id)
    return {
        "entry": entry,
        "reversal": reversal,
        "chain": chain,
        "facts": facts,
        "not_reversible": _not_reversible_reason(entry, reversal),
        "can_reverse": has_perm(user, "fund.reverse"),
        "ledger_query": f"fund={entry.fund_id}",
        "dashboard_url": _dashboard_url(),
    }


@requires("fund.view")
def entry_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "finance/entry_detail.html", _entry_context(request, _visible_entry(request, pk)))


@requires("fund.reverse")
def entry_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    """Asks once, saying what will happen; the POST reverses through the service."""
    entry = _visible_entry(request, pk)
    form = EntryReverseForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                reversal = fund_entry_reverse(
                    entry=entry, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except SupportError as exc:
                form_error_from(form, exc)
                status = exc.status_code
            else:
                messages.success(
                    request,
                    f"Entry {entry.pk} reversed by entry {reversal.pk}: {pounds(reversal.amount_pence)} "
                    f"{'back into' if entry.kind == Kind.SPEND else 'out of'} {entry.fund.name}'s balance.",
                )
                return redirect("finance_entry", pk=entry.pk)
        else:
            status = 400
    context = _entry_context(request, entry)
    position = fund_position(fund=entry.fund)
    change = entry.amount_pence if entry.kind == Kind.SPEND else -entry.amount_pence
    context.update(
        {
            "form": form,
            "position": position,
            "change_pence": change,
            "balance_after": position.balance_pence + change,
            "available_after": position.available_pence + change,
        }
    )
    return render(request, "finance/entry_reverse.html", context, status=status)


urlpatterns = [
    path("ledger/", ledger, name="finance_ledger"),
    path("ledger.csv", ledger_csv, name="finance_ledger_csv"),
    path("ledger.xlsx", ledger_xlsx, name="finance_ledger_xlsx"),
    path("ledger/<int:pk>/", entry_detail, name="finance_entry"),
    path("ledger/<int:pk>/reverse/", entry_reverse, name="finance_entry_reverse"),
]
