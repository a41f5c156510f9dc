"""A referral's transitions table (``deliveries.transitions.REFERRAL_FLOW``) agrees with its services, its
page and its API: from each state the page shows the buttons the table gives, and the services and the API
move a referral only as the table allows."""

import datetime

import pytest
from django.utils import timezone

from deliveries import services
from deliveries.api import ReferralViewSet
from deliveries.models import Referral
from deliveries.transitions import REFERRAL_FLOW
from support.errors import ConflictError
from tests.deliveries.conftest import item

State = Referral.State
pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
BUTTONS = {
    "accept": "Accept with this date",
    "reschedule": "Change the date",
    "wait": "Put on the waiting list",
    "decline": "Decline</button>",
    "deliver": "Mark as delivered",
    "not-reached": "Mark as not reached",
    "cancel": "Cancel the referral</button>",
}


def _put(referral: Referral, state: str) -> Referral:
    extra = {"expected_on": TODAY} if state == State.ACCEPTED else {}
    if state in Referral.CLOSED:
        extra.update(delivery_address="", delivery_postcode="", delivery_phone="", access_notes="")
    Referral.objects.filter(pk=referral.pk).update(state=state, **extra)
    referral.refresh_from_db()
    return referral


@pytest.fixture
def cooker(refer, white_goods):
    return refer(item(white_goods, "Cooker"))[0]


def test_it_declares_only_the_designs_moves():
    assert REFERRAL_FLOW.edges() == {
        (State.NEW, State.ACCEPTED),
        (State.WAITING, State.ACCEPTED),
        (State.ACCEPTED, State.ACCEPTED),
        (State.NEW, State.WAITING),
        (State.NEW, State.DECLINED),
        (State.WAITING, State.DECLINED),
        (State.ACCEPTED, State.DELIVERED),
        (State.ACCEPTED, State.NOT_REACHED),
        (State.NEW, State.CANCELLED),
        (State.WAITING, State.CANCELLED),
        (State.ACCEPTED, State.CANCELLED),
    }
    for name in ("accept", "wait", "decline", "deliver", "not-reached", "cancel"):
        assert ReferralViewSet.permissions[name.replace("-", "_")] == REFERRAL_FLOW[name].permission


@pytest.mark.parametrize("state", State.values)
def test_the_page_shows_the_buttons_the_table_gives(state, cooker, client_for, charity_staff, pastoral_a):
    _put(cooker, state)
    charity = client_for(charity_staff).get(f"/deliveries/{cooker.pk}/").content.decode()
    school = client_for(pastoral_a).get(f"/deliveries/{cooker.pk}/").content.decode()
    open_moves = {m.name for m in REFERRAL_FLOW.moves_from(state)}
    for name, label in BUTTONS.items():
        by_charity = name in open_moves and name != "cancel"
        assert (label in charity) == by_charity, (state, name)
        assert (label in school) == (name == "cancel" and name in open_moves), (state, name)


@pytest.mark.parametrize("state", Referral.CLOSED)
def test_it_refuses_every_move_from_a_closed_state(state, cooker, charity_staff, pastoral_a, client_for):
    assert REFERRAL_FLOW.moves_from(state, manual=False) == []
    _put(cooker, state)
    with pytest.raises(ConflictError):
        services.referral_accept(
            referral=cooker, actor=charity_staff, expected_on=TODAY + datetime.timedelta(days=9)
        )
    with pytest.raises(ConflictError):
        services.referral_wait(referral=cooker, actor=charity_staff)
    with pytest.raises(ConflictError):
        services.referral_cancel(referral=cooker, actor=pastoral_a, reason="Late")
    answer = client_for(charity_staff).post(
        f"/api/v1/referrals/{cooker.pk}/not-reached/", {"note": "Tried"}, content_type="application/json"
    )
    assert answer.status_code == 409
    assert Referral.objects.get(pk=cooker.pk).state == state


def test_the_database_refuses_a_closed_referral_that_keeps_the_address(cooker):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Referral.objects.filter(pk=cooker.pk).update(state=State.DELIVERED)
