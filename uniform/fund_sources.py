"""What finance sees of a welcome pack or a coat, shoe or uniform request behind a ledger entry.

The facts of the money only: no pupil names, no case notes.
"""

from django.utils.formats import date_format

from funds.services.ledger import SourceFacts, register_ledger_source
from support.money import pounds
from uniform.models import Gift, SupportRequest
from uniform.services.requests import request_summary


def describe_gifts(ids: list[str]) -> dict[str, SourceFacts]:
    facts = {}
    for gift in Gift.objects.filter(pk__in=ids).select_related("school"):
        rows = [
            ("School", gift.school.name),
            ("Intake", "Reception" if gift.year_group == 0 else f"Year {gift.year_group}"),
            ("Academic year", f"{gift.academic_year}–{str(gift.academic_year + 1)[-2:]}"),
            ("Status", gift.get_status_display()),
        ]
        if gift.handed_over_at:
            rows.append(("Handed over", date_format(gift.handed_over_at, "j F Y")))
        facts[str(gift.pk)] = SourceFacts(title="Welcome pack", facts=rows)
    return facts


def describe_requests(ids: list[str]) -> dict[str, SourceFacts]:
    facts = {}
    for request in SupportRequest.objects.filter(pk__in=ids).select_related("school", "item"):
        rows = [
            ("What", request_summary(request)),
            ("Cost", pounds(request.cost_pence)),
            ("Status", request.get_status_display()),
            ("Asked", date_format(request.requested_at, "j F Y")),
        ]
        if request.handed_over_at:
            rows.append(("Handed over", date_format(request.handed_over_at, "j F Y")))
        facts[str(request.pk)] = SourceFacts(title=f"{request.get_kind_display()} request", facts=rows)
    return facts


def register() -> None:
    from funds.services.approvals import register_spend_handler
    from uniform.services.requests import FinanceDecisions

    register_ledger_source(Gift, describe_gifts)
    register_ledger_source(SupportRequest, describe_requests)
    register_spend_handler(SupportRequest, FinanceDecisions())
