"""A school that has a pupil on its subsidiary roll can issue the family a voucher."""

import pytest
from django.utils import timezone

from support.errors import SupportError
from support.models import Enrolment, Registration
from tests.factories import consent_to
from vouchers.services import voucher_issue


def test_it_lets_a_subsidiary_roll_school_issue_and_not_a_left_one(
    family_b, food_type, school_a, school_b, lead_a, lead_b
):
    consent_to(family_b, lead_b)
    family_b.refresh_from_db()
    bobby = family_b.pupils.get()
    Enrolment.objects.create(
        pupil=bobby, school=school_a, registration=Registration.SUBSIDIARY, joined=timezone.localdate()
    )

    voucher = voucher_issue(
        family=family_b,
        voucher_type=food_type,
        school=school_a,
        issued_by=lead_a,
        referral_reason="income_drop",
    )
    assert voucher.school == school_a

    Enrolment.objects.filter(pupil=bobby, school=school_b).update(left_on=timezone.localdate())
    with pytest.raises(SupportError, match="no pupil at the school"):
        voucher_issue(
            family=family_b,
            voucher_type=food_type,
            school=school_b,
            issued_by=lead_b,
            referral_reason="income_drop",
        )
