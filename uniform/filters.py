"""The filter sets of uniform's lists: one per list, used by its page and its API alike.

Each is a ``ScopedFilterSet``: made with the request, it drops the filters on fields that user may not
see (finance cannot narrow requests to one pupil) and bounds every id, number and date.
"""

import django_filters
from django import forms
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from support.api.visibility import IdFilter, ScopedFilterSet
from uniform.models import Gift, ItemKind, SupportRequest

SELECT = {"class": "govuk-select"}
FIRST_YEAR, LAST_YEAR = 2000, 2100


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


@extend_schema_field(OpenApiTypes.INT)
class WholeNumberFilter(django_filters.NumberFilter):
    """A whole number: "1.5" is a form error (a 400 in the API), not silently 1."""

    field_class = forms.IntegerField


YEAR_ERROR = "Choose an academic year from 2000 to 2100"
CLASS_ERROR = "Choose a class from the list"


class GiftFilter(ScopedFilterSet):
    """Welcome packs: ``/api/v1/gifts/`` and the uniform overview, class and print pages (whose links say
    ``?year=`` for ``academic_year``; the school is in their path)."""

    academic_year = WholeNumberFilter(
        label="Academic year by its start year",
        min_value=FIRST_YEAR,
        max_value=LAST_YEAR,
        error_messages={"invalid": YEAR_ERROR, "min_value": YEAR_ERROR, "max_value": YEAR_ERROR},
    )
    year_group = WholeNumberFilter(
        label="Class",
        min_value=0,
        max_value=13,
        error_messages={"invalid": CLASS_ERROR, "min_value": CLASS_ERROR, "max_value": CLASS_ERROR},
    )

    class Meta:
        model = Gift
        fields = ["school", "year_group", "status", "academic_year"]
