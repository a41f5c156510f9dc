from collections.abc import Mapping

from django import forms
from django.utils import timezone

from support import safeguarding
from support.bounds import BoundedFormMixin
from support.errors import SupportError
from support.models import Family, PartnerCharity, SafeguardingReferral, School
from support.models.consents import RECORDABLE_METHODS
from support.money import MAX_AMOUNT_PENCE, parse_pounds, pounds
from support.pupil_csv import MAX_BYTES, normalise_phone
from support.visibility import can_see

ERROR_CLASSES = {
    "govuk-input": "govuk-input--error",
    "govuk-select": "govuk-select--error",
    "govuk-textarea": "govuk-textarea--error",
    "govuk-file-upload": "govuk-file-upload--error",
}


def form_error_from(
    form: forms.BaseForm, exc: SupportError, *, fields: Mapping[str, str] | None = None
) -> None:
    """Show a service's refusal on ``form``: beside the field it names when the form has that field
    (``fields`` maps the service's name for it to the form's: ``{"amount_pence": "amount"}``), else in
    the error summary above the form. The one way every page turns a ``SupportError`` into a form error."""
    field = exc.field or None
    if fields and field in fields:
        field = fields[field]
    form.add_error(field if field in form.fields else None, exc.message)


class PoundsField(forms.CharField):
    """A text input for an amount in pounds; ``cleaned_data`` holds whole pence (``parse_pounds``: the
    same reading and the same refusals as the API's ``PenceField``). ``minimum``/``maximum`` in pence."""

    def __init__(
        self, *, minimum: int | None = 1, maximum: int | None = MAX_AMOUNT_PENCE, width: int = 10, **kwargs
    ) -> None:
        self.minimum, self.maximum = minimum, maximum
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={
                    "class": f"govuk-input govuk-input--width-{width}",
                    "inputmode": "decimal",
                    "spellcheck": "false",
                    "autocomplete": "off",
                }
            ),
        )
        super().__init__(**kwargs)

    def prepare_value(self, value):
        """Whole pence (a saved amount, as the admin passes it) are shown as pounds: 2500 → 25.00."""
        if isinstance(value, int) and not isinstance(value, bool):
            return pounds(value, symbol=False).replace(",", "")
        return value

    def has_changed(self, initial, data) -> bool:
        try:
            return self.clean(data) != initial
        except forms.ValidationError:
            return True

    def clean(self, value: str) -> int | None:  # type: ignore[override]
        value = super().clean(value)
        if value in self.empty_values:
            return None
        try:
            return parse_pounds(value, minimum=self.minimum, maximum=self.maximum)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None


class GovukErrorsMixin(BoundedFormMixin):
    """Adds GOV.UK's error styling to the inputs of fields that have errors (and, as every form of
    the site, bounds its ids, numbers and dates: support.bounds)."""

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        for name in self.errors:  # type: ignore[attr-defined]
            if name not in self.fields:  # type: ignore[attr-defined]
                continue
            widget = self.fields[name].widget  # type: ignore[attr-defined]
            classes = widget.attrs.get("class", "").split()
            extra = [
                ERROR_CLASSES[c] for c in classes if c in ERROR_CLASSES and ERROR_CLASSES[c] not in classes
            ]
            widget.attrs["class"] = " ".join(classes + extra)


