"""A spend request's transitions table (``funds.transitions.SPEND_FLOW``) is the one truth: the services
refuse what it does not allow, finance's page shows exactly its buttons, and the API offers its moves
with its permissions."""

import pytest
from rest_framework.test import APIClient

from funds.api import SpendRequestViewSet
from funds.models import SpendRequest
from funds.services import approvals
from funds.services.ledger import fund_donation_record, standby_fund
from funds.transitions import SPEND_FLOW
from funds.web.approvals import DECISIONS
from support.errors import ConflictError
from tests.factories import FamilyFactory

Status = SpendRequest.Status
pytestmark = pytest.mark.django_db

BUTTONS = {
    "approve": "Approve and commit",
    "send-back": ">Send back for changes</button>",
    "reject": ">Reject</button>",
}
CALLS = {
    "approve": lambda r, actor: approvals.spend_request_approve(spend_request=r, actor=actor),
    "send-back": lambda r, actor: approvals.spend_request_send_back(spend_request=r, actor=actor, note="Why"),
    "reject": lambda r, actor: approvals.spend_request_reject(spend_request=r, actor=actor, note="Why"),
}


@pytest.fixture
def handler(monkeypatch):
    class Handler:
        def approved(self, source, *, actor, note):
            """A family has nothing to do when its spend request moves: the tests watch the request."""

        rejected = sent_back = approved

        def url(self, source) -> str:
            return f"/families/{source.pk}/"

    monkeypatch.setitem(approvals._HANDLERS, "support.family", Handler())


@pytest.fixture
def request_in(handler, finance, lead_a, school_a, today):
    fund = standby_fund()
    fund_donation_record(
        fund=fund, donor="Rotary", amount_pence=1000_00, received_on=today, gift_aid=False, actor=finance
    )

    def make(status: str) -> SpendRequest:
        opened = approvals.spend_request_open(
            fund=fund, source=FamilyFactory(), amount_pence=150_00, category="coat", school=school_a,
            summary="Coats", reason="Outgrown", actor=lead_a,
        )  # fmt: skip
        SpendRequest.objects.filter(pk=opened.pk).update(status=status, decision_note="Decided")
        opened.refresh_from_db()
        return opened

    return make


@pytest.fixture
def today():
    import datetime

    return datetime.date(2026, 11, 2)


def test_it_declares_every_move_the_page_and_the_api_name():
    manual = [m.name for m in SPEND_FLOW.moves.values() if m.manual]
    assert list(DECISIONS) == manual == list(BUTTONS) == list(CALLS)
    actions = {
        a.url_path: a.__name__ for a in SpendRequestViewSet.get_extra_actions() if a.url_path in manual
    }
    assert set(actions) == set(manual)
    for url_path, name in actions.items():
        assert SpendRequestViewSet.permissions[name] == SPEND_FLOW[url_path].permission


@pytest.mark.parametrize("status", Status.values)
def test_it_shows_finance_the_buttons_the_table_allows(status, request_in, client_for, finance):
    spend_request = request_in(status)
    page = client_for(finance).get(f"/finance/approvals/{spend_request.pk}/").content.decode()
    shown = [name for name, button in BUTTONS.items() if button in page]
    assert shown == [m.name for m in SPEND_FLOW.moves_from(status)]


@pytest.mark.parametrize("status", Status.values)
def test_it_refuses_every_move_the_table_does_not_allow(status, request_in, finance):
    spend_request = request_in(status)
    allowed = {m.name for m in SPEND_FLOW.moves_from(status)}
    api = APIClient()
    api.force_authenticate(finance)
    for name in sorted(set(CALLS) - allowed):
        with pytest.raises(ConflictError, match=r"^This request is .+, so it cannot be ") as refused:
            CALLS[name](SpendRequest.objects.get(pk=spend_request.pk), finance)
        assert refused.value.code == f"already_{status}"
        answer = api.post(f"/api/v1/spend-requests/{spend_request.pk}/{name}/", {"note": "Why"})
        assert (answer.status_code, answer.json()["code"]) == (409, f"already_{status}")
    assert SpendRequest.objects.get(pk=spend_request.pk).status == status
    # The source's app withdrawing it moves only a pending request; anything else is left as it is.
    source = spend_request.source_type.get_object_for_this_type(pk=spend_request.source_id)
    withdrawn = approvals.spend_request_withdraw(source=source, actor=finance, note="Taken back")
    assert (withdrawn is not None) == (
        "withdraw" in {m.name for m in SPEND_FLOW.moves_from(status, manual=False)}
    )


def test_it_records_a_first_approval_once_and_refuses_the_same_approver_twice(request_in, finance):
    spend_request = request_in(Status.PENDING)
    SpendRequest.objects.filter(pk=spend_request.pk).update(approvals_needed=2)
    first = approvals.spend_request_approve(spend_request=spend_request, actor=finance)
    assert (first.status, first.first_approved_by) == (Status.PENDING, finance)
    with pytest.raises(ConflictError) as same:
        approvals.spend_request_approve(spend_request=spend_request, actor=finance)
    assert same.value.code == "same_approver"
    assert SpendRequest.objects.get(pk=spend_request.pk).status == Status.PENDING
