"""Second-hand stock under real concurrency (CI's PostgreSQL pass): one donated blazer meets one request."""

import pytest

from support.errors import ConflictError
from tests.concurrency import storm
from tests.factories import PupilFactory, SchoolFactory, make_user
from tests.uniform.test_gifts_fixtures import make_item
from uniform.models import StockLevel, SupportRequest
from uniform.services.requests import request_create, request_mark_from_secondhand
from uniform.services.stock import stock_donation_receive

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_one_donated_blazer_meets_only_one_of_five_requests_met_at_once():
    school = SchoolFactory()
    staff = [make_user(f"pastoral_sh_{n}", "pastoral", schools=[school]) for n in range(5)]
    blazer = make_item(school, "Blazer", sizes=("11-12",), cost=30_00, track=False)
    stock_donation_receive(item=blazer, size="11-12", quantity=1, condition="good", actor=staff[0])
    requests = [
        request_create(
            pupil=PupilFactory(school=school, in_need=True), kind="uniform", item=blazer, size="11-12",
            reason="Outgrown", urgency="routine", actor=staff[0],
        )
        for _ in range(5)
    ]  # fmt: skip
    assert {r.status for r in requests} == {SupportRequest.Status.APPROVED}

    def meet(i: int) -> str:
        try:
            request_mark_from_secondhand(
                request=SupportRequest.objects.get(pk=requests[i].pk), actor=staff[i]
            )
        except ConflictError:
            return "conflict"
        return "met"

    assert sorted(storm(5, meet)) == ["conflict"] * 4 + ["met"]
    assert StockLevel.objects.get(item=blazer, condition="good").quantity == 0
    met = SupportRequest.objects.filter(cost_pence=0, status=SupportRequest.Status.FROM_STOCK)
    assert met.count() == 1
    assert SupportRequest.objects.filter(status=SupportRequest.Status.APPROVED, cost_pence=30_00).count() == 4
