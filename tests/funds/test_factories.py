"""The fund's factories make rows the services would: a donation is income in the ledger."""

import pytest

from funds.models import LedgerEntry
from funds.selectors.positions import fund_position
from support.models import AuditEvent
from tests.funds.factories import DonationFactory, FundFactory, PledgeFactory, SpendRequestFactory

pytestmark = pytest.mark.django_db


def test_it_records_a_factory_donation_through_the_service():
    fund = FundFactory()
    donation = DonationFactory(fund=fund, amount_pence=12_34)
    assert fund_position(fund=fund).balance_pence == 12_34
    assert LedgerEntry.objects.get(fund=fund).kind == LedgerEntry.Kind.INCOME
    assert AuditEvent.objects.filter(action="donation.recorded", subject_id=str(donation.pk)).exists()


def test_it_makes_pledges_and_spend_requests_for_a_fund():
    fund = FundFactory(name="Hardship")
    assert PledgeFactory(fund=fund).fund == fund
    spend = SpendRequestFactory(fund=fund)
    assert spend.status == spend.Status.PENDING
    assert spend.requested_by.memberships.get().schools.get() == spend.school
