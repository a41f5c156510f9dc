import datetime

import pytest

from funds.services.ledger import fund_donation_record, standby_fund
from tests.factories import consent_to
from tests.vouchers.factories import VoucherTypeFactory
from vouchers.models import VoucherType
from vouchers.services import voucher_issue


@pytest.fixture
def food_type(partner_1):
    return VoucherTypeFactory(partner=partner_1, face_value_pence=25_00)


@pytest.fixture
def other_food_type(partner_2):
    return VoucherTypeFactory(partner=partner_2, face_value_pence=20_00)


@pytest.fixture
def paid_type(partner_1, finance):
    """Food parcels paid for by the standby fund, which holds £500: issuing commits, redeeming spends."""
    fund = standby_fund()
    fund_donation_record(
        fund=fund,
        donor="Trustee",
        amount_pence=500_00,
        received_on=datetime.date.today(),
        gift_aid=False,
        actor=finance,
    )
    return VoucherType.objects.create(
        partner=partner_1,
        service="food_parcel",
        name="Food parcel",
        face_value_pence=25_00,
        validity_days=28,
        limit_count=10,
        fund=fund,
    )


@pytest.fixture
def issue(pastoral_a, school_a):
    """``issue(family, voucher_type)``: a voucher issued by pastoral_a at school A, consent recorded first."""

    def make(family, voucher_type, **kwargs):
        consent_to(family, pastoral_a, voucher_type.partner)
        return voucher_issue(
            family=family,
            voucher_type=voucher_type,
            school=school_a,
            issued_by=pastoral_a,
            referral_reason="income_drop",
            **kwargs,
        )

    return make


@pytest.fixture
def voucher(issue, family_a, food_type):
    return issue(family_a, food_type)
