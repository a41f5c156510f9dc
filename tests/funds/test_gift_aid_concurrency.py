"""Gift Aid claims under real concurrency (CI's PostgreSQL pass): a donation is claimed once, however many
finance users prepare a claim at the same moment."""

import datetime

import pytest

from funds.models import GiftAidClaim, GiftAidClaimItem
from funds.services.gift_aid import gift_aid_claim_prepare, gift_aid_declaration_record
from funds.services.ledger import fund_donation_record, standby_fund
from support.errors import SupportError
from tests.concurrency import storm
from tests.factories import make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TODAY = datetime.date(2026, 11, 23)


@pytest.mark.parametrize("shown", [True, False], ids=["from-the-check-page", "everything-claimable"])
def test_it_claims_each_donation_once_when_eight_claims_are_prepared_at_once(shown):
    fund = standby_fund()
    finance = make_user("finance_gift_aid_race", "finance")
    gift_aid_declaration_record(
        donor="Trustee: Mrs H. Pemberton",
        first_name="Helen",
        last_name="Pemberton",
        house="12",
        address="12 Mill Lane",
        postcode="RV1 2AB",
        declared_on=datetime.date(2026, 9, 1),
        covers_past=True,
        covers_future=True,
        actor=finance,
        today=TODAY,
    )
    donations = [
        fund_donation_record(
            fund=fund,
            donor="Trustee: Mrs H. Pemberton",
            amount_pence=100_00 + day,
            received_on=datetime.date(2026, 9, day),
            gift_aid=True,
            actor=finance,
            today=TODAY,
        )
        for day in range(1, 21)
    ]
    ids = [d.pk for d in donations] if shown else None

    def prepare(_i: int) -> str:
        try:
            gift_aid_claim_prepare(actor=finance, donation_ids=ids, today=TODAY)
            return "prepared"
        except SupportError as exc:
            return exc.code

    results = storm(8, prepare)
    assert results.count("prepared") == 1, results
    assert GiftAidClaim.objects.count() == 1
    assert GiftAidClaimItem.objects.count() == 20
    assert sorted(GiftAidClaimItem.objects.values_list("donation_id", flat=True)) == sorted(
        d.pk for d in donations
    )
