"""The voucher list's one filter set: the web list (``vouchers.web.pastoral``), its CSV export and the
API (``/api/v1/vouchers/``) all read a request through it. The visibility table narrows it the same way
behind every door (``support.filters.page_filterset``; the API's ``VisibleFilterBackend``): finance
cannot narrow vouchers to one family, nor search them by a carer's name.
"""

import datetime

import django_filters
from django import forms
from django.http import QueryDict
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from support import selectors as support_selectors
from support.api.visibility import IdFilter, ScopedFilterSet
from support.bounds import ID_MAX
from support.dates import month_instants
from support.models import School
from vouchers import selectors
from vouchers.forms import VoucherFilterForm
from vouchers.models import PartnerStatement, Redemption, Voucher, VoucherType

QUERY_MAX_LENGTH = 100
# A page of vouchers ticked for export: the list's page size, with room to spare.
MAX_CHOSEN = 100


class IdListField(forms.Field):
    """Several ids, as ticked boxes send them (``voucher=1&voucher=2``)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "invalid": "Choose vouchers from the list",
        "too_many": f"Choose at most {MAX_CHOSEN} vouchers at a time",
    }

    def to_python(self, value):
        if value in (None, "", [], ()):
            return []
        values = value if isinstance(value, list | tuple) else [value]
        if len(values) > MAX_CHOSEN:
            raise forms.ValidationError(self.error_messages["too_many"], code="too_many")
        try:
            ids = [int(v) for v in values]
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if any(not 1 <= i <= ID_MAX for i in ids):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return ids


@extend_schema_field(serializers.ListField(child=serializers.IntegerField(min_value=1)))
class IdListFilter(django_filters.Filter):
    field_class = IdListField

    def filter(self, qs, value):
        return qs.filter(pk__in=value) if value else qs


def _schools(request):
    if request is None:
        return School.objects.none()
    return support_selectors.schools_visible_to(request.user)


def _voucher_types(request):
    return VoucherType.objects.select_related("partner")


def _select(**attrs):
    return forms.Select(attrs={"class": "govuk-select", **attrs})


def _date():
    return forms.DateInput(attrs={"class": "govuk-input govuk-input--width-10", "type": "date"})


class VoucherFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(
        label="Code or family name",
        method="filter_q",
        max_length=QUERY_MAX_LENGTH,
        error_messages={"max_length": f"Search for at most {QUERY_MAX_LENGTH} characters"},
        widget=forms.TextInput(attrs={"class": "govuk-input", "type": "search", "autocomplete": "off"}),
    )
    state = django_filters.ChoiceFilter(
        label="State", choices=Voucher.State.choices, empty_label="Any state", widget=_select()
    )
    school = django_filters.ModelChoiceFilter(
        label="School",
        queryset=_schools,
        empty_label="All schools",
        error_messages={"invalid_choice": "Choose one of your schools"},
        widget=_select(),
    )
    voucher_type = django_filters.ModelChoiceFilter(
        label="Type",
        queryset=_voucher_types,
        empty_label="All types",
        error_messages={"invalid_choice": "Choose a type from the list"},
        widget=_select(),
    )
    issued_from = django_filters.DateFilter(
        label="Issued from", field_name="issued_at", lookup_expr="date__gte", widget=_date()
    )
    issued_to = django_filters.DateFilter(
        label="Issued to", field_name="issued_at", lookup_expr="date__lte", widget=_date()
    )
    # "Expires from/by": home's count of vouchers about to expire opens the list with these.
    expires_from = django_filters.DateFilter(
        label="Expires from", field_name="expires_on", lookup_expr="gte", widget=_date()
    )
    expires_to = django_filters.DateFilter(
        label="Expires by", field_name="expires_on", lookup_expr="lte", widget=_date()
    )
    family = IdFilter(widget=forms.HiddenInput)
    # The boxes ticked on a page, to export just those.
    voucher = IdListFilter(label="Vouchers")

    class Meta:
        model = Voucher
        fields = [
            "q", "state", "school", "voucher_type", "issued_from", "issued_to", "expires_from", "expires_to",
            "family", "voucher",
        ]  # fmt: skip
        form = VoucherFilterForm

    def filter_q(self, queryset, name, value):
        return selectors.voucher_search(queryset, user=self.request.user, query=value)


# --- Partner statements and the counter's redemptions -------------------------------------------


class PartnerStatementFilter(ScopedFilterSet):
    """The partner statements page's filter: one partner charity, from the list of those the user sees
    (an id outside that list is a form error, not every partner's statements)."""

    partner = django_filters.ModelChoiceFilter(
        label="Partner charity",
        queryset=lambda request: selectors.statement_partners_visible_to(request.user).order_by("name"),
        empty_label="All partners",
        error_messages={"invalid_choice": "Choose a partner charity from the list"},
        widget=forms.Select(attrs={"class": "govuk-select"}),
    )

    class Meta:
        model = PartnerStatement
        fields = ["partner"]


class RedemptionFilter(ScopedFilterSet):
    """The counter's redeemed-vouchers list and its CSV: one calendar month (this month unless asked)."""

    month = django_filters.DateFilter(
        field_name="redeemed_at",
        method="filter_month",
        label="Month",
        input_formats=["%Y-%m"],
        error_messages={"invalid": "Enter a month as year and month, like 2025-11"},
        widget=forms.DateInput(
            attrs={"class": "govuk-input govuk-input--width-10", "type": "month"}, format="%Y-%m"
        ),
    )

    class Meta:
        model = Redemption
        fields = ["month"]

    def __init__(self, data=None, *args, **kwargs) -> None:
        data = data.copy() if data is not None else QueryDict(mutable=True)
        if not data.get("month"):
            data["month"] = f"{timezone.localdate():%Y-%m}"
        super().__init__(data, *args, **kwargs)

    def filter_month(self, queryset, name, value):
        start, end = month_instants(value)
        return queryset.filter(redeemed_at__gte=start, redeemed_at__lt=end)

    @property
    def shown_month(self) -> datetime.date:
        """The month shown: the one asked for when it is valid, else this month."""
        if self.is_valid() and self.form.cleaned_data.get("month"):
            return self.form.cleaned_data["month"].replace(day=1)
        return timezone.localdate().replace(day=1)
