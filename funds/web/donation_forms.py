"""Forms for finance's donation and pledge pages. Money is typed in pounds and held in integer pence."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.formats import date_format

from funds.models import Fund, Pledge
from funds.services.ledger import SPEND_CATEGORIES, category_label
from support.forms import GovukErrorsMixin, PoundsField
from support.money import pounds


def purpose_choices() -> list[tuple[str, str]]:
    return [("", "No restriction: any support")] + [(c, category_label(c)) for c in SPEND_CATEGORIES]


def _date_widget() -> forms.DateInput:
    return forms.DateInput(
        attrs={"class": "govuk-input govuk-input--width-10", "type": "date"}, format="%Y-%m-%d"
    )


DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y"]


def _select() -> forms.Select:
    return forms.Select(attrs={"class": "govuk-select"})


def _checkbox() -> forms.CheckboxInput:
    return forms.CheckboxInput(attrs={"class": "govuk-checkboxes__input"})


class _PledgeChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Pledge) -> str:
        return (
            f"{obj.donor}: {pounds(obj.amount_pence)} {obj.get_frequency_display().lower()}, "
            f"next due {date_format(obj.next_due, 'j F Y')}"
        )


class _MoneyFormBase(GovukErrorsMixin, forms.Form):
    fund = forms.ModelChoiceField(
        queryset=Fund.objects.none(),
        label="Fund",
        empty_label=None,
        widget=_select(),
        error_messages={"required": "Choose the fund", "invalid_choice": "Choose one of the open funds"},
    )
    donor = forms.CharField(
        label="Donor",
        max_length=200,
        help_text="A person, business or group, as it should appear in the ledger",
        widget=forms.TextInput(attrs={"class": "govuk-input", "autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": "Enter who the money is from"},
    )
    amount = PoundsField(
        label="Amount",
        help_text="In pounds, for example 10,000 or 250.50",
        error_messages={"required": "Enter the amount"},
    )
    gift_aid = forms.BooleanField(
        label="Claim Gift Aid on it: the donor's own money, with nothing in return",
        help_text="Claimed only while the donor's Gift Aid declaration covers the day it was received",
        required=False,
        widget=_checkbox(),
    )
    restricted_purpose = forms.ChoiceField(
        label="Restricted to",
        required=False,
        choices=purpose_choices,
        help_text="Only if the donor asked for the money to pay for one kind of support",
        widget=_select(),
    )

    def __init__(self, *args, funds, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["fund"].queryset = funds

    def clean_donor(self) -> str:
        donor = self.cleaned_data["donor"].strip()
        if not donor:
            raise forms.ValidationError("Enter who the money is from")
        return donor


class DonationForm(_MoneyFormBase):
    received_on = forms.DateField(
        label="Date received",
        input_formats=DATE_FORMATS,
        help_text="The day the money reached the trust's account",
        widget=_date_widget(),
        error_messages={"required": "Enter the date the money was received", "invalid": "Enter a real date"},
    )
    pledge = _PledgeChoice(
        queryset=Pledge.objects.none(),
        label="Payment of a pledge",
        required=False,
        empty_label="Not a pledge payment",
        help_text="The pledge's next due date moves on once this is recorded",
        widget=_select(),
        error_messages={"invalid_choice": "Choose one of the active pledges"},
    )

    sponsored = forms.BooleanField(
        label="Sponsorship of a charity event (a sponsored walk, swim or run)",
        required=False,
        widget=_checkbox(),
    )

    field_order = [
        "pledge", "fund", "donor", "amount", "received_on", "gift_aid", "sponsored", "restricted_purpose"
    ]  # fmt: skip

    def __init__(self, *args, funds, pledges, **kwargs) -> None:
        super().__init__(*args, funds=funds, **kwargs)
        self.fields["pledge"].queryset = pledges

    def clean_received_on(self) -> datetime.date:
        received_on = self.cleaned_data["received_on"]
        if received_on > timezone.localdate():
            raise forms.ValidationError("The date received must be today or in the past")
        if received_on.year < 2000:
            raise forms.ValidationError("Enter a date after 1 January 2000")
        return received_on


class PledgeForm(_MoneyFormBase):
    frequency = forms.ChoiceField(
        label="How often",
        choices=Pledge.Frequency.choices,
        initial=Pledge.Frequency.ANNUAL,
        widget=forms.RadioSelect(attrs={"class": "govuk-radios__input"}),
        error_messages={"required": "Choose how often the money comes"},
    )
    next_due = forms.DateField(
        label="Next payment due",
        input_formats=DATE_FORMATS,
        help_text="For example 1 September. Finance is reminded a week after it if nothing is recorded.",
        widget=_date_widget(),
        error_messages={"required": "Enter when the next payment is due", "invalid": "Enter a real date"},
    )

    field_order = ["fund", "donor", "amount", "frequency", "next_due", "gift_aid", "restricted_purpose"]

    def clean_next_due(self) -> datetime.date:
        next_due = self.cleaned_data["next_due"]
        if next_due.year < 2000:
            raise forms.ValidationError("Enter a date after 1 January 2000")
        return next_due


class PledgeStopForm(GovukErrorsMixin, forms.Form):
    reason = forms.CharField(
        label="Why is the pledge stopping?",
        max_length=500,
        help_text="For example: the trustee has stood down. This goes in the audit log.",
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 3}),
        error_messages={"required": "Enter why the pledge is stopping"},
    )
