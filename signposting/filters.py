"""The filter set of the signposts list (``/api/v1/signposts/``): a ``ScopedFilterSet``, so it drops the
filters on fields the caller may not see and bounds every id and date."""

import django_filters

from signposting.models import Signpost
from support.api.visibility import ScopedFilterSet


class SignpostFilter(ScopedFilterSet):
    kind = django_filters.ChoiceFilter(choices=Signpost.Kind.choices)
    outcome = django_filters.ChoiceFilter(choices=Signpost.Outcome.choices)

    class Meta:
        model = Signpost
        fields = ["family", "school", "agency", "kind", "outcome"]
