"""The referral pages' forms: what a school sends, and what the charity answers."""

import datetime

from django import forms

from deliveries.models import CatalogueItem, DeliveredService
from deliveries.selectors import Capacity
from support.bounds import BoundedFormMixin
from support.models import School
from vouchers.forms import GovukRadioSelect

TEXT = {"class": "govuk-input"}
NUMBER = {"class": "govuk-input govuk-input--width-3", "inputmode": "numeric"}
DATE = {"class": "govuk-input govuk-input--width-10", "type": "date"}
AREA = {"class": "govuk-textarea", "rows": 3}


class ReferralForm(BoundedFormMixin, forms.Form):
    items = forms.TypedMultipleChoiceField(
        label="What the family needs",
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one thing the family needs."},
    )
    school = forms.TypedChoiceField(label="Referring school", coerce=int, widget=GovukRadioSelect())
    adults = forms.IntegerField(label="Adults", min_value=1, max_value=20, widget=forms.NumberInput(NUMBER))
    children_under_5 = forms.IntegerField(
        label="Children under 5", min_value=0, max_value=20, initial=0, widget=forms.NumberInput(NUMBER)
    )
    children_5_to_11 = forms.IntegerField(
        label="Children aged 5 to 11", min_value=0, max_value=20, initial=0, widget=forms.NumberInput(NUMBER)
    )
    children_12_to_17 = forms.IntegerField(
        label="Children aged 12 to 17", min_value=0, max_value=20, initial=0, widget=forms.NumberInput(NUMBER)
    )
    delivery_address = forms.CharField(label="Delivery address", max_length=500, widget=forms.Textarea(AREA))
    delivery_postcode = forms.CharField(
        label="Postcode",
        max_length=8,
        widget=forms.TextInput({**TEXT, "class": "govuk-input govuk-input--width-10"}),
    )
    delivery_phone = forms.CharField(
        label="Phone for the delivery",
        max_length=20,
        widget=forms.TextInput({**TEXT, "type": "tel", "autocomplete": "off"}),
    )
    access_notes = forms.CharField(
        label="Access notes (optional)",
        required=False,
        max_length=300,
        widget=forms.Textarea(AREA),
        help_text="What the delivery team needs to know: stairs, no lift, parking, pets. No case notes.",
    )

    def __init__(
        self, *args, services: list[tuple[DeliveredService, Capacity]], schools: list[School], **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.services = services
        self.fields["items"].choices = [
            (item.pk, item.name)
            for service, _cap in services
            for item in service.items.all()
            if item.is_active
        ]
        self.fields["school"].choices = [(s.pk, s.name) for s in schools]
        if len(schools) == 1:
            self.fields["school"].initial = schools[0].pk

    def chosen_items(self) -> list[CatalogueItem]:
        wanted = set(self.cleaned_data["items"])
        return [i for service, _cap in self.services for i in service.items.all() if i.pk in wanted]


class AcceptForm(BoundedFormMixin, forms.Form):
    expected_on = forms.DateField(label="Expected delivery date", widget=forms.DateInput(DATE))


class DeclineForm(BoundedFormMixin, forms.Form):
    reason = forms.CharField(
        label="Reason (the school reads it)", max_length=300, widget=forms.Textarea(AREA)
    )


class DeliverForm(BoundedFormMixin, forms.Form):
    delivered_on = forms.DateField(
        label="Delivered on", widget=forms.DateInput(DATE), initial=datetime.date.today
    )
    delivered_what = forms.CharField(
        label="What was delivered", max_length=200, required=False, widget=forms.TextInput(TEXT)
    )


class NotReachedForm(BoundedFormMixin, forms.Form):
    note = forms.CharField(label="What you tried", max_length=300, widget=forms.Textarea(AREA))


class CancelForm(BoundedFormMixin, forms.Form):
    reason = forms.CharField(label="Why cancel", max_length=300, widget=forms.Textarea(AREA))


class CapacityForm(BoundedFormMixin, forms.Form):
    capacity_per_week = forms.IntegerField(
        label="Referrals you can take a week",
        min_value=0,
        max_value=1000,
        required=False,
        widget=forms.NumberInput(NUMBER),
        help_text="Leave blank for no stated limit.",
    )
    paused_until = forms.DateField(
        label="Paused until (optional)",
        required=False,
        widget=forms.DateInput(DATE),
        help_text="New referrals join the waiting list until this day.",
    )
    pause_note = forms.CharField(
        label="Why paused (schools read it)", required=False, max_length=200, widget=forms.TextInput(TEXT)
    )


MOVE_FORMS = {
    "accept": AcceptForm,
    "reschedule": AcceptForm,
    "wait": None,
    "decline": DeclineForm,
    "deliver": DeliverForm,
    "not-reached": NotReachedForm,
    "cancel": CancelForm,
}
