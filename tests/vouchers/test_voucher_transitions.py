"""A voucher's transitions table (``vouchers.transitions.VOUCHER_FLOW``) agrees with its services, its
page and its API: from each state the cancel button shows, and the services move it, only as the table
allows."""

import datetime

import pytest
from rest_framework.test import APIClient

from support.errors import ConflictError
from vouchers.api import VoucherViewSet
from vouchers.models import Voucher
from vouchers.services import voucher_cancel, voucher_expire_due, voucher_redeem
from vouchers.transitions import VOUCHER_FLOW

State = Voucher.State
pytestmark = pytest.mark.django_db


def _put(voucher: Voucher, state: str) -> Voucher:
    extra = {"cancelled_at": voucher.issued_at, "cancel_reason": "x"} if state == State.CANCELLED else {}
    Voucher.objects.filter(pk=voucher.pk).update(state=state, **extra)
    voucher.refresh_from_db()
    return voucher


def test_it_declares_only_the_designs_moves():
    assert VOUCHER_FLOW.edges() == {
        (State.ISSUED, State.REDEEMED),
        (State.ISSUED, State.CANCELLED),
        (State.ISSUED, State.EXPIRED),
    }
    assert VoucherViewSet.permissions["cancel"] == VOUCHER_FLOW["cancel"].permission


@pytest.mark.parametrize("state", State.values)
def test_it_shows_the_cancel_button_only_where_the_table_allows(state, voucher, client_for, pastoral_a):
    _put(voucher, state)
    page = client_for(pastoral_a).get(f"/vouchers/{voucher.pk}/").content.decode()
    allowed = VOUCHER_FLOW["cancel"] in VOUCHER_FLOW.moves_from(state)
    assert ("Cancel voucher</button>" in page) == allowed


@pytest.mark.parametrize("state", [s for s in State.values if s != State.ISSUED])
def test_it_refuses_every_move_from_a_final_state(state, voucher, pastoral_a, partner_1, charity_staff):
    assert VOUCHER_FLOW.moves_from(state, manual=False) == []
    _put(voucher, state)
    with pytest.raises(ConflictError):
        voucher_cancel(voucher=voucher, actor=pastoral_a, reason="Late")
    with pytest.raises(ConflictError):
        voucher_redeem(voucher=voucher, partner=partner_1, redeemed_by=charity_staff, items_given="Tins")
    assert voucher_expire_due(today=voucher.expires_on + datetime.timedelta(days=1)) == 0
    api = APIClient()
    api.force_authenticate(pastoral_a)
    assert api.post(f"/api/v1/vouchers/{voucher.pk}/cancel/", {"reason": "Late"}).status_code == 409
    assert Voucher.objects.get(pk=voucher.pk).state == state
