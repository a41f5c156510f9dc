"""Voucher types (and a few vouchers) for the demo trust. Idempotent like the rest of the demo."""

import random

from django.db import transaction

from support.fund import standby_fund
from support.models import Family, PartnerCharity, Pupil, Service
from support.scopes import scope_for
from vouchers.models import ReferralReason, Voucher, VoucherType

TYPES = [
    (Service.FOOD_PARCEL, "Food parcel", 25_00, 28),
    (Service.WHITE_GOODS, "White goods", 150_00, 56),
    (Service.FURNITURE, "Furniture", 100_00, 56),
]


@transaction.atomic
def voucher_demo_seed() -> list[str]:
    from django.contrib.auth import get_user_model

    from vouchers.services import voucher_issue, voucher_redeem

    partner = PartnerCharity.objects.filter(name="Riverton Community Pantry").first()
    if partner is None or VoucherType.objects.filter(partner=partner).exists():
        return []
    fund = standby_fund()
    types = {
        service: VoucherType.objects.create(
            partner=partner,
            service=service,
            name=name,
            face_value_pence=value,
            validity_days=days,
            fund=fund,  # the standby fund pays the partner (support's demo has put money in it)
        )
        for service, name, value, days in TYPES
    }
    lead = get_user_model().objects.get(username="lead_a")
    school_id = sorted(scope_for(lead).school_ids)[0]
    rng = random.Random(7)
    families = list(
        Family.objects.filter(consent_given=True, pupils__school_id=school_id).distinct().order_by("pk")[:40]
    )
    issued = []
    for family in rng.sample(families, min(12, len(families))):
        school = Pupil.objects.filter(family=family, school_id=school_id).first().school
        voucher = voucher_issue(
            family=family,
            voucher_type=types[Service.FOOD_PARCEL],
            school=school,
            issued_by=lead,
            delivery="print",  # nothing is sent: demo families' addresses are made up
            referral_reason=rng.choice(
                [ReferralReason.INCOME_DROP, ReferralReason.BENEFITS, ReferralReason.DEBT]
            ),
        )
        issued.append(voucher)
    # Some have been to the pantry already, so finance sees actual spend beside the commitments.
    charity = get_user_model().objects.get(username="charity")
    for voucher in issued[:5]:
        voucher_redeem(voucher=voucher, partner=partner, redeemed_by=charity, items_given="Food parcel")
    return [f"Voucher types: {len(types)} at {partner.name}; {Voucher.objects.count()} demo vouchers issued."]