class SafeguardingHintsMixin:
    """Adds the safeguarding guidance to the hint of each free-text note about a family or pupil.

    A form names its notes and who sees them (``safeguarding_notes = {"reason": "school"}``, keys of
    ``support.safeguarding.SEEN_BY``); the view passes ``safeguarding_schools`` so the hint names
    those schools' designated safeguarding leads.
    """

    safeguarding_notes: dict[str, str] = {}

    def __init__(self, *args, safeguarding_schools=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        for name, seen_by in self.safeguarding_notes.items():
            field = self.fields.get(name)  # type: ignore[attr-defined]
            if field is None:
                continue
            hint = safeguarding.guidance(seen_by=safeguarding.SEEN_BY[seen_by], schools=safeguarding_schools)
            field.help_text = f"{field.help_text} {hint}".strip()


class VisibleFilterForm(BoundedFormMixin, forms.Form):
    """A page's filter form that reads the field-visibility table: a field the user may not see of
    ``visibility_model`` is removed, so its value in the query string is ignored and the answer cannot
    depend on it (finance cannot group vouchers by ``?family=``). ``visibility_paths`` names the model
    path a field filters by when it is not the field's own name."""

    visibility_model: type | None = None
    visibility_paths: dict[str, str] = {}

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        kept = self.visible_field_names(user)
        for name in list(self.fields):
            if name not in kept:
                del self.fields[name]

    @classmethod
    def visible_field_names(cls, user) -> set[str]:
        return {
            name
            for name in cls.base_fields
            if can_see(user, cls.visibility_model, cls.visibility_paths.get(name, name))  # type: ignore[arg-type]
        }


class FamilyForm(GovukErrorsMixin, forms.ModelForm):
    class Meta:
        model = Family
        fields = [
            "lead_carer_name",
            "phone",
            "email",
            "address",
            "postcode",
            "adults",
            "children",
            "dietary_needs",
            "language",
        ]
        labels = {
            "lead_carer_name": "Lead carer's full name",
            "phone": "Phone number",
            "email": "E-mail address",
            "adults": "Adults in the household",
            "children": "Children in the household",
            "dietary_needs": "Dietary needs (shown on vouchers)",
            "language": "Preferred language",
        }
        help_texts = {
            "phone": "For example 07700 900123",
            "dietary_needs": "For example halal, vegetarian, nut allergy",
            "language": "Vouchers, e-mails and text messages go in English and this language.",
        }
        widgets = {
            "lead_carer_name": forms.TextInput(attrs={"class": "govuk-input", "autocomplete": "name"}),
            "phone": forms.TextInput(
                attrs={"class": "govuk-input govuk-input--width-20", "type": "tel", "autocomplete": "tel"}
            ),
            "email": forms.EmailInput(attrs={"class": "govuk-input", "autocomplete": "email"}),
            "address": forms.Textarea(attrs={"class": "govuk-textarea", "rows": 3}),
            "postcode": forms.TextInput(
                attrs={"class": "govuk-input govuk-input--width-10", "autocomplete": "postal-code"}
            ),
            "adults": forms.NumberInput(attrs={"class": "govuk-input govuk-input--width-3", "min": 1}),
            "children": forms.NumberInput(attrs={"class": "govuk-input govuk-input--width-3", "min": 0}),
            "dietary_needs": forms.TextInput(attrs={"class": "govuk-input"}),
            "language": forms.Select(attrs={"class": "govuk-select"}),
        }

    def clean_phone(self) -> str:
        raw = self.cleaned_data["phone"].strip()
        if not raw:
            return ""
        phone = normalise_phone(raw)  # the same check as services.family_update's
        if phone is None:
            raise forms.ValidationError("Enter a UK phone number, like 07700 900123")
        return phone


class ConsentForm(GovukErrorsMixin, forms.Form):
    """Record (``given`` yes) or withdraw (no) the family's consent to share with one named partner."""

    partner = forms.ModelChoiceField(
        label="Partner charity",
        queryset=PartnerCharity.objects.none(),
        empty_label=None,
        widget=forms.Select(attrs={"class": "govuk-select"}),
    )
    given = forms.TypedChoiceField(
        choices=[("yes", "Record consent"), ("no", "Withdraw consent")],
        coerce=lambda value: value == "yes",
        initial="yes",
        widget=forms.HiddenInput,
    )
    method = forms.ChoiceField(
        label="How the carer gave consent",
        choices=RECORDABLE_METHODS,
        required=False,
        widget=forms.RadioSelect(attrs={"class": "govuk-radios__input"}),
    )
    date = forms.DateField(
        label="Date",
        required=False,
        initial=timezone.localdate,
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"class": "govuk-input govuk-input--width-10", "type": "date"}),
    )

    def __init__(self, *args, partners=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partners if partners is not None else PartnerCharity.objects.all()

    def clean(self) -> dict:
        data = super().clean()
        if data.get("given") and not data.get("method"):
            self.add_error("method", "Choose how the carer gave consent")
        return data


class NeedForm(BoundedFormMixin, forms.Form):
    in_need = forms.BooleanField(required=False)
    # No max_length here: pupil_set_in_need refuses a long reason with the safeguarding wording.
    reason = forms.CharField(
        label="Why is the pupil in need?",
        required=False,
        widget=forms.TextInput(attrs={"class": "govuk-input"}),
    )


class SafeguardingReferralForm(GovukErrorsMixin, forms.Form):
    """Which lead the concern went to. Deliberately no text field: the concern is not recorded here."""

    lead_kind = forms.ChoiceField(
        label="Which safeguarding lead did you tell?",
        error_messages={"required": "Choose which safeguarding lead you told"},
        widget=forms.RadioSelect(attrs={"class": "govuk-radios__input"}),
    )

    def __init__(self, *args, school: School, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(SafeguardingReferral.LeadKind.choices)
        self.fields["lead_kind"].choices = [
            (key, f"{name} ({labels[key]})") for key, name in school.safeguarding_leads
        ]
        if len(school.safeguarding_leads) == 1:
            self.fields["lead_kind"].initial = school.safeguarding_leads[0][0]


class SafeguardingLeadsForm(GovukErrorsMixin, forms.Form):
    lead = forms.CharField(
        label="Designated safeguarding lead",
        max_length=120,
        error_messages={"required": "Enter the designated safeguarding lead's name"},
        widget=forms.TextInput(attrs={"class": "govuk-input", "autocomplete": "off"}),
    )
    deputy = forms.CharField(
        label="Deputy designated safeguarding lead (optional)",
        required=False,
        max_length=120,
        widget=forms.TextInput(attrs={"class": "govuk-input", "autocomplete": "off"}),
    )


class RollLeaveForm(BoundedFormMixin, forms.Form):
    """A lead records that a pupil left one of their schools' rolls."""

    school = forms.ModelChoiceField(
        queryset=School.objects.none(), error_messages={"required": "Choose the school"}
    )
    left_on = forms.DateField(
        label="Leaving date",
        error_messages={"required": "Enter the leaving date", "invalid": "Enter a real date"},
    )

    def __init__(self, *args, schools, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools


class ImportUploadForm(GovukErrorsMixin, forms.Form):
    school = forms.ModelChoiceField(
        queryset=School.objects.none(),
        label="School",
        empty_label="Choose a school",
        widget=forms.Select(attrs={"class": "govuk-select"}),
    )
    file = forms.FileField(
        label="Pupil export (CSV)",
        help_text="A CSV export from your school information system, with a header row.",
        widget=forms.ClearableFileInput(attrs={"class": "govuk-file-upload", "accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, schools=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools if schools is not None else School.objects.none()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB")
        return upload


class ContactForm(GovukErrorsMixin, forms.ModelForm):
    """One of a family's contacts; the service (support.contacts) holds the rules."""

    class Meta:
        from support.models import Contact

        model = Contact
        fields = [
            "name",
            "relationship",
            "priority",
            "parental_responsibility",
            "lives_with_pupil",
            "phone",
            "email",
            "restriction",
            "restriction_note",
        ]
        labels = {
            "name": "Full name",
            "relationship": "Relationship to the pupil",
            "priority": "Priority (1 is contacted first)",
            "parental_responsibility": "Has parental responsibility",
            "lives_with_pupil": "Lives with the pupil",
            "phone": "Phone number",
            "email": "E-mail address",
            "restriction": "Restriction",
            "restriction_note": "What the restriction is, briefly",
        }
        help_texts = {
            "relationship": "For example mother, father, grandparent, foster carer",
            "phone": "A mobile for text messages, for example 07700 900123",
            "restriction": (
                "Nothing is sent to, printed for or shown to a contact under a restriction or without "
                "parental responsibility."
            ),
            "restriction_note": (
                "At most 200 characters. Keep the order itself in your safeguarding system and tell your "
                "safeguarding lead."
            ),
        }
        widgets = {
            "name": forms.TextInput(attrs={"class": "govuk-input"}),
            "relationship": forms.TextInput(attrs={"class": "govuk-input govuk-input--width-20"}),
            "priority": forms.NumberInput(attrs={"class": "govuk-input govuk-input--width-2"}),
            "parental_responsibility": forms.CheckboxInput(attrs={"class": "govuk-checkboxes__input"}),
            "lives_with_pupil": forms.CheckboxInput(attrs={"class": "govuk-checkboxes__input"}),
            "phone": forms.TextInput(attrs={"class": "govuk-input govuk-input--width-20", "type": "tel"}),
            "email": forms.EmailInput(attrs={"class": "govuk-input"}),
            "restriction": forms.Select(attrs={"class": "govuk-select"}),
            "restriction_note": forms.TextInput(attrs={"class": "govuk-input", "maxlength": 200}),
        }
