"""Partner statements: the list (charity staff their own partner's, finance every partner's), making one on
demand for a past month, previewing the current month, and downloading each as PDF or CSV.

Which partners a user may see comes from ``statement_partners_visible_to``; another charity's statement
is a 404. Every download is audited by ``statement_record_download``.
"""

import datetime

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.cache import patch_cache_control

from support.access import requires
from support.csv_safe import stream_csv
from support.errors import SupportError
from support.forms import GovukErrorsMixin
from support.models import PartnerCharity
from vouchers.filters import PartnerStatementFilter
from vouchers.models import PartnerStatement
from vouchers.selectors import statement_partners_visible_to, statements_visible_to
from vouchers.statements import (
    current_month,
    month_label,
    recent_past_months,
    statement_csv_rows,
    statement_generate,
    statement_preview_pdf,
    statement_record_download,
    statement_reference,
    statement_summary,
)

PAGE_SIZE = 24


class StatementProduceForm(GovukErrorsMixin, forms.Form):
    partner = forms.ModelChoiceField(
        label="Partner charity",
        queryset=PartnerCharity.objects.none(),
        widget=forms.Select(attrs={"class": "govuk-select"}),
        error_messages={
            "required": "Choose the partner charity",
            "invalid_choice": "Choose a partner charity",
        },
    )
    month = forms.ChoiceField(
        label="Month",
        widget=forms.Select(attrs={"class": "govuk-select"}),
        error_messages={"required": "Choose a month", "invalid_choice": "Choose one of the months listed"},
    )

    def __init__(
        self, *args, partners: QuerySet[PartnerCharity], only: PartnerCharity | None, months: list, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partners
        self.fields["month"].choices = [(f"{m:%Y-%m}", month_label(m)) for m in months]
        if only is not None:  # one partner in view: nothing to choose
            self.fields["partner"].widget = forms.HiddenInput()
            self.fields["partner"].initial = only.pk

    def clean_month(self) -> datetime.date:
        return datetime.date.fromisoformat(f"{self.cleaned_data['month']}-01")


def _list_url(partner: PartnerCharity | None) -> str:
    url = reverse("statement_list")
    return f"{url}?partner={partner.pk}" if partner is not None else url


@requires("statements.view")
def statement_list(request: HttpRequest) -> HttpResponse:
    visible = statement_partners_visible_to(request.user).order_by("name")
    partners = list(visible)
    filterset = PartnerStatementFilter(
        request.GET, queryset=statements_visible_to(request.user).order_by("-month", "partner__name"),
        request=request,
    )  # fmt: skip
    filter_form = filterset.form
    focus: PartnerCharity | None = partners[0] if len(partners) == 1 else None
    if focus is None and filterset.is_valid():
        focus = filter_form.cleaned_data.get("partner")
    statements = filterset.filtered()
    if focus is not None:  # the one partner in view
        statements = statements.filter(partner=focus)
    page = Paginator(statements, PAGE_SIZE).get_page(request.GET.get("page"))

    # On demand: the recent finished months, less those the partner in view already has.
    months = recent_past_months()
    if focus is not None:
        made = set(PartnerStatement.objects.filter(partner=focus).values_list("month", flat=True))
        months = [m for m in months if m not in made]
    produce_form = StatementProduceForm(
        request.POST if request.method == "POST" else None,
        partners=visible.filter(pk=focus.pk) if focus is not None else visible,
        only=focus,
        months=months,
    )
    if request.method == "POST" and produce_form.is_valid():
        partner, month = produce_form.cleaned_data["partner"], produce_form.cleaned_data["month"]
        existed = PartnerStatement.objects.filter(partner=partner, month=month).exists()
        try:
            statement_generate(partner=partner, month=month, actor=request.user)
        except SupportError as exc:
            produce_form.add_error("month", exc.message)
        else:
            if existed:
                messages.info(
                    request, f"{partner.name}'s statement for {month_label(month)} was already made."
                )
            else:
                messages.success(request, f"{partner.name}'s statement for {month_label(month)} is ready.")
            return redirect(_list_url(partner if len(partners) > 1 else None))

    this_month = current_month()
    return render(
        request,
        "vouchers/statements.html",
        {
            "partners": partners,
            "many_partners": len(partners) > 1,
            "focus": focus,
            "filter_form": filter_form,
            "page": page,
            "querystring": f"partner={focus.pk}" if focus is not None and len(partners) > 1 else "",
            "produce_form": produce_form,
            "can_produce": bool(months) and bool(partners),
            "this_month": this_month,
            "so_far": statement_summary(partner=focus, month=this_month) if focus is not None else None,
        },
        status=400 if produce_form.errors or filter_form.errors else 200,
    )


def _partner_and_month(request: HttpRequest, partner_id: int, year: int, month: int):
    partner = get_object_or_404(statement_partners_visible_to(request.user), pk=partner_id)
    try:
        first = datetime.date(year, month, 1)
    except ValueError:
        raise Http404("No such month") from None
    if first > current_month():
        raise Http404("That month has not started")
    return partner, first


@requires("statements.view")
def statement_pdf(request: HttpRequest, partner_id: int, year: int, month: int) -> HttpResponse:
    """A stored statement as it was made, or the current month rendered as a preview."""
    partner, first = _partner_and_month(request, partner_id, year, month)
    reference = statement_reference(partner, first)
    if first == current_month():
        statement = None
        pdf = statement_preview_pdf(partner=partner, month=first)
        filename = f"statement-{reference}-preview.pdf"
    else:
        statement = get_object_or_404(
            statements_visible_to(request.user).defer(None), partner=partner, month=first
        )
        pdf = bytes(statement.pdf)
        filename = f"statement-{reference}.pdf"
    statement_record_download(
        actor=request.user, partner=partner, month=first, file_format="pdf", statement=statement
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    patch_cache_control(response, private=True, no_store=True)
    return response


@requires("statements.view")
def statement_csv(request: HttpRequest, partner_id: int, year: int, month: int) -> StreamingHttpResponse:
    """The month's rows and totals, written as they are read from the database."""
    partner, first = _partner_and_month(request, partner_id, year, month)
    statement = PartnerStatement.objects.filter(partner=partner, month=first).defer("pdf").first()
    statement_record_download(
        actor=request.user, partner=partner, month=first, file_format="csv", statement=statement
    )
    suffix = "-preview" if first == current_month() else ""
    response = stream_csv(
        statement_csv_rows(partner=partner, month=first),
        filename=f"statement-{statement_reference(partner, first)}{suffix}.csv",
    )
    patch_cache_control(response, private=True, no_store=True)
    return response


urlpatterns = [
    path("statements/", statement_list, name="statement_list"),
    path("statements/<int:partner_id>/<int:year>-<int:month>.pdf", statement_pdf, name="statement_pdf"),
    path("statements/<int:partner_id>/<int:year>-<int:month>.csv", statement_csv, name="statement_csv"),
]
