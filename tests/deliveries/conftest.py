"""Delivered services at charity 1 (white goods and furniture, paid by a fund with money in it), their
catalogues, and ``refer(...)``: family A referred by pastoral_a at school A, consent recorded first."""

import pytest

from deliveries.models import CatalogueItem, DeliveredService
from deliveries.services import referral_issue
from funds.models import Fund
from tests.factories import consent_to
from tests.funds.factories import DonationFactory
from vouchers.models import VoucherType


@pytest.fixture
def fund(db):
    fund = Fund.objects.create(name="Deliveries fund")
    DonationFactory(fund=fund, amount_pence=2_000_00)
    return fund


def _service(partner, service, name, fund, items, **kwargs):
    vt = VoucherType.objects.create(
        partner=partner, service=service, name=name, face_value_pence=0, fund=fund
    )
    delivered = DeliveredService.objects.create(voucher_type=vt, **kwargs)
    for item, value in items:
        CatalogueItem.objects.create(service=delivered, name=item, value_pence=value)
    return delivered


@pytest.fixture
def white_goods(partner_1, fund):
    return _service(partner_1, "white_goods", "White goods", fund, [("Cooker", 180_00), ("Fridge", 150_00)])


@pytest.fixture
def furniture(partner_1, fund):
    return _service(
        partner_1, "furniture", "Furniture", fund, [("Bed", 120_00), ("Sofa", 90_00)], capacity_per_week=1
    )


@pytest.fixture
def other_service(partner_2, fund):
    return _service(partner_2, "white_goods", "White goods", fund, [("Washing machine", 200_00)])


def item(service, name):
    return service.items.get(name=name)


@pytest.fixture
def refer(pastoral_a, school_a, family_a):
    def make(*items, family=None, **kwargs):
        family = family or family_a
        consent_to(family, pastoral_a, *{i.service.voucher_type.partner for i in items})
        fields = {
            "delivery_address": "1 Mill Lane\nRiverton",
            "delivery_postcode": "rv1 1aa",
            "delivery_phone": "+447700900123",
            "access_notes": "Third floor, no lift",
        }
        fields.update(kwargs)
        return referral_issue(
            family=family, items=list(items), school=school_a, issued_by=pastoral_a, **fields
        )

    return make
