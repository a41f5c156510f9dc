"""The filter sets of the fund's lists: one per list, used by its page and its API alike.

Each is a ``ScopedFilterSet``: made with the request it drops the filters on fields that user may not
see and bounds every id, number and date; a bad value is a 400 in the API and a form error on a page.
"""

import datetime
import re
from typing import TYPE_CHECKING

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from funds.models import Donation, LedgerEntry, Pledge, SpendRequest
from funds.services.ledger import CATEGORIES, category_label, financial_year_bounds, financial_year_label
from support.api.visibility import ScopedFilterSet
from support.bounds import id_in_range
from support.dates import month_bounds
from support.forms import GovukErrorsMixin
from support.models import Service

if TYPE_CHECKING:
    from funds.selectors.ledger import LedgerFilters

Kind = LedgerEntry.Kind
SELECT = {"class": "govuk-select"}
DATE_INPUT = {"class": "govuk-input govuk-input--width-10"}
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
FIRST_YEAR, LAST_YEAR = 2000, 2100
NO_SCHOOL = "none"
CATEGORY_KEY = re.compile(r"^[a-z][a-z0-9_]*(:[a-z0-9_]+)?$")
CATEGORY_ERROR = 'Choose a category from the list (a key like "voucher:food_parcel")'
MONTH_ERROR = "Enter a month as year and month, like 2025-11"


@extend_schema_field(OpenApiTypes.INT)
class IntFilter(django_filters.NumberFilter):
    """A whole number (an id, a year): "1.5" is a 400, not silently 1."""

    field_class = forms.IntegerField


class LedgerFilterSetForm(GovukErrorsMixin, forms.Form):
    """The ledger filter set's form: GOV.UK error styling on the page (the API reads only its errors)."""


