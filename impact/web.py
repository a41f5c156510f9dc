"""The impact report's doors: the page, the board's PDF, CSV and XLSX (all under /impact/).

Reading needs ``impact.view`` (trust admins, finance, trustees); the downloads need ``impact.export`` and
are audited. Every figure comes from ``impact.selectors.impact_report``, already suppressed.
"""

import datetime
import io

from django import forms
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from impact.charts import pupils_by_kind_chart
from impact.selectors import ImpactReport, impact_report, report_table, report_years, year_label
from support.access import requires
from support.audit import audit_record
from support.csv_safe import csv_text, safe_cell
from support.forms import GovukErrorsMixin
from support.models import School
from support.pdf import render_pdf
from support.people import person_name
from support.permissions import has_perm
from support.scopes import scope_for

HEADER = ["Part", "Section", "Measure", "This year", "Year before"]


class ReportForm(GovukErrorsMixin, forms.Form):
    """Always bound (to request.GET): nothing chosen is the current academic year, every school."""

    year = forms.TypedChoiceField(
        label="Academic year",
        coerce=int,
        required=False,
        error_messages={"invalid_choice": "Choose an academic year from the list"},
        widget=forms.Select(attrs={"class": "govuk-select"}),
    )
    school = forms.TypedChoiceField(
        label="School",
        coerce=int,
        required=False,
        error_messages={"invalid_choice": "Choose a school from the list"},
        widget=forms.Select(attrs={"class": "govuk-select"}),
    )

    def __init__(self, data, *, today: datetime.date) -> None:
        super().__init__(data)
        years = report_years(today)
        self.default_year = years[0]
        self.fields["year"].choices = [("", "This year")] + [(y, year_label(y)) for y in years]
        self.fields["school"].choices = [("", "The trust and every school")] + [
            (pk, name)
            for pk, name in School.objects.filter(is_active=True).order_by("name").values_list("pk", "name")
        ]

    def chosen(self) -> tuple[int, int | None]:
        return self.cleaned_data.get("year") or self.default_year, self.cleaned_data.get("school") or None


def _report(request: HttpRequest) -> tuple[ReportForm, ImpactReport | None]:
    form = ReportForm(request.GET, today=timezone.localdate())
    if not form.is_valid():
        return form, None
    year, school_id = form.chosen()
    return form, impact_report(user=request.user, year=year, school_id=school_id)


def _report_or_404(request: HttpRequest) -> ImpactReport:
    _, report = _report(request)
    if report is None:
        raise Http404("No such year or school")
    return report


def _audit(request: HttpRequest, report: ImpactReport, fmt: str) -> None:
    audit_record(
        actor=request.user,
        action="impact.report_exported",
        after={"year": report.year, "parts": [part.name for part in report.parts], "format": fmt},
    )


def _filename(report: ImpactReport, ext: str) -> str:
    return f"impact-report-{report.year}-{str(report.year + 1)[-2:]}.{ext}"


@requires("impact.view")
def report_page(request: HttpRequest) -> HttpResponse:
    form, report = _report(request)
    chart = (
        pupils_by_kind_chart(report.chart_rows, this_label=report.label, last_label=report.last_label)
        if report
        else ""
    )
    query = request.GET.urlencode()
    return render(
        request,
        "impact/report.html",
        {
            "form": form,
            "report": report,
            "chart": chart,
            "query": f"?{query}" if query else "",
            "can_export": has_perm(request.user, "impact.export"),
        },
        status=200 if report else 400,
    )


@requires("impact.export")
def report_csv(request: HttpRequest) -> HttpResponse:
    report = _report_or_404(request)
    _audit(request, report, "csv")
    response = HttpResponse(
        csv_text(report_table(report), header=HEADER, bom=True), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "csv")}"'
    return response


@requires("impact.export")
def report_xlsx(request: HttpRequest) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    report = _report_or_404(request)
    _audit(request, report, "xlsx")
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"Impact {report.label}"
    sheet.freeze_panes = "A2"
    sheet.append(HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in report_table(report):
        sheet.append([safe_cell(value) for value in row])
    for letter, width in zip("ABCDE", (28, 34, 60, 18, 18), strict=True):
        sheet.column_dimensions[letter].width = width
    about = workbook.create_sheet("About")
    for label, value in [
        ("Academic year", report.label),
        ("Beside", report.last_label),
        ("Exported", timezone.localtime().replace(tzinfo=None, microsecond=0).isoformat(sep=" ")),
        ("Exported by", person_name(request.user)),
        *[("Note", note) for note in report.notes],
    ]:
        about.append([label, safe_cell(value)])
    out = io.BytesIO()
    workbook.save(out)
    response = HttpResponse(
        out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "xlsx")}"'
    return response


def render_report_pdf(report: ImpactReport) -> bytes:
    """The report as an A4 PDF for the trust board: figures, the chart and the notes."""
    return render_pdf(
        "impact/pdf/report.html",
        {
            "trust_name": settings.TRUST_NAME,
            "report": report,
            "chart": pupils_by_kind_chart(
                report.chart_rows,
                this_label=report.label,
                last_label=report.last_label,
                chart_id="pdf-by-kind",
            ),
            "generated_at": timezone.localtime(report.generated_at),
        },
        # The fund's year-end report's look: both are papers for the trust board.
        stylesheet="finance/pdf/year_end.css",
    )


@requires("impact.export")
def report_pdf(request: HttpRequest) -> HttpResponse:
    report = _report_or_404(request)
    _audit(request, report, "pdf")
    response = HttpResponse(render_report_pdf(report), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "pdf")}"'
    return response


def home_panel(request: HttpRequest) -> dict | None:
    """A link to the report for those who may read it; for a trustee, the fund's summary beside it
    (finance has its own fund panel)."""
    if not has_perm(request.user, "impact.view"):
        return None
    scope = scope_for(request.user)
    panel: dict = {"fund": None}
    if not (scope.is_finance or scope.is_admin):
        from funds.selectors.positions import fund_position
        from funds.selectors.reports import default_fund

        panel["fund"] = fund_position(fund=default_fund())
    return panel


urlpatterns = [
    path("impact/", report_page, name="impact_report"),
    path("impact/report.pdf", report_pdf, name="impact_report_pdf"),
    path("impact/report.csv", report_csv, name="impact_report_csv"),
    path("impact/report.xlsx", report_xlsx, name="impact_report_xlsx"),
]
