"""The filter sets of the fund's lists: one per list, used by its page and its API alike.

Each is a ``ScopedFilterSet``: made with the request it drops the filters on fields that user may not
see and bounds every id, number and date; a bad value is a 400 in the API and a form error on a page.
"""

import datetime

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from funds.models import Donation, LedgerEntry, Pledge, SpendRequest
from funds.services.ledger import financial_year_bounds
from support.api.visibility import ScopedFilterSet
from support.bounds import id_in_range
from support.dates import month_bounds

Kind = LedgerEntry.Kind
SELECT = {"class": "govuk-select"}


@extend_schema_field(OpenApiTypes.INT)
class IntFilter(django_filters.NumberFilter):
    """A whole number (an id, a year): "1.5" is a 400, not silently 1."""

    field_class = forms.IntegerField


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
