"""Error messages that name their field, for every form and every API answer.

Django's "This field is required." and DRF's "This field is required." / "This field may not be blank."
say nothing about which field: in an error summary at the top of a page they are useless. Each form of
the site (``support.bounds.BoundedFormMixin``) gets its fields' default "required" message replaced
by one built from the field's label, GOV.UK-style: "Enter the postcode", "Select the school"; a
message a form set itself is kept. The API's exception handler renames DRF's in the same way
("household_size is required.").
"""

from collections.abc import Mapping
from typing import Any

from django import forms
from django.forms.utils import pretty_name
from rest_framework.exceptions import ErrorDetail

DJANGO_REQUIRED = str(forms.Field.default_error_messages["required"])

# Fields that are picked rather than typed: "Select …".
_PICKED = (forms.ChoiceField, forms.ModelChoiceField, forms.BooleanField, forms.FileField)


_OWN_ARTICLE = ("the ", "a ", "an ", "your ", "their ", "its ", "this ", "which ")


def _label_words(label: str) -> str:
    """'Postcode' → 'the postcode'; 'UPN' keeps its capitals; a hint in brackets is dropped."""
    label = label.strip().rstrip(":").strip()
    if label.endswith(")") and " (" in label:
        label = label[: label.rindex(" (")]
    if len(label) > 1 and label[0].isupper() and not label[1].isupper():
        label = label[0].lower() + label[1:]
    if label.lower().startswith(_OWN_ARTICLE) or label[:1].isdigit():
        return label
    return f"the {label}"


def required_message(field: forms.Field, name: str) -> str:
    """The message for ``field`` (called ``name`` in its form) when it is left empty."""
    label = str(field.label) if field.label else pretty_name(name)
    picked = isinstance(field, _PICKED)
    if label.strip().endswith("?"):
        # A question ("Which school?") is answered, not entered.
        return f"{'Select an answer to' if picked else 'Answer'} “{label.strip()}”"
    return f"{'Select' if picked else 'Enter'} {_label_words(label)}"


def name_required_messages(form: forms.BaseForm) -> None:
    """Replace each field's default "This field is required." with one naming the field."""
    for name, field in form.fields.items():
        if str(field.error_messages.get("required", "")) == DJANGO_REQUIRED:
            field.error_messages["required"] = required_message(field, name)
        if isinstance(field, forms.MultiValueField):
            for sub in field.fields:
                if str(sub.error_messages.get("required", "")) == DJANGO_REQUIRED:
                    sub.error_messages["required"] = required_message(field, name)


# --- The API ---------------------------------------------------------------------------------------

_API_CODES = {
    "required": "{field} is required.",
    "blank": "{field} may not be blank.",
    "null": "{field} may not be null.",
}


def name_api_errors(data: Any, field: str | None = None) -> Any:
    """DRF's validation errors with "This field …" replaced by the field's name, at any depth."""
    if isinstance(data, Mapping):
        return {
            key: name_api_errors(value, key if key != "non_field_errors" else None)
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [name_api_errors(item, field) for item in data]
    if (
        isinstance(data, ErrorDetail)
        and field
        and data.code in _API_CODES
        and str(data).startswith("This field")
    ):
        return ErrorDetail(_API_CODES[data.code].format(field=field), code=data.code)
    return data