class LedgerEntryFilter(ScopedFilterSet):
    fund = IntFilter(field_name="fund_id", label="Fund id")
    kind = django_filters.ChoiceFilter(
        choices=Kind.choices,
        method="filter_kind",
        label="Entries of this kind, with their reversals (so a figure's drill-down adds up to it)",
    )
    school = django_filters.CharFilter(
        method="filter_school",
        label='School id, or "none" for entries charged to no school',
        validators=[RegexValidator(r"^(none|\d+)$", 'Give a school id, or "none".')],
    )
    category = django_filters.CharFilter(
        method="filter_category",
        label='A category ("voucher:food_parcel") or a group ("voucher": every service)',
    )
    date_from = django_filters.DateFilter(method="filter_date_from", label="Happened on or after")
    date_to = django_filters.DateFilter(method="filter_date_to", label="Happened on or before")
    year = IntFilter(
        method="filter_year", label="Financial year by its start year", min_value=2000, max_value=2100
    )
    month = django_filters.CharFilter(
        method="filter_month",
        label="A month, like 2025-11",
        validators=[RegexValidator(r"^(20\d\d|2100)-(0[1-9]|1[0-2])$", "Enter a month, like 2025-11.")],
    )

    class Meta:
        model = LedgerEntry
        fields = ["fund", "kind"]
        form = LedgerFilterSetForm

    def filter_kind(self, queryset, name, value):
        if value == Kind.REVERSAL:
            return queryset.filter(kind=value)
        return queryset.filter(Q(kind=value) | Q(kind=Kind.REVERSAL, reverses__kind=value))

    def filter_month(self, queryset, name, value):
        first, last = month_bounds(datetime.date(int(value[:4]), int(value[5:7]), 1))
        return queryset.filter(occurred_on__gte=first, occurred_on__lte=last)

    def filter_school(self, queryset, name, value):
        if value == "none":
            return queryset.filter(school__isnull=True)
        school_id = id_in_range(value)  # an id no school can have matches nothing
        return queryset.filter(school_id=school_id) if school_id else queryset.none()

    def filter_category(self, queryset, name, value):
        if ":" in value:
            return queryset.filter(category=value)
        return queryset.filter(Q(category=value) | Q(category__startswith=f"{value}:"))

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(occurred_on__gte=value)

    def filter_date_to(self, queryset, name, value):
        return queryset.filter(occurred_on__lte=value)

    def filter_year(self, queryset, name, value):
        first, last = financial_year_bounds(value)
        return queryset.filter(occurred_on__gte=first, occurred_on__lte=last)

    # --- The ledger page's form (the API takes the same filters as plain values) ----------------------

    def for_page(self, *, funds, default_fund, schools, years: list[int]) -> "LedgerEntryFilter":
        """The ledger page's form: each filter from a list (funds, years, schools, categories, kinds) with
        the page's labels and messages; no fund means ``default_fund``. Then ``page_filters()``."""
        data = self.data.copy()
        if not data.get("fund"):
            data["fund"] = str(default_fund.pk)
        self.data = data
        self._funds = {fund.pk: fund for fund in funds}
        self._schools = {str(school.pk): school for school in schools}
        self._default_fund = default_fund
        fields = self.form.fields
        _page_field(
            fields, "fund", "Fund", {"invalid": "Choose a fund from the list"},
            choices=[(pk, fund.name) for pk, fund in self._funds.items()],
            allowed=lambda value: value in self._funds,
        )  # fmt: skip
        year_choices = [("", "All years"), *((year, financial_year_label(year)) for year in years)]
        asked_year = str(data.get("year", "")).strip()
        offered = asked_year.isdigit() and FIRST_YEAR <= int(asked_year) <= LAST_YEAR
        if offered and int(asked_year) not in years:
            year_choices.append((asked_year, financial_year_label(int(asked_year))))
        year_error = "Choose a financial year from the list"
        _page_field(
            fields, "year", "Financial year",
            {"invalid": year_error, "min_value": year_error, "max_value": year_error}, choices=year_choices,
        )  # fmt: skip
        if "month" in fields:
            _page_field(fields, "month", "Month", {"invalid": MONTH_ERROR, "max_length": MONTH_ERROR})
            fields["month"].help_text = "For example 2025-11"
            fields["month"].widget = forms.TextInput(attrs={**DATE_INPUT, "type": "month"})
        school_error = "Choose a school from the list"
        _page_field(
            fields, "school", "School", {"invalid": school_error},
            choices=[("", "All schools"), (NO_SCHOOL, "No school (trust-wide)"),
                     *((pk, school.name) for pk, school in self._schools.items())],
            allowed=lambda value: value == NO_SCHOOL or value in self._schools,
        )  # fmt: skip
        category_choices = [("", "Any category")]
        for key in CATEGORIES:
            category_choices.append((key, category_label(key)))
            if key == "voucher":
                category_choices += [(f"voucher:{s}", category_label(f"voucher:{s}")) for s in Service.values]
        asked_category = str(data.get("category", "")).strip()
        if CATEGORY_KEY.match(asked_category) and asked_category not in dict(category_choices):
            category_choices.append((asked_category, category_label(asked_category)))
        _page_field(
            fields, "category", "Category", {"max_length": CATEGORY_ERROR}, choices=category_choices,
            allowed=lambda value: bool(CATEGORY_KEY.match(value)), refusal=CATEGORY_ERROR,
        )  # fmt: skip
        if "kind" in fields:
            fields["kind"].choices = [("", "Any kind"), *Kind.choices]
            fields["kind"].widget.attrs.update(SELECT)
            kind_error = "Choose a kind of entry from the list"
            _page_field(fields, "kind", "Kind of entry", {"invalid_choice": kind_error})
        for name, label, example in (("date_from", "From", "2025-09-01"), ("date_to", "To", "2026-08-31")):
            if name in fields:
                _page_field(fields, name, label, {"invalid": f"Enter a real date, like {example}"})
                fields[name].input_formats = DATE_FORMATS
                fields[name].widget = forms.DateInput(attrs={**DATE_INPUT, "type": "date"})
        return self

    def page_filters(self) -> "LedgerFilters | None":
        """The page's filters once ``for_page`` made the form, or None when the form has errors (shown on
        the page, with a 400)."""
        from funds.selectors.ledger import LedgerFilters  # it reads this module

        if not self.is_valid():
            return None
        data = self.form.cleaned_data
        year, month = data.get("year"), data.get("month") or None
        if month:
            month = datetime.date(int(month[:4]), int(month[5:7]), 1)
        if year is not None and month is not None:
            first = datetime.date(year, 9, 1)
            if not first <= month < first.replace(year=year + 1):
                self.form.add_error(
                    "month", f"{month:%B %Y} is not in the {financial_year_label(year)} financial year"
                )
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.form.add_error("date_to", "The ‘to’ date must be on or after the ‘from’ date")
        if self.form.errors:
            return None
        school = data.get("school") or None
        return LedgerFilters(
            fund=self._funds.get(data.get("fund")) or self._default_fund,
            year=year,
            month=month,
            school=self._schools[school] if school not in (None, NO_SCHOOL) else school,
            category=data.get("category") or "",
            kind=data.get("kind") or "",
            date_from=date_from,
            date_to=date_to,
        )


