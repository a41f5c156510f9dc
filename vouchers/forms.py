import uuid

from django import forms

from support.forms import GovukErrorsMixin, PoundsField, SafeguardingHintsMixin
from vouchers.models import MAX_VALUE_GIVEN_PENCE, Delivery, Fulfilment, ReferralReason


class CodeForm(GovukErrorsMixin, forms.Form):
    code = forms.CharField(
        label="Voucher code",
        help_text=(
            "17 letters and numbers, for example ABCD-EFGH-JKMN-PQRS-T. "
            "Or scan the QR code with your phone's camera."
        ),
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "class": "govuk-input govuk-input--width-20 app-code-input",
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "inputmode": "text",
            }
        ),
    )


class RedeemForm(GovukErrorsMixin, forms.Form):
    items_given = forms.CharField(
        label="What was given (optional)",
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"class": "govuk-input"}),
    )
    value = PoundsField(
        label="Value in pounds (optional)", required=False, minimum=0, maximum=MAX_VALUE_GIVEN_PENCE, width=5
    )

    def value_pence(self) -> int | None:
        return self.cleaned_data.get("value")


# --- Pastoral pages: issue, find, cancel, extend, send ---------------------------------------


class GovukRadioSelect(forms.RadioSelect):
    """Radios whose inputs can point at a hint (``<id>-hint``) or reveal a conditional block."""

    def __init__(self, *args, hinted: bool = False, conditional: dict[str, str] | None = None, **kwargs):
        attrs = {"class": "govuk-radios__input", **kwargs.pop("attrs", {})}
        super().__init__(*args, attrs=attrs, **kwargs)
        self.hinted = hinted
        self.conditional = conditional or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        if self.hinted and option["attrs"].get("id"):
            option["attrs"]["aria-describedby"] = f"{option['attrs']['id']}-hint"
        target = self.conditional.get(str(value))
        if target:
            option["attrs"]["data-aria-controls"] = target
        return option


class VoucherIssueForm(SafeguardingHintsMixin, GovukErrorsMixin, forms.Form):
    """The one-page issue form. Rules (consent, limits, overrides, schools) are the service's to decide."""

    safeguarding_notes = {
        "referral_other": "school",
        "note_for_charity": "charity",
        "override_reason": "school",
    }

    voucher_type = forms.ChoiceField(
        label="What is the voucher for?",
        widget=GovukRadioSelect(hinted=True),
        error_messages={"required": "Choose what the voucher is for"},
    )
    school = forms.ChoiceField(
        label="Which school is issuing it?",
        widget=GovukRadioSelect(),
        error_messages={"required": "Choose the school issuing the voucher"},
    )
    referral_reason = forms.ChoiceField(
        label="Reason for referral",
        choices=ReferralReason.choices,
        widget=GovukRadioSelect(conditional={ReferralReason.OTHER.value: "conditional-referral-other"}),
        error_messages={"required": "Choose a reason for the referral"},
    )
    referral_other = forms.CharField(
        label="What is the reason?",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"class": "govuk-input"}),
    )
    household_size = forms.IntegerField(
        label="People in the household",
        min_value=1,
        max_value=30,
        error_messages={"required": "Enter how many people live in the household"},
        widget=forms.NumberInput(
            attrs={"class": "govuk-input govuk-input--width-3", "min": 1, "max": 30, "inputmode": "numeric"}
        ),
    )
    dietary_needs = forms.CharField(
        label="Dietary needs (optional)",
        required=False,
        max_length=200,
        help_text="For example halal, vegetarian, nut allergy. Printed on the voucher.",
        widget=forms.TextInput(attrs={"class": "govuk-input"}),
    )
    fulfilment = forms.ChoiceField(
        label="Collection or delivery",
        choices=Fulfilment.choices,
        initial=Fulfilment.COLLECTION,
        widget=GovukRadioSelect(),
        error_messages={"required": "Choose collection or delivery"},
    )
    # Not required: a post without it (an old page, a script) sends nothing, as printing does.
    delivery = forms.ChoiceField(
        label="How does the family get the voucher?", required=False, widget=GovukRadioSelect()
    )
    note_for_charity = forms.CharField(
        label="Note for the charity (optional)",
        required=False,
        max_length=300,
        help_text="Shown to the charity when it checks the voucher: no case notes and no children's names.",
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 2}),
    )
    override_reason = forms.CharField(
        label="Override the limit: reason",
        required=False,
        max_length=300,
        help_text="Only if the family has reached the limit for this voucher. Recorded in the audit trail.",
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 2}),
    )

    def __init__(
        self, *args, voucher_types, schools, can_override: bool, deliveries: list[tuple[str, str]], **kwargs
    ) -> None:
        schools = list(schools)
        super().__init__(*args, safeguarding_schools=schools, **kwargs)
        self.fields["delivery"].choices = deliveries
        self.voucher_types = {str(t.pk): t for t in voucher_types}
        self.fields["voucher_type"].choices = [(key, t.name) for key, t in self.voucher_types.items()]
        self.schools = {str(s.pk): s for s in schools}
        # One school: issued by it without asking. Several: the user chooses.
        self.fixed_school = next(iter(self.schools.values())) if len(self.schools) == 1 else None
        if self.fixed_school is not None or not self.schools:
            del self.fields["school"]
        else:
            self.fields["school"].choices = [(key, s.name) for key, s in self.schools.items()]
        if not can_override:
            del self.fields["override_reason"]

    def clean_delivery(self):
        return self.cleaned_data["delivery"] or Delivery.PRINT

    def clean_voucher_type(self):
        return self.voucher_types[self.cleaned_data["voucher_type"]]

    def clean_school(self):
        return self.schools[self.cleaned_data["school"]]

    def issuing_school(self):
        return self.fixed_school or self.cleaned_data.get("school")


