"""What finance sees of a voucher behind a ledger entry: the facts of the money, no family details."""

from django.utils.formats import date_format

from funds.services.ledger import SourceFacts, register_ledger_source
from support.money import pounds
from vouchers.models import Redemption, Voucher


def describe_vouchers(ids: list[str]) -> dict[str, SourceFacts]:
    vouchers = Voucher.objects.filter(pk__in=ids).select_related("voucher_type__partner", "school")
    redeemed = dict(Redemption.objects.filter(voucher_id__in=ids).values_list("voucher_id", "redeemed_at"))
    facts = {}
    for voucher in vouchers:
        rows = [
            ("What", f"{voucher.voucher_type.name} at {voucher.voucher_type.partner.name}"),
            ("School", voucher.school.name),
            ("Face value", pounds(voucher.face_value_pence)),
            ("State", voucher.get_state_display()),
            ("Issued", date_format(voucher.issued_at, "j F Y")),
            ("Expires", date_format(voucher.expires_on, "j F Y")),
        ]
        if voucher.pk in redeemed:
            rows.append(("Redeemed", date_format(redeemed[voucher.pk], "j F Y")))
        facts[str(voucher.pk)] = SourceFacts(title=f"Voucher {voucher.display_code}", facts=rows)
    return facts


def register() -> None:
    register_ledger_source(Voucher, describe_vouchers)
