"""Spend against one fund under real concurrency (CI's PostgreSQL pass): the fund never goes below zero."""

import datetime

import pytest

from funds.models import LedgerEntry
from funds.selectors.positions import fund_position
from funds.services.ledger import fund_donation_record, fund_spend_commit, standby_fund
from support.errors import SupportError
from tests.concurrency import storm
from tests.factories import FamilyFactory, make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_it_accepts_exactly_the_spend_the_fund_can_afford_under_50_concurrent_commits():
    fund = standby_fund()
    finance = make_user("finance_race", "finance")
    pastoral = make_user("pastoral_race", "pastoral")
    fund_donation_record(
        fund=fund,
        donor="Riverton Rotary",
        amount_pence=10 * 25_00,
        received_on=datetime.date(2025, 11, 3),
        gift_aid=False,
        restricted_purpose="",
        actor=finance,
    )
    sources = FamilyFactory.create_batch(50)

    def commit(i: int) -> str:
        try:
            fund_spend_commit(
                fund=fund,
                source=sources[i],
                amount_pence=25_00,
                category="voucher:food_parcel",
                actor=pastoral,
            )
            return "accepted"
        except SupportError as exc:
            return exc.code

    results = storm(50, commit)
    assert results.count("accepted") == 10
    assert results.count("insufficient_funds") == 40
    position = fund_position(fund=fund)
    assert (position.balance_pence, position.committed_pence, position.available_pence) == (25000, 25000, 0)
    # Commitments were written one at a time under the fund's lock: replayed in order, available
    # never went below zero at any point.
    available = 0
    for kind, amount in (
        LedgerEntry.objects.filter(fund=fund).order_by("pk").values_list("kind", "amount_pence")
    ):
        available += amount if kind == LedgerEntry.Kind.INCOME else -amount
        assert available >= 0
    assert LedgerEntry.objects.filter(fund=fund, kind=LedgerEntry.Kind.COMMITMENT).count() == 10
