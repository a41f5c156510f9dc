"""The filter sets of uniform's lists: one per list, used by its page and its API alike.

Each is a ``ScopedFilterSet``: made with the request, it drops the filters on fields that user may not
see (finance cannot narrow requests to one pupil) and bounds every id, number and date.
"""

import django_filters
from django import forms
from django.db.models import QuerySet

from support.api.visibility import IdFilter, ScopedFilterSet
from uniform.models import ItemKind, SupportRequest

SELECT = {"class": "govuk-select"}


class SupportRequestFilter(ScopedFilterSet):
    """Requests for coats, shoes and uniform: the requests page's form and ``/api/v1/support-requests/``."""

    status = django_filters.ChoiceFilter(
        label="Status", choices=SupportRequest.Status.choices, empty_label="Any status",
        widget=forms.Select(attrs=SELECT),
    )  # fmt: skip
    school = IdFilter(label="School", widget=forms.Select(attrs=SELECT))
    kind = django_filters.ChoiceFilter(
        label="What", choices=ItemKind.choices, empty_label="Anything", widget=forms.Select(attrs=SELECT)
    )

    class Meta:
        model = SupportRequest
        fields = ["status", "school", "kind", "period", "pupil"]

    def for_page(self, *, schools: QuerySet) -> "SupportRequestFilter":
        """The page's form: the school as a list of the user's schools (the API takes an id); the rest of
        the API's filters (period, pupil) are not offered on the page."""
        for name in ("period", "pupil"):
            self.filters.pop(name, None)
        if "school" in self.filters:
            self.form.fields["school"].widget.choices = [("", "All schools")] + [
                (school.pk, school.name) for school in schools
            ]
        return self
