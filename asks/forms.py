"""The public ask form (labels in the asker's language) and the lead's forms on an ask."""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from asks.models import AskKind, ContactWay
from asks.services import CLOSE_LIMIT, LIMITS, REPLY_LIMIT
from signposting.models import Agency
from support.contacts import EMAIL, SMS
from support.forms import GovukErrorsMixin
from support.models import Pupil
from support.money import pounds
from support.safeguarding import NOTE_MAX_LENGTH
from uniform.models import SupportRequest, UniformItem
from uniform.sizes import size_choices
from vouchers.models import ReferralReason, VoucherType

KIND_LABELS = {
    AskKind.UNIFORM: _("School uniform"),
    AskKind.COAT: _("A winter coat"),
    AskKind.SHOES: _("School shoes"),
    AskKind.FOOD: _("Food"),
    AskKind.CONTACT: _("Please contact me"),
}
WAY_LABELS = {
    ContactWay.PHONE: _("Phone call"),
    ContactWay.TEXT: _("Text message"),
    ContactWay.EMAIL: _("E-mail"),
    ContactWay.ANY: _("Any of these"),
}
REQUIRED = _("This is required.")
CHOOSE_KIND = _("Choose what would help.")
RADIOS = {"class": "govuk-radios__input"}


def _too_long(limit: int) -> str:
    # Called as each form is made, in the asker's language (a lazy string formatted at import is not).
    return gettext("Keep this to %(limit)s characters or fewer.") % {"limit": limit}


class AskForm(forms.Form):
    """What a parent or carer sends. ``website`` is a honeypot: hidden from people, filled by bots."""

    kind = forms.ChoiceField(
        choices=list(KIND_LABELS.items()), widget=forms.RadioSelect(attrs=RADIOS),
        error_messages={"required": CHOOSE_KIND, "invalid_choice": CHOOSE_KIND},
    )  # fmt: skip
    asker_name = forms.CharField(max_length=LIMITS["asker_name"], error_messages={"required": REQUIRED})
    child_name = forms.CharField(max_length=LIMITS["child_name"], error_messages={"required": REQUIRED})
    child_year = forms.CharField(max_length=LIMITS["child_year"], required=False)
    contact_way = forms.ChoiceField(
        choices=list(WAY_LABELS.items()), widget=forms.RadioSelect(attrs=RADIOS),
        error_messages={
            "required": _("Choose how we should contact you."),
            "invalid_choice": _("Choose how we should contact you."),
        },
    )  # fmt: skip
    message = forms.CharField(max_length=LIMITS["message"], required=False, widget=forms.Textarea)
    website = forms.CharField(required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("asker_name", "child_name", "child_year", "message"):
            self.fields[name].error_messages["max_length"] = _too_long(LIMITS[name])

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))


SELECT = {"class": "govuk-select"}


class MatchForm(GovukErrorsMixin, forms.Form):
    pupil = forms.ModelChoiceField(
        queryset=Pupil.objects.none(), label="Pupil", empty_label="Choose a pupil",
        widget=forms.Select(attrs=SELECT),
        error_messages={"required": "Choose a pupil"},
    )  # fmt: skip

    def __init__(self, *args, pupils, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["pupil"]
        field.queryset = pupils.order_by("surname", "legal_forename", "pk")
        field.label_from_instance = lambda p: (
            f"{p.surname}, {p.known_as} ({p.get_year_group_display()}) – family of {p.family.lead_carer_name}"
        )


class RequestForm(GovukErrorsMixin, forms.Form):
    """The school's items of the ask's kind and their sizes in one select, as the request form has."""

    size = forms.ChoiceField(
        label="Item and size", widget=forms.Select(attrs=SELECT), error_messages={"required": "Choose a size"}
    )
    urgency = forms.ChoiceField(
        label="How urgent is it?", choices=SupportRequest.Urgency.choices, initial="routine",
        widget=forms.Select(attrs=SELECT),
    )  # fmt: skip

    def __init__(self, *args, items: list[UniformItem], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.items = {str(item.pk): item for item in items}
        choices = [
            (f"{item.name}, {pounds(item.unit_cost_pence)} each", [
                (f"{item.pk}:{value}", label) for value, label in size_choices(item.sizes)
            ])
            for item in items
        ]  # fmt: skip
        self.fields["size"].choices = [("", "Choose an item and size"), *choices]

    def item_and_size(self) -> tuple[UniformItem, str]:
        item_pk, _, size = self.cleaned_data["size"].partition(":")
        return self.items[item_pk], size


class VoucherForm(GovukErrorsMixin, forms.Form):
    voucher_type = forms.ModelChoiceField(
        queryset=VoucherType.objects.none(),
        label="Voucher",
        empty_label="Choose a voucher",
        widget=forms.Select(attrs=SELECT),
    )
    referral_reason = forms.ChoiceField(
        choices=ReferralReason.choices, label="Reason for the referral", widget=forms.Select(attrs=SELECT)
    )

    def __init__(self, *args, types, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["voucher_type"].queryset = types


class SignpostForm(GovukErrorsMixin, forms.Form):
    """An agency from the directory of the family's schools (safeguarding services are listed, and choosing
    one shows signposting's guidance instead) and how the family gets its details."""

    agency = forms.ModelChoiceField(
        queryset=Agency.objects.none(), label="Agency", empty_label="Choose an agency",
        widget=forms.Select(attrs=SELECT), error_messages={"required": "Choose the agency"},
    )  # fmt: skip
    send = forms.ChoiceField(
        choices=[("", "Print the agency's sheet after recording it"), (EMAIL, "E-mail the agency's sheet")],
        required=False, label="How the family gets the details", widget=forms.Select(attrs=SELECT),
        help_text="A signpost shares nothing with the agency: the family contacts it themselves. An ask "
        "is not consent to a referral.",
    )  # fmt: skip
    note = forms.CharField(
        required=False, label="Note (optional)", max_length=NOTE_MAX_LENGTH,
        widget=forms.TextInput(attrs={"class": "govuk-input"}),
    )  # fmt: skip

    def __init__(self, *args, agencies, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["agency"]
        field.queryset = agencies
        field.label_from_instance = lambda a: f"{a.name} (safeguarding)" if a.safeguarding else a.name


class ReplyForm(GovukErrorsMixin, forms.Form):
    channel = forms.ChoiceField(
        choices=[(EMAIL, "E-mail"), (SMS, "Text message")], label="Send by", widget=forms.Select(attrs=SELECT)
    )
    body = forms.CharField(
        max_length=REPLY_LIMIT, label="Reply",
        help_text="It goes to the family's contact with parental responsibility and no restriction. Say "
        "nothing about a child or anyone else in the family.",
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 4}),
    )  # fmt: skip


class CloseForm(GovukErrorsMixin, forms.Form):
    reason = forms.CharField(
        max_length=CLOSE_LIMIT, label="Why is it closed?",
        help_text="For example: no family matches; no contact we may reply to; helped another way.",
        widget=forms.TextInput(attrs={"class": "govuk-input"}),
    )  # fmt: skip
