import pytest

from tests.factories import consent_to
from tests.vouchers.factories import VoucherTypeFactory
from vouchers.services import voucher_issue


@pytest.fixture
def food_type(partner_1):
    return VoucherTypeFactory(partner=partner_1, face_value_pence=25_00)


@pytest.fixture
def other_food_type(partner_2):
    return VoucherTypeFactory(partner=partner_2, face_value_pence=20_00)


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
