import datetime

import pytest

from support.fund import fund_donation_record, standby_fund
from support.models import Role
from tests.factories import make_user


@pytest.fixture(autouse=True)
def standby_money(db):
    """The standby fund has £1,000 in it, as it normally does: requests within the threshold are
    approved at once. Tests of a short fund give the school its own empty fund (``fund_for_school``).
    Recorded by a finance user of its own, so tests (and the demo) can still make ``finance``."""
    fund_donation_record(
        fund=standby_fund(),
        donor="Trustee",
        amount_pence=1_000_00,
        received_on=datetime.date.today(),
        gift_aid=False,
        actor=make_user("treasurer", Role.FINANCE),
    )
