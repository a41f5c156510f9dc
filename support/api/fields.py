"""Serializer fields with plausible bounds: dates between 1900 and 2199 (support.bounds), amounts of
money in whole pence within the same limits as the web's pounds field (support.money)."""

from collections.abc import Callable

from django.db.models import Model, QuerySet
from rest_framework import serializers

from support.bounds import date_in_window, id_in_range
from support.money import MAX_AMOUNT_PENCE, parse_pence


class BoundedDateField(serializers.DateField):
    """A date within support.bounds' window: "9999-12-31" is a 400, not an overflow later."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.validators.append(date_in_window)


class BoundedDateTimeField(serializers.DateTimeField):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.validators.append(date_in_window)


class PenceField(serializers.IntegerField):
    """An amount in whole pence (the API's unit). Read by ``support.money.parse_pence``, so it refuses
    what the web's ``PoundsField`` refuses, in the same words: 10.5 or "10.50" is a 400 saying the API
    speaks pence, not an amount rounded or truncated. ``minimum``/``maximum`` in pence."""

    def __init__(self, *, minimum: int | None = 1, maximum: int | None = MAX_AMOUNT_PENCE, **kwargs) -> None:
        self.minimum, self.maximum = minimum, maximum
        # For the schema: the same bounds, as the API document shows them.
        kwargs.setdefault("min_value", minimum)
        kwargs.setdefault("max_value", maximum)
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> int:
        try:
            return parse_pence(data, minimum=self.minimum, maximum=self.maximum)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc), code="invalid") from None


class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """An object named by its id, found by ``find(user, id)`` (None: "does not exist", as for an object
    out of the caller's scope), where the scoped queryset has a compiled twin for a hot path
    (``support.hot_queries``). ``scoped(user)`` is the selector itself: the schema and any form read it,
    and a test holds ``find`` to it."""

    def __init__(
        self,
        *,
        find: Callable[[object, int], Model | None],
        scoped: Callable[[object], QuerySet],
        **kwargs,
    ) -> None:
        self.find, self.scoped = find, scoped
        super().__init__(queryset=scoped(None), **kwargs)

    def get_queryset(self) -> QuerySet:
        return self.scoped(self._user())

    def _user(self) -> object:
        request = self.context.get("request")
        return getattr(request, "user", None)

    def to_internal_value(self, data) -> Model:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        pk = id_in_range(data)
        found = self.find(self._user(), pk) if pk is not None else None
        if found is None:
            if pk is None and not str(data).strip().lstrip("-").isdigit():
                self.fail("incorrect_type", data_type=type(data).__name__)
            self.fail("does_not_exist", pk_value=data)
        return found
