"""The plausible range of every id, whole number and date a caller can send.

A number or date outside these bounds is refused as bad input (400, or 404 for an id in a path)
before it reaches the database, where it would overflow a column (SQLite's 64-bit integers,
PostgreSQL's smallint) or Python's date arithmetic (``date.max + 1 day``), and answer 500.
The API's filter sets, the web filter forms and the JSON parser all check against these.
"""

import datetime
from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models

from support.field_messages import name_required_messages

# Every primary key is a BigAutoField: a signed 64-bit integer on SQLite and PostgreSQL.
ID_MAX = 2**63 - 1
# A whole number that is not an id (a year, a count, a quantity): a PostgreSQL integer.
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
# Nothing in the trust's records happens before 1900 (a carer's date of birth is the oldest)
# or after 2199 (a pledge due in decades); far dates are typing mistakes or probes.
DATE_MIN = datetime.date(1900, 1, 1)
DATE_MAX = datetime.date(2199, 12, 31)
# How deep a JSON body may nest. The API's bodies are at most three levels deep.
JSON_MAX_DEPTH = 32


def id_in_range(value: Any) -> int | None:
    """``value`` as an id when it is a whole number from 1 to ID_MAX, else None."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= ID_MAX else None


def date_in_window(value: datetime.date) -> None:
    """A validator: the date is between DATE_MIN and DATE_MAX."""
    day = value.date() if isinstance(value, datetime.datetime) else value
    if not DATE_MIN <= day <= DATE_MAX:
        raise ValidationError(
            f"Enter a date between {DATE_MIN.year} and {DATE_MAX.year}.", code="date_out_of_range"
        )


def int_in_range(value: int) -> None:
    """A validator: the whole number fits the database's integer column."""
    if not INT_MIN <= value <= ID_MAX:
        raise ValidationError("Enter a smaller number.", code="number_out_of_range")


def _bounded_to_python(field: forms.ModelChoiceField) -> Callable[[Any], Any]:
    """A ModelChoiceField looks its value up in the database: refuse an impossible id first."""
    original = field.to_python
    key = field.to_field_name or "pk"
    target = field.queryset.model._meta.pk if key == "pk" else field.queryset.model._meta.get_field(key)
    numeric = isinstance(target, models.IntegerField)

    def to_python(value: Any) -> Any:
        if numeric and value not in field.empty_values and id_in_range(value) is None:
            raise ValidationError(field.error_messages["invalid_choice"], code="invalid_choice")
        return original(value)

    return to_python


def _bounded_multi_clean(field: forms.ModelMultipleChoiceField) -> Callable[[Any], Any]:
    original = field.clean
    target = field.queryset.model._meta.pk
    numeric = isinstance(target, models.IntegerField)

    def clean(value: Any) -> Any:
        if numeric and value:
            values = value if isinstance(value, list | tuple) else [value]
            for item in values:
                if id_in_range(item) is None:
                    raise ValidationError(
                        field.error_messages["invalid_choice"], code="invalid_choice", params={"value": item}
                    )
        return original(value)

    return clean


def bound_form_fields(form: forms.BaseForm) -> forms.BaseForm:
    """Give every id, number and date field of ``form`` the bounds above. Returns the form.

    Called on every API filter set's form (support.api.filters) and by ``BoundedFormMixin``; a field
    added to a filter set or form later is covered without anyone remembering to.
    """
    for field in form.fields.values():
        if getattr(field, "_bounded", False):
            continue
        field._bounded = True
        if isinstance(field, forms.ModelMultipleChoiceField):
            field.clean = _bounded_multi_clean(field)
        elif isinstance(field, forms.ModelChoiceField):
            field.to_python = _bounded_to_python(field)
        elif isinstance(field, forms.DateField | forms.DateTimeField):
            field.validators = [*field.validators, date_in_window]
        elif isinstance(field, forms.IntegerField | forms.DecimalField | forms.FloatField):
            field.validators = [*field.validators, int_in_range]
        elif isinstance(field, forms.MultiValueField):
            for sub in field.fields:
                if isinstance(sub, forms.DateField | forms.DateTimeField):
                    sub.validators = [*sub.validators, date_in_window]
                elif isinstance(sub, forms.IntegerField | forms.DecimalField):
                    sub.validators = [*sub.validators, int_in_range]
    return form


class BoundedFormMixin:
    """A form whose ids, numbers and dates are range-checked (see ``bound_form_fields``), and whose
    "required" messages name their field (``support.field_messages``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bound_form_fields(self)
        name_required_messages(self)