class VoucherFilterForm(GovukErrorsMixin, forms.Form):
    """The form of the voucher list's filter set (``vouchers.filters.VoucherFilterSet``), whose filters
    the visibility table narrows before the form is built."""


class VoucherCancelForm(SafeguardingHintsMixin, GovukErrorsMixin, forms.Form):
    safeguarding_notes = {"reason": "school"}

    reason = forms.CharField(
        label="Why are you cancelling this voucher?",
        max_length=300,
        error_messages={"required": "Give a reason for cancelling"},
        widget=forms.TextInput(attrs={"class": "govuk-input"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("prefix", "cancel")
        super().__init__(*args, **kwargs)


class VoucherExtendForm(SafeguardingHintsMixin, GovukErrorsMixin, forms.Form):
    safeguarding_notes = {"reason": "school"}

    expires_on = forms.DateField(
        label="New expiry date",
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        error_messages={"required": "Enter the new expiry date", "invalid": "Enter a real date"},
        widget=forms.DateInput(attrs={"class": "govuk-input govuk-input--width-10", "type": "date"}),
    )
    reason = forms.CharField(
        label="Why are you extending it?",
        max_length=300,
        error_messages={"required": "Give a reason for extending"},
        widget=forms.TextInput(attrs={"class": "govuk-input"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("prefix", "extend")
        super().__init__(*args, **kwargs)


class VoucherSendForm(GovukErrorsMixin, forms.Form):
    channel = forms.ChoiceField(
        label="Send it by",
        widget=GovukRadioSelect(),
        error_messages={"required": "Choose e-mail or text message"},
    )
    # One key per form shown: submitting the same form twice sends once.
    key = forms.UUIDField(required=False, widget=forms.HiddenInput, initial=uuid.uuid4)

    def __init__(self, *args, channels: list[tuple[str, str]], **kwargs) -> None:
        kwargs.setdefault("prefix", "send")
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = channels
        if len(channels) == 1:
            self.fields["channel"].initial = channels[0][0]
