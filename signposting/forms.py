from django import forms
from django.utils import timezone

from signposting.models import Signpost
from support.forms import GovukErrorsMixin, SafeguardingHintsMixin
from support.models import School
from support.models.consents import RECORDABLE_METHODS

DATE = {"class": "govuk-input govuk-input--width-10", "type": "date"}
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
RADIOS = {"class": "govuk-radios__input"}


def _date(label: str, *, required: bool = False, initial=None, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        initial=initial,
        help_text=help_text,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
    )


class SignpostForm(SafeguardingHintsMixin, GovukErrorsMixin, forms.Form):
    """What staff record about sending a family on: its kind, when, a follow-up date, consent to share."""

    safeguarding_notes = {"note": "school"}

    kind = forms.ChoiceField(
        label="What are you recording?",
        choices=Signpost.Kind.choices,
        widget=forms.RadioSelect(attrs=RADIOS),
        error_messages={"required": "Choose what you are recording"},
    )
    school = forms.ModelChoiceField(
        label="Recorded by which school",
        queryset=School.objects.none(),
        required=False,  # left out when the user has one school with the family's pupils
        empty_label=None,
        widget=forms.Select(attrs={"class": "govuk-select"}),
    )
    given_on = _date("Date", required=True, initial=timezone.localdate)
    lead_professional = forms.CharField(
        label="Lead professional (Early Help or team around the family)",
        required=False,
        max_length=120,
        widget=forms.TextInput(attrs={"class": "govuk-input"}),
    )
    consent_method = forms.ChoiceField(
        label="How the carer agreed to their details being shared (a referral only)",
        choices=RECORDABLE_METHODS,
        required=False,
        widget=forms.RadioSelect(attrs=RADIOS),
    )
    consent_given_on = _date(
        "Date consent was given (a referral only)", help_text="Leave empty for the same day."
    )
    follow_up_on = _date(
        "Follow up on", help_text="When to ask the family how it went. It shows on your home page."
    )
    note = forms.CharField(
        label="Note (optional)",
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 2}),
    )

    def __init__(self, *args, schools, kinds=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = School.objects.filter(pk__in=[school.pk for school in schools])
        if len(schools) == 1:
            self.fields["school"].initial = schools[0].pk
            self.fields["school"].widget = forms.HiddenInput()
        if kinds is not None:
            self.fields["kind"].choices = [c for c in Signpost.Kind.choices if c[0] in kinds]


class OutcomeForm(GovukErrorsMixin, forms.Form):
    outcome = forms.ChoiceField(
        label="What came of it?",
        choices=Signpost.Outcome.choices,
        widget=forms.RadioSelect(attrs=RADIOS),
        error_messages={"required": "Choose the outcome"},
    )
    follow_up_on = _date("Follow up again on (waiting only)")


class SheetEmailForm(GovukErrorsMixin, forms.Form):
    """No fields: the sheet goes where the family's messages may go. It carries a refusal to the page."""
