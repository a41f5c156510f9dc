"""Forms of the ledger pages: its filters (also the exports' and the dashboard's links) and reversal."""

import datetime
import re

from django import forms
from django.db.models import QuerySet

from funds.models import Fund, LedgerEntry
from funds.selectors.ledger import LedgerFilters
from funds.services.ledger import CATEGORIES, category_label, financial_year_label
from support.forms import GovukErrorsMixin
from support.models import School, Service

CATEGORY_KEY = re.compile(r"^[a-z][a-z0-9_]*(:[a-z0-9_]+)?$")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
FIRST_YEAR, LAST_YEAR = 2000, 2100
NO_SCHOOL = "none"
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"class": "govuk-input govuk-input--width-10", "type": "date"})


class LedgerFilterForm(GovukErrorsMixin, forms.Form):
    """Always bound (to request.GET): no filter at all is valid and shows the default fund's ledger."""

    fund = forms.ModelChoiceField(
        label="Fund",
        queryset=Fund.objects.none(),
        empty_label=None,
        required=False,
        error_messages={"invalid_choice": "Choose a fund from the list"},
        widget=forms.Select(attrs={"class": "govuk-select"}),
    )
    year = forms.IntegerField(
        label="Financial year",
        required=False,
        min_value=FIRST_YEAR,
        max_value=LAST_YEAR,
        error_messages={
            "invalid": "Choose a financial year from the list",
            "min_value": "Choose a financial year from the list",
            "max_value": "Choose a financial year from the list",
        },
        widget=forms.Select(attrs={"class": "govuk-select"}),
    )
    month = forms.CharField(
        label="Month",
        required=False,
        max_length=20,
        error_messages={"max_length": "Enter a month as year and month, like 2025-11"},
        help_text="For example 2025-11",
        widget=forms.TextInput(attrs={"class": "govuk-input govuk-input--width-10", "type": "month"}),
    )
    school = forms.ChoiceField(
        label="School",
        required=False,
        error_messages={"invalid_choice": "Choose a school from the list"},
        widget=forms.Select(attrs={"class": "govuk-select"}),
    )
    category = forms.CharField(
        label="Category", required=False, max_length=60, widget=forms.Select(attrs={"class": "govuk-select"})
    )
    kind = forms.ChoiceField(
        label="Kind of entry",
        required=False,
        choices=[("", "Any kind"), *LedgerEntry.Kind.choices],
        error_messages={"invalid_choice": "Choose a kind of entry from the list"},
        widget=forms.Select(attrs={"class": "govuk-select"}),
    )
    date_from = forms.DateField(
        label="From",
        required=False,
        input_formats=DATE_FORMATS,
        error_messages={"invalid": "Enter a real date, like 2025-09-01"},
        widget=_date_input(),
    )
    date_to = forms.DateField(
        label="To",
        required=False,
        input_formats=DATE_FORMATS,
        error_messages={"invalid": "Enter a real date, like 2026-08-31"},
        widget=_date_input(),
    )

    def __init__(
        self, data, *, funds: QuerySet[Fund], default_fund: Fund, schools: QuerySet[School], years: list[int]
    ) -> None:
        data = data.copy()
        if not data.get("fund"):
            data["fund"] = str(default_fund.pk)
        super().__init__(data)
        self.fields["fund"].queryset = funds
        self.schools = {str(school.pk): school for school in schools}
        self.fields["school"].choices = [
            ("", "All schools"),
            (NO_SCHOOL, "No school (trust-wide)"),
            *((pk, school.name) for pk, school in self.schools.items()),
        ]
        year_choices = [("", "All years"), *((str(year), financial_year_label(year)) for year in years)]
        asked_year = str(data.get("year", "")).strip()
        if (
            asked_year.isdigit()
            and FIRST_YEAR <= int(asked_year) <= LAST_YEAR
            and int(asked_year) not in years
        ):
            year_choices.append((asked_year, financial_year_label(int(asked_year))))
        self.fields["year"].widget.choices = year_choices
        category_choices = [("", "Any category")]
        for key in CATEGORIES:
            category_choices.append((key, category_label(key)))
            if key == "voucher":
                category_choices += [(f"voucher:{s}", category_label(f"voucher:{s}")) for s in Service.values]
        asked_category = str(data.get("category", "")).strip()
        if CATEGORY_KEY.match(asked_category) and asked_category not in dict(category_choices):
            category_choices.append((asked_category, category_label(asked_category)))
        self.fields["category"].widget.choices = category_choices

    def clean_month(self) -> datetime.date | None:
        value = self.cleaned_data["month"].strip()
        if not value:
            return None
        match = MONTH.match(value)
        if not match or not 1 <= int(match[2]) <= 12 or not FIRST_YEAR <= int(match[1]) <= LAST_YEAR:
            raise forms.ValidationError("Enter a month as year and month, like 2025-11")
        return datetime.date(int(match[1]), int(match[2]), 1)

    def clean_school(self) -> School | str | None:
        value = self.cleaned_data["school"]
        if not value:
            return None
        return NO_SCHOOL if value == NO_SCHOOL else self.schools[value]

    def clean_category(self) -> str:
        value = self.cleaned_data["category"].strip()
        if value and not CATEGORY_KEY.match(value):
            raise forms.ValidationError('Choose a category from the list (a key like "voucher:food_parcel")')
        return value

    def clean(self) -> dict:
        data = super().clean()
        year, month = data.get("year"), data.get("month")
        if year is not None and month is not None:
            first = datetime.date(year, 9, 1)
            if not first <= month < first.replace(year=year + 1):
                self.add_error(
                    "month", f"{month:%B %Y} is not in the {financial_year_label(year)} financial year"
                )
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", "The ‘to’ date must be on or after the ‘from’ date")
        return data

    def filters(self, default_fund: Fund) -> LedgerFilters:
        """The cleaned filters; call only when the form is valid."""
        data = self.cleaned_data
        return LedgerFilters(
            fund=data["fund"] or default_fund,
            year=data["year"],
            month=data["month"],
            school=data["school"],
            category=data["category"],
            kind=data["kind"],
            date_from=data["date_from"],
            date_to=data["date_to"],
        )


class EntryReverseForm(GovukErrorsMixin, forms.Form):
    reason = forms.CharField(
        label="Why are you reversing this entry?",
        help_text="Finance and the auditors read this. For example: recorded twice, wrong amount.",
        max_length=500,
        error_messages={"required": "Give a reason for the reversal"},
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 3}),
    )
