"""The family list's one filter set: the web list (``support.views.family_list``), its CSV export and the
API (``/api/v1/families/``) all read a request through it, so a query finds the same families, in the same
order, behind every door.

Its filters are judged against the field-visibility table like every API filter set
(``support.api.visibility.VisibleFilterBackend``): ``filterset_for`` does for the pages what that
backend does for the API.
"""

import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from support import selectors
from support.api.visibility import ScopedFilterSet, VisibleFilterBackend
from support.bounds import bound_form_fields
from support.forms import GovukErrorsMixin
from support.models import Family, PupilImport, School
from support.pupil_csv import normalise_postcode

QUERY_MAX_LENGTH = 100


class FamilyFilterForm(GovukErrorsMixin, forms.Form):
    """The family list's form: its fields are the filter set's; this gives them the GOV.UK error shape."""


def _schools(request) -> object:
    if request is None:  # the offline schema: no list of schools to offer
        return School.objects.none()
    return selectors.schools_visible_to(request.user)


@extend_schema_field(OpenApiTypes.INT)
class SchoolFilter(django_filters.ModelChoiceFilter):
    """One of the caller's schools, by id."""


class FamilyFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(
        label="Name, postcode, phone, e-mail, UPN or voucher code",
        max_length=QUERY_MAX_LENGTH,
        error_messages={"max_length": f"Search for at most {QUERY_MAX_LENGTH} characters"},
        widget=forms.TextInput(attrs={"class": "govuk-input", "type": "search", "autocomplete": "off"}),
        method="filter_nothing",
    )
    school = SchoolFilter(
        label="School",
        queryset=_schools,
        empty_label="All my schools",
        error_messages={"invalid_choice": "Choose one of your schools"},
        widget=forms.Select(attrs={"class": "govuk-select"}),
        method="filter_nothing",
    )
    postcode = django_filters.CharFilter(
        label="Postcode (exact)",
        max_length=10,
        method="filter_postcode",
        widget=forms.TextInput(attrs={"class": "govuk-input govuk-input--width-10"}),
    )

    class Meta:
        model = Family
        fields = ["q", "school", "postcode"]
        form = FamilyFilterForm

    def filter_nothing(self, queryset, name, value):
        return queryset  # read together in filter_queryset: one search, not one per filter

    def filter_postcode(self, queryset, name, value):
        return queryset.filter(postcode=normalise_postcode(value) or value.strip().upper())

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        query = (data.get("q") or "") if "q" in self.filters else ""
        school = data.get("school") if "school" in self.filters else None
        queryset = selectors.family_search(
            user=self.request.user,
            query=query,
            school_id=school.pk if school else None,
            families=queryset,
        )
        return super().filter_queryset(queryset)


def page_filterset(filterset_class, request, *, queryset, data=None):
    """A list page's filter set, bound to the query string (or ``data``), its filters narrowed by the
    visibility table and its fields bounded exactly as the API's (``VisibleFilterBackend``)."""
    filterset = filterset_class(request.GET if data is None else data, queryset=queryset, request=request)
    VisibleFilterBackend().narrow(filterset, request)
    bound_form_fields(filterset.form)
    return filterset


def filterset_for(request, *, queryset) -> FamilyFilterSet:
    """The family list's filter set for a page."""
    return page_filterset(FamilyFilterSet, request, queryset=queryset)


class ImportFilter(django_filters.FilterSet):
    """The pupil imports list: ``?status=previewed`` is what home counts as ready to apply. The list is
    already the user's (``imports_visible_to``); an unknown status is not an error, it shows the recent
    uploads of every status."""

    status = django_filters.ChoiceFilter(choices=PupilImport.Status.choices)

    class Meta:
        model = PupilImport
        fields = ["status"]
