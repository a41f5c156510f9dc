"""A request's transitions table (``uniform.transitions.REQUEST_FLOW``) is the one truth: the services
refuse what it does not allow, the page shows exactly its buttons, and the API offers its moves with
its permissions."""

import re

import pytest
from rest_framework.test import APIClient

from support.errors import ConflictError
from tests.uniform.conftest import make_outdoor_item
from uniform.api_requests import SupportRequestViewSet
from uniform.models import ItemKind, SupportRequest
from uniform.services import requests as services
from uniform.services.stock import stock_donation_receive
from uniform.transitions import REQUEST_FLOW
from uniform.web.requests import STEPS

Status = SupportRequest.Status
pytestmark = pytest.mark.django_db

# The button each manual move shows on the request's page.
BUTTONS = {
    "approve": ">Approve</button>",
    "reject": ">Reject</button>",
    "revise": ">Change the request</a>",
    "ordered": ">Mark as ordered</button>",
    "from-stock": ">Take from stock</button>",
    "from-secondhand": ">Give second-hand: ",
    "handed-over": ">Mark as handed over</button>",
}
# How each door's service is called for a move (the web's and the API's are the same functions).
CALLS = {
    "approve": lambda r, actor: services.request_approve(request=r, actor=actor, reason="Needed"),
    "reject": lambda r, actor: services.request_reject(request=r, actor=actor, reason="Not needed"),
    "ordered": lambda r, actor: services.request_mark_ordered(request=r, actor=actor),
    "from-stock": lambda r, actor: services.request_mark_from_stock(request=r, actor=actor),
    "from-secondhand": lambda r, actor: services.request_mark_from_secondhand(request=r, actor=actor),
    "handed-over": lambda r, actor: services.request_hand_over(request=r, actor=actor),
    "revise": lambda r, actor: services.request_revise(
        request=r, actor=actor, size=r.size, reason="Changed", item=r.item
    ),
}


@pytest.fixture
def request_in(family_a, pastoral_a, school_a):
    """``request_in(status)``: a coat request put straight into ``status`` (the table is under test)."""
    pupil = family_a.pupils.get()
    pupil.in_need = True
    pupil.save(update_fields=["in_need"])
    coat = make_outdoor_item(school_a, ItemKind.COAT, cost=5000_00)  # above any threshold: a lead decides
    # Donated stock in its size, so the second-hand step is offered wherever the table allows it.
    stock_donation_receive(item=coat, size=coat.sizes[0], quantity=3, condition="good", actor=pastoral_a)

    def make(status: str) -> SupportRequest:
        created = services.request_create(
            pupil=pupil, kind=ItemKind.COAT, item=coat, size=coat.sizes[0], reason="Outgrown",
            urgency="routine", actor=pastoral_a,
        )  # fmt: skip
        SupportRequest.objects.filter(pk=created.pk).update(status=status, decision_reason="Decided")
        created.refresh_from_db()
        return created

    return make


def test_it_declares_every_move_the_page_and_the_api_name():
    manual = {m.name for m in REQUEST_FLOW.moves.values() if m.manual}
    assert set(STEPS) == manual == set(BUTTONS) == set(CALLS)
    for state in REQUEST_FLOW.states:  # every status is reachable, and only handed over and rejected end
        ends = not REQUEST_FLOW.moves_from(state, manual=False)
        assert ends == (state in {Status.HANDED_OVER, Status.REJECTED}), state


@pytest.mark.parametrize("status", Status.values)
def test_it_shows_the_buttons_the_table_allows_from_each_status(status, request_in, client_for, admin):
    support_request = request_in(status)
    page = client_for(admin).get(f"/requests/{support_request.pk}/").content.decode()
    shown = [name for name, button in BUTTONS.items() if button in page]
    assert sorted(shown) == sorted(m.name for m in REQUEST_FLOW.moves_from(status))


@pytest.mark.parametrize("status", Status.values)
def test_it_refuses_in_the_service_every_move_the_table_does_not_allow(status, request_in, admin):
    support_request = request_in(status)
    allowed = {m.name for m in REQUEST_FLOW.moves_from(status)}
    for name in sorted(set(CALLS) - allowed):
        with pytest.raises(ConflictError, match=r"^This request is .+, so it cannot be ") as refused:
            CALLS[name](SupportRequest.objects.get(pk=support_request.pk), admin)
        assert refused.value.code == f"already_{status}"
        assert SupportRequest.objects.get(pk=support_request.pk).status == status


@pytest.mark.parametrize("status", Status.values)
def test_it_refuses_in_the_api_every_move_the_table_does_not_allow(status, request_in, admin):
    support_request = request_in(status)
    api = APIClient()
    api.force_authenticate(admin)
    allowed = {m.name for m in REQUEST_FLOW.moves_from(status)}
    for name in ["approve", "reject", "ordered", "from-stock", "from-secondhand", "handed-over"]:
        if name in allowed:
            continue
        answer = api.post(f"/api/v1/support-requests/{support_request.pk}/{name}/", {"reason": "x"})
        assert (answer.status_code, answer.json()["code"]) == (409, f"already_{status}"), name
    assert SupportRequest.objects.get(pk=support_request.pk).status == status


def test_it_takes_the_api_permissions_from_the_table():
    actions = {action.url_path: action.__name__ for action in SupportRequestViewSet.get_extra_actions()}
    assert set(actions) <= {m.name for m in REQUEST_FLOW.moves.values() if m.manual}
    for url_path, name in actions.items():
        assert SupportRequestViewSet.permissions[name] == REQUEST_FLOW[url_path].permission


def test_it_lets_each_move_reach_only_its_own_targets(request_in, lead_a):
    support_request = request_in(Status.APPROVED)
    with pytest.raises(ValueError, match="does not lead to"):
        REQUEST_FLOW.claim(support_request, "ordered", target=Status.HANDED_OVER)
    with pytest.raises(ValueError, match="name the target"):
        REQUEST_FLOW.claim(support_request, "approve")
    assert SupportRequest.objects.get(pk=support_request.pk).status == Status.APPROVED
    assert re.match(r"^already_", REQUEST_FLOW.refusal(support_request, "approve").code)


# --- Welcome packs ----------------------------------------------------------------------------


def test_the_welcome_pack_table_is_the_designs():
    from uniform.models import Gift
    from uniform.transitions import GIFT_FLOW

    G = Gift.Status
    assert GIFT_FLOW.edges() == {
        (G.AWAITING_SIZES, G.SIZED),
        (G.SIZED, G.AWAITING_SIZES),
        (G.SIZED, G.PACKED),
        (G.PACKED, G.HANDED_OVER),
    }
    assert [m.name for m in GIFT_FLOW.moves_from(G.SIZED)] == ["pack"]
    assert [m.name for m in GIFT_FLOW.moves_from(G.PACKED)] == ["hand-over"]
    assert GIFT_FLOW.moves_from(G.HANDED_OVER, manual=False) == []


def test_a_table_refuses_a_move_from_a_state_it_does_not_know():
    from support.transitions import Move, Transitions

    with pytest.raises(ValueError, match="unknown states"):
        Transitions(
            SupportRequest, field="status", initial=Status.REQUESTED, moves=[Move("x", ("nope",), ())]
        )
    with pytest.raises(ValueError, match="declared twice"):
        Transitions(
            SupportRequest,
            field="status",
            initial=Status.REQUESTED,
            moves=[Move("x", (Status.REQUESTED,), ()), Move("x", (Status.REQUESTED,), ())],
        )