def _page_field(fields, name, label, messages, *, choices=None, allowed=None, refusal=None) -> None:
    """Dress one of the ledger filter set's form fields for the page: its label and messages, a list to
    choose from, and a check that the value is one the list offers."""
    if name not in fields:  # dropped: a filter on a field this user may not see
        return
    field = fields[name]
    field.label = label
    field.error_messages.update(messages)
    if choices is not None:
        field.widget = forms.Select(attrs=SELECT, choices=choices)
    if allowed is not None:
        message = refusal or next(iter(messages.values()))

        def check(value) -> None:
            if value not in (None, "") and not allowed(value):
                raise ValidationError(message, code="not_offered")

        field.validators.append(check)


class DonationFilter(ScopedFilterSet):
    fund = IntFilter(field_name="fund_id", label="Fund id")
    pledge = IntFilter(field_name="pledge_id", label="Pledge id")
    received_from = django_filters.DateFilter(field_name="received_on", lookup_expr="gte")
    received_to = django_filters.DateFilter(field_name="received_on", lookup_expr="lte")
    year = IntFilter(
        method="filter_year",
        label="Received in the financial year by its start year",
        min_value=2000,
        max_value=2100,
    )

    class Meta:
        model = Donation
        fields = ["fund", "gift_aid", "restricted_purpose", "pledge"]

    def filter_year(self, queryset, name, value):
        return queryset.filter(received_on__range=financial_year_bounds(value))

    def for_page(self, *, funds: list, years: list[tuple[int, str]]) -> "DonationFilter":
        """The donations page's form: a fund and a financial year, each from a list (the API takes ids
        and dates as well)."""
        for name in list(self.filters):
            if name not in ("fund", "year"):
                del self.filters[name]
        fields = self.form.fields
        fields["fund"].label, fields["year"].label = "Fund", "Financial year"
        fields["fund"].widget = forms.Select(
            attrs=SELECT, choices=[(f.pk, f.name if f.is_active else f"{f.name} (closed)") for f in funds]
        )
        fields["year"].widget = forms.Select(attrs=SELECT, choices=years)
        return self


class PledgeFilter(ScopedFilterSet):
    fund = IntFilter(field_name="fund_id", label="Fund id")

    class Meta:
        model = Pledge
        fields = ["fund", "is_active", "frequency"]

    def for_page(self, *, funds: list) -> "PledgeFilter":
        """The pledges page's form: the fund from a list (the API takes an id), active or stopped, and
        how often."""
        fields = self.form.fields
        if "fund" in fields:
            fields["fund"].label = "Fund"
            fields["fund"].widget = forms.Select(
                attrs=SELECT,
                choices=[("", "All funds")]
                + [(f.pk, f.name if f.is_active else f"{f.name} (closed)") for f in funds],
            )
        if "is_active" in fields:
            fields["is_active"].label = "Status"
            fields["is_active"].widget = forms.Select(
                attrs=SELECT, choices=[("", "Active and stopped"), ("true", "Active"), ("false", "Stopped")]
            )
        if "frequency" in fields:
            fields["frequency"].label = "How often"
            fields["frequency"].choices = [("", "Any"), *Pledge._meta.get_field("frequency").choices]
            fields["frequency"].widget.attrs.update(SELECT)
        return self


class SpendRequestFilter(ScopedFilterSet):
    fund = IntFilter(field_name="fund_id", label="Fund id")
    school = IntFilter(field_name="school_id", label="School id")

    class Meta:
        model = SpendRequest
        fields = ["status", "fund", "school", "category"]
