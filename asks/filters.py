"""The filter set of the leads' asks: ``/api/v1/asks/`` (the queue page shows the open ones only)."""

import django_filters

from asks.models import Ask, AskKind
from support.api.visibility import IdFilter, ScopedFilterSet


class AskFilter(ScopedFilterSet):
    status = django_filters.ChoiceFilter(choices=Ask.Status.choices)
    kind = django_filters.ChoiceFilter(choices=AskKind.choices)
    school = IdFilter()

    class Meta:
        model = Ask
        fields = ["status", "kind", "school"]
