import datetime

import pytest

from funds.services.ledger import fund_donation_record, standby_fund
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


def make_outdoor_item(school, kind: str, *, cost: int | None = None, name: str | None = None):
    """A school's coat (sized by age and letter) or shoes (Child/Adult sizes), as a lead sets them up."""
    from uniform.models import ItemKind, UniformItem
    from uniform.sizes import CLOTHES_SIZES, SHOE_SIZES

    coat = kind == ItemKind.COAT
    return UniformItem.objects.create(
        school=school,
        kind=kind,
        name=name or ("Winter coat" if coat else "School shoes"),
        sizes=CLOTHES_SIZES if coat else SHOE_SIZES,
        unit_cost_pence=cost if cost is not None else (22_00 if coat else 24_00),
        track_stock=False,
    )


@pytest.fixture
def coat_a(school_a):
    return make_outdoor_item(school_a, "coat")


@pytest.fixture
def shoes_a(school_a):
    return make_outdoor_item(school_a, "shoes")


@pytest.fixture
def coat_b(school_b):
    return make_outdoor_item(school_b, "coat")


@pytest.fixture
def shoes_b(school_b):
    return make_outdoor_item(school_b, "shoes")
