"""Uniform's counts on home's "Waiting for you" (issue 15.3): a lead's requests to decide and welcome packs
waiting for sizes, the school staff's requests sent back by finance. Each counts only the user's schools
(school B's work is there too) and links to its queue, which lists exactly what was counted."""

import datetime
import re

import pytest
from django.urls import reverse

from funds.services.approvals import spend_request_for, spend_request_send_back
from support.dates import academic_year_start_for
from tests.factories import PupilFactory
from tests.http import work_on_home
from tests.uniform.factories import GiftFactory, UniformItemFactory
from uniform.models import Gift, ItemKind, SupportRequest
from uniform.services.requests import request_create

pytestmark = pytest.mark.django_db
Status = SupportRequest.Status


def _ask(school, staff, *, cost: int) -> SupportRequest:
    """A coat for a pupil in need at ``school``: free, it waits for a lead; over £100, for finance."""
    item = UniformItemFactory(school=school, kind=ItemKind.COAT, sizes=["7-8"], unit_cost_pence=cost)
    return request_create(
        pupil=PupilFactory(school=school, in_need=True),
        kind=ItemKind.COAT,
        item=item,
        size="7-8",
        reason="Outgrown",
        urgency=SupportRequest.Urgency.ROUTINE,
        actor=staff,
    )


def _sent_back(school, staff, finance) -> SupportRequest:
    request = _ask(school, staff, cost=150_00)
    assert request.status == Status.AWAITING_FINANCE
    spend_request_send_back(spend_request=spend_request_for(request), actor=finance, note="Fewer, please")
    request.refresh_from_db()
    assert request.status == Status.CHANGES
    return request


@pytest.fixture
def requests_at_both(school_a, school_b, pastoral_a, pastoral_b, finance):
    """School A: two requests for a lead, one sent back. School B: one for a lead, two sent back."""
    made = {
        "to_decide_a": [_ask(school_a, pastoral_a, cost=0) for _ in range(2)],
        "sent_back_a": [_sent_back(school_a, pastoral_a, finance)],
        "to_decide_b": [_ask(school_b, pastoral_b, cost=0)],
        "sent_back_b": [_sent_back(school_b, pastoral_b, finance) for _ in range(2)],
    }
    assert all(r.status == Status.REQUESTED for r in made["to_decide_a"] + made["to_decide_b"])
    return made


def _listed(client, url: str) -> set[int]:
    page = client.get(url).content.decode()
    return {int(pk) for pk in re.findall(r'href="/requests/(\d+)/"', page)}


def test_it_shows_a_lead_the_requests_to_decide_at_their_schools_only(client_for, lead_a, requests_at_both):
    client = client_for(lead_a)
    count, url = work_on_home(client)["Requests to decide"]
    assert count == 2
    assert url == reverse("support_request_queue")
    assert _listed(client, url) == {r.pk for r in requests_at_both["to_decide_a"]}


def test_it_shows_school_staff_the_requests_sent_back_to_their_schools_only(
    client_for, pastoral_a, pastoral_b, requests_at_both
):
    for staff, key in ((pastoral_a, "sent_back_a"), (pastoral_b, "sent_back_b")):
        client = client_for(staff)
        count, url = work_on_home(client)["Requests sent back for changes"]
        assert count == len(requests_at_both[key])
        assert url == "/requests/?status=changes"
        assert _listed(client, url) == {r.pk for r in requests_at_both[key]}


def test_pastoral_staff_have_no_requests_to_decide_and_finance_no_request_counts(
    client_for, pastoral_a, finance, requests_at_both
):
    assert "Requests to decide" not in work_on_home(client_for(pastoral_a))
    assert work_on_home(client_for(finance)) == {}


def test_a_decided_request_leaves_the_count(client_for, lead_a, requests_at_both):
    from uniform.services.requests import request_reject

    request_reject(request=requests_at_both["to_decide_a"][0], actor=lead_a, reason="Has one already")
    assert work_on_home(client_for(lead_a))["Requests to decide"][0] == 1


def test_it_shows_a_lead_this_years_packs_waiting_for_sizes_at_their_schools_only(
    client_for, lead_a, pastoral_a, school_a, school_b
):
    year = academic_year_start_for(datetime.date.today())
    waiting = [GiftFactory(school=school_a, academic_year=year) for _ in range(3)]
    GiftFactory(school=school_a, academic_year=year, status=Gift.Status.SIZED)
    GiftFactory(school=school_a, academic_year=year - 1)  # last year's: not this year's work
    for _ in range(2):
        GiftFactory(school=school_b, academic_year=year)
    client = client_for(lead_a)
    count, url = work_on_home(client)["Welcome packs waiting for sizes"]
    assert count == len(waiting) == 3
    assert url == f"{reverse('uniform_overview')}?year={year}"
    # The overview it opens counts the same packs in its "Waiting for sizes" column.
    overview = client.get(url).context["schools"]
    assert sum(row["awaiting"] for entry in overview for row in entry["classes"]) == 3
    # Recording sizes is pastoral work too, but the count is the lead's (issue 15.3).
    assert "Welcome packs waiting for sizes" not in work_on_home(client_for(pastoral_a))


def test_nothing_waiting_still_shows_the_queue_with_none(client_for, lead_a):
    work = work_on_home(client_for(lead_a))
    assert work["Requests to decide"][0] == 0
    page = client_for(lead_a).get(reverse("home")).content.decode()
    assert "None waiting" in page
