"""The demo's delivered services: the pantry's white goods and furniture, their catalogues and capacity,
and a referral waiting in the charity's inbox. Idempotent like the rest of the demo; runs after the
vouchers' demo (which makes the voucher types)."""

from django.contrib.auth import get_user_model
from django.db import transaction

from deliveries.models import CatalogueItem, DeliveredService
from deliveries.services import referral_issue
from support.errors import SupportError
from support.models import Enrolment, Family, PartnerCharity, Service
from vouchers.models import VoucherType

CATALOGUE = {
    Service.WHITE_GOODS: (5, [("Fridge", 150_00), ("Cooker", 180_00), ("Washing machine", 200_00)]),
    Service.FURNITURE: (
        2,
        [("Bed", 120_00), ("Sofa", 90_00), ("Wardrobe", 80_00), ("Home starter kit", 60_00)],
    ),
}


@transaction.atomic
def deliveries_demo_seed() -> list[str]:
    partner = PartnerCharity.objects.filter(name="Riverton Community Pantry").first()
    if partner is None or DeliveredService.objects.filter(voucher_type__partner=partner).exists():
        return []
    made = []
    for service, (per_week, items) in CATALOGUE.items():
        voucher_type = VoucherType.objects.filter(partner=partner, service=service).first()
        if voucher_type is None:
            continue
        delivered = DeliveredService.objects.create(voucher_type=voucher_type, capacity_per_week=per_week)
        CatalogueItem.objects.bulk_create(
            CatalogueItem(service=delivered, name=name, value_pence=value) for name, value in items
        )
        made.append(delivered)
    # One referral already in the charity's inbox, so the charity's journey has something to answer.
    lead = get_user_model().objects.get(username="lead_a")
    family = (
        Family.objects.filter(
            consents__partner=partner,
            consents__withdrawn_on__isnull=True,
            pupils__school__in=lead_schools(lead),
        )
        .exclude(address="")
        .order_by("pk")
        .first()
    )
    referrals = 0
    if family is not None and made:
        school = Enrolment.objects.current().filter(pupil__family=family).first().school
        try:
            referrals = len(
                referral_issue(
                    family=family,
                    items=[made[0].items.get(name="Fridge")],
                    school=school,
                    issued_by=lead,
                    delivery_address=family.address,
                    delivery_postcode=family.postcode or "RV1 1AA",
                    delivery_phone=family.phone or "+447700900000",
                    access_notes="Ground floor flat",
                )
            )
        except SupportError:
            referrals = 0
    return [
        f"Delivered services: {len(made)} at {partner.name}; {referrals} referral waiting to be answered."
    ]


def lead_schools(lead):
    from support.scopes import scope_for

    return sorted(scope_for(lead).school_ids)
