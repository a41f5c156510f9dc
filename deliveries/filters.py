"""The referrals list's filter set: the inbox page and ``/api/v1/referrals/`` alike."""

import django_filters
from django import forms

from deliveries.models import Referral
from support.api.visibility import ScopedFilterSet

SELECT = {"class": "govuk-select"}


class ReferralFilter(ScopedFilterSet):
    state = django_filters.ChoiceFilter(
        label="State",
        choices=Referral.State.choices,
        empty_label="Any state",
        widget=forms.Select(attrs=SELECT),
    )

    class Meta:
        model = Referral
        fields = ["state", "service", "school", "family"]

    def for_page(self) -> "ReferralFilter":
        """The page offers the state (the inbox's tabs); the ids stay the API's."""
        for name in ("service", "school", "family"):
            self.filters.pop(name, None)
        return self
