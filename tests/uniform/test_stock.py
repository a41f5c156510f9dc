"""Stock: receipts and adjustments are append-only movements; the level never goes below zero."""

import pytest
from django.core.exceptions import ValidationError

from support.errors import ConflictError, SupportError
from support.models import AuditEvent
from tests.uniform.test_gifts_fixtures import jumper_a
from uniform.models import StockLevel, StockMovement
from uniform.services import stock as stock_services

FIXTURES = jumper_a  # pytest finds these by name
pytestmark = pytest.mark.django_db


def test_it_receives_stock_and_keeps_the_level_beside_the_movements(pastoral_a, jumper_a):
    stock_services.stock_receive(item=jumper_a, size="5-6", quantity=10, actor=pastoral_a, note="Order 42")
    stock_services.stock_receive(item=jumper_a, size="5-6", quantity=5, actor=pastoral_a)
    assert StockLevel.objects.get(item=jumper_a, size="5-6").quantity == 15
    assert sorted(StockMovement.objects.values_list("change", flat=True)) == [5, 10]
    assert AuditEvent.objects.filter(action="stock.receipt", before__quantity=10, after__quantity=15).exists()


def test_it_adjusts_stock_with_a_reason_and_never_below_zero(pastoral_a, jumper_a):
    stock_services.stock_receive(item=jumper_a, size="3-4", quantity=3, actor=pastoral_a)
    with pytest.raises(SupportError, match="Say why"):
        stock_services.stock_adjust(item=jumper_a, size="3-4", change=-1, actor=pastoral_a, note=" ")
    stock_services.stock_adjust(
        item=jumper_a, size="3-4", change=-2, actor=pastoral_a, note="Counted: 1 left"
    )
    with pytest.raises(ConflictError, match="below zero: 1 in stock"):
        stock_services.stock_adjust(item=jumper_a, size="3-4", change=-2, actor=pastoral_a, note="Lost")
    assert StockLevel.objects.get(item=jumper_a, size="3-4").quantity == 1
    assert StockMovement.objects.filter(kind=StockMovement.Kind.ADJUSTMENT).count() == 1


def test_it_refuses_sizes_the_item_does_not_come_in_and_empty_receipts(pastoral_a, jumper_a):
    with pytest.raises(SupportError, match="comes in"):
        stock_services.stock_receive(item=jumper_a, size="XL", quantity=1, actor=pastoral_a)
    with pytest.raises(SupportError, match="at least one"):
        stock_services.stock_receive(item=jumper_a, size="3-4", quantity=0, actor=pastoral_a)
    assert not StockMovement.objects.exists()


def test_it_keeps_movements_append_only(pastoral_a, jumper_a):
    movement = stock_services.stock_receive(item=jumper_a, size="3-4", quantity=2, actor=pastoral_a)
    movement.note = "edited"
    with pytest.raises(ValidationError):
        movement.save()
    with pytest.raises(ValidationError):
        movement.delete()


def test_it_lets_only_staff_of_the_school_move_stock(pastoral_b, finance, jumper_a):
    for user in (pastoral_b, finance):
        with pytest.raises(SupportError, match="Only staff"):
            stock_services.stock_receive(item=jumper_a, size="3-4", quantity=2, actor=user)
    assert not StockLevel.objects.exists()


def test_it_takes_a_uniform_request_from_stock_and_refuses_without_enough(school_a, lead_a, pastoral_a):
    from support.errors import ConflictError
    from support.services import pupil_set_in_need
    from tests.factories import FamilyFactory, PupilFactory
    from uniform.models import StockLevel, StockMovement, SupportRequest, UniformItem
    from uniform.services.requests import request_approve, request_create, request_mark_from_stock
    from uniform.services.stock import stock_receive

    item = UniformItem.objects.create(
        school=school_a, name="Sweatshirt", sizes=["5-6", "7-8"], unit_cost_pence=900
    )
    pupil = PupilFactory(school=school_a, family=FamilyFactory())
    pupil_set_in_need(pupil=pupil, actor=pastoral_a, in_need=True, reason="Joined mid-year")

    def approved():
        made = request_create(
            pupil=pupil,
            kind="uniform",
            item=item,
            size="5-6",
            reason="No sweatshirt",
            urgency="routine",
            actor=pastoral_a,
        )
        if made.status != SupportRequest.Status.APPROVED:
            made = request_approve(request=made, actor=lead_a, reason="Needed")
        return made

    first = approved()
    with pytest.raises(ConflictError, match="below zero"):
        request_mark_from_stock(request=first, actor=pastoral_a)
    first.refresh_from_db()
    assert first.status == SupportRequest.Status.APPROVED  # nothing changed

    stock_receive(item=item, size="5-6", quantity=1, actor=pastoral_a)
    request_mark_from_stock(request=first, actor=pastoral_a)
    first.refresh_from_db()
    assert first.status == SupportRequest.Status.FROM_STOCK
    assert StockLevel.objects.get(item=item, size="5-6").quantity == 0
    assert StockMovement.objects.get(request=first).change == -1
