"""What finance sees of a referral behind a ledger entry: the money's facts, no family or address."""

from django.utils.formats import date_format

from deliveries.models import Referral
from funds.services.ledger import SourceFacts, register_ledger_source
from support.money import pounds


def describe_referrals(ids: list[str]) -> dict[str, SourceFacts]:
    facts = {}
    for referral in Referral.objects.filter(pk__in=ids).select_related(
        "item", "school", "service__voucher_type__partner"
    ):
        rows = [
            ("What", f"{referral.item.name}, delivered by {referral.service.voucher_type.partner.name}"),
            ("School", referral.school.name),
            ("Value", pounds(referral.value_pence)),
            ("State", referral.get_state_display()),
        ]
        if referral.delivered_on:
            rows.append(("Delivered", date_format(referral.delivered_on, "j F Y")))
        facts[str(referral.pk)] = SourceFacts(title=f"Delivery referral {referral.pk}", facts=rows)
    return facts


def register() -> None:
    register_ledger_source(Referral, describe_referrals)
