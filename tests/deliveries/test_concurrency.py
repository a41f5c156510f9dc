"""Capacity and moves under real concurrency (CI's PostgreSQL pass): the week's last places go to as many
referrals as there are places, the rest join the waiting list; one accept of two commits once."""

import datetime

import pytest
from django.utils import timezone

from deliveries.models import CatalogueItem, DeliveredService, Referral
from deliveries.services import referral_accept, referral_issue
from funds.models import Fund, LedgerEntry
from support.errors import SupportError
from tests.concurrency import storm
from tests.factories import FamilyFactory, PartnerFactory, PupilFactory, SchoolFactory, consent_to, make_user
from tests.funds.factories import DonationFactory
from vouchers.models import VoucherType

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _world(families: int, per_week: int):
    school, partner = SchoolFactory(), PartnerFactory()
    fund = Fund.objects.create(name="Race fund")
    DonationFactory(fund=fund, amount_pence=10_000_00)
    vt = VoucherType.objects.create(
        partner=partner, service="furniture", name="Furniture", face_value_pence=0, fund=fund
    )
    service = DeliveredService.objects.create(voucher_type=vt, capacity_per_week=per_week)
    bed = CatalogueItem.objects.create(service=service, name="Bed", value_pence=120_00)
    pastoral = make_user("pastoral_race", "pastoral", schools=[school])
    charity = make_user("charity_race", "charity", partner=partner)
    made = []
    for _ in range(families):
        family = FamilyFactory()
        PupilFactory(family=family, school=school)
        consent_to(family, pastoral, partner)
        made.append(family)
    return school, bed, pastoral, charity, made


def test_the_last_places_go_once_under_concurrent_referrals():
    school, bed, pastoral, _charity, families = _world(10, per_week=3)

    def refer(i: int) -> str:
        (referral,) = referral_issue(
            family=families[i], items=[bed], school=school, issued_by=pastoral,
            delivery_address="1 Race Row", delivery_postcode="RV1 1AA", delivery_phone="0113 496 0000",
        )  # fmt: skip
        return referral.state

    states = storm(10, refer)
    assert sorted(states) == ["new"] * 3 + ["waiting"] * 7
    assert Referral.objects.filter(state="new").count() == 3


def test_two_accepts_at_once_commit_once():
    school, bed, pastoral, charity, families = _world(1, per_week=3)
    (referral,) = referral_issue(
        family=families[0], items=[bed], school=school, issued_by=pastoral,
        delivery_address="1 Race Row", delivery_postcode="RV1 1AA", delivery_phone="0113 496 0000",
    )  # fmt: skip
    day = timezone.localdate() + datetime.timedelta(days=2)

    def accept(i: int) -> str:
        try:
            referral_accept(referral=Referral.objects.get(pk=referral.pk), actor=charity, expected_on=day)
        except SupportError as exc:
            return exc.code
        return "ok"

    results = storm(8, accept)
    assert "ok" in results
    assert LedgerEntry.objects.filter(kind="commitment").count() == 1
