"""Serializer fields with the plausible bounds of support.bounds (dates between 1900 and 2199)."""

from rest_framework import serializers

from support.bounds import date_in_window


class BoundedDateField(serializers.DateField):
    """A date within support.bounds' window: "9999-12-31" is a 400, not an overflow later."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.validators.append(date_in_window)


class BoundedDateTimeField(serializers.DateTimeField):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.validators.append(date_in_window)
