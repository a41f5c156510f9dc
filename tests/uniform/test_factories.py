"""The uniform factories: plain rows for set-up, the services for stock and requests."""

import pytest

from tests.uniform.factories import (
    GiftLineFactory,
    StockReceiptFactory,
    SupportRequestFactory,
    WelcomePackItemFactory,
)
from uniform.models import StockLevel, SupportRequest

pytestmark = pytest.mark.django_db


def test_it_fills_a_pack_and_a_gift_with_their_own_schools_items():
    line = WelcomePackItemFactory()
    assert line.item.school == line.pack.school
    gift_line = GiftLineFactory()
    assert gift_line.item.school == gift_line.gift.school == gift_line.gift.pupil.school


def test_it_receives_stock_through_the_service():
    movement = StockReceiptFactory(quantity=4)
    assert StockLevel.objects.get(item=movement.item, size="5-6").quantity == 4


def test_it_asks_for_a_coat_through_the_service():
    request = SupportRequestFactory()
    assert request.kind == "coat"
    assert request.cost_pence == request.item.unit_cost_pence
    assert request.status == SupportRequest.Status.APPROVED  # a lead asked, within the policy
