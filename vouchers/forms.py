from decimal import Decimal

from django import forms

from support.forms import GovukErrorsMixin
from support.money import to_pence


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
    value = forms.DecimalField(
        label="Value in pounds (optional)",
        required=False,
        min_value=Decimal("0"),
        max_digits=8,
        decimal_places=2,
        widget=forms.TextInput(attrs={"class": "govuk-input govuk-input--width-5", "inputmode": "decimal"}),
    )

    def value_pence(self) -> int | None:
        value = self.cleaned_data.get("value")
        return None if value is None else to_pence(value)


class MonthForm(forms.Form):
    month = forms.DateField(
        label="Month",
        required=False,
        input_formats=["%Y-%m"],
        widget=forms.DateInput(
            attrs={"class": "govuk-input govuk-input--width-10", "type": "month"}, format="%Y-%m"
        ),
    )
