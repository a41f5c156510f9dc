"""Forms of the ledger pages: reversing an entry. The ledger's filters are the form of
``funds.filters.LedgerEntryFilter``, shared with the API."""

from django import forms

from support.forms import GovukErrorsMixin


class EntryReverseForm(GovukErrorsMixin, forms.Form):
    reason = forms.CharField(
        label="Why are you reversing this entry?",
        help_text="Finance and the auditors read this. For example: recorded twice, wrong amount.",
        max_length=500,
        error_messages={"required": "Give a reason for the reversal"},
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 3}),
    )
