"""The API's filter backend: django-filter's, with every filter set's ids, numbers and dates bounded."""

from django_filters.rest_framework import DjangoFilterBackend

from support.bounds import bound_form_fields


class BoundedFilterBackend(DjangoFilterBackend):
    """Every filter set of every viewset goes through here (REST_FRAMEWORK's DEFAULT_FILTER_BACKENDS),
    so ``?family=99999999999999999999999`` or ``?date_to=9999-12-31`` is a 400 with a message, never an
    overflow in the database or in date arithmetic, whichever filter set a viewset declares."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            self.narrow(filterset, request)
            bound_form_fields(filterset.form)  # builds the form, so after any filter is dropped
        return filterset

    def narrow(self, filterset, request) -> None:
        """Where a subclass drops filters the caller may not use, before the form is built."""
