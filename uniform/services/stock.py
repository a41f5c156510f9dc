"""Uniform stock: receiving, adjusting and taking stock for a request; every movement append-only and
audited, under a row lock on the stock level."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F

from support.audit import audit_record
from support.errors import ConflictError, SupportError
from support.scopes import require_school
from uniform.models import (
    StockLevel,
    StockMovement,
    SupportRequest,
    UniformItem,
)
from uniform.sizes import check_item_size

# --- Stock -----------------------------------------------------------------------------------


def _locked_level(item: UniformItem, size: str) -> StockLevel:
    StockLevel.objects.get_or_create(item=item, size=size)
    return StockLevel.objects.select_for_update().get(item=item, size=size)


def _move(
    *,
    item: UniformItem,
    size: str,
    change: int,
    kind: str,
    note: str,
    actor: AbstractBaseUser,
    request: SupportRequest | None = None,
) -> StockMovement:
    level = _locked_level(item, size)
    if level.quantity + change < 0:
        label = f"{item.name}{' size ' + size if size else ''}"
        raise ConflictError(
            f"That would take {label} below zero: {level.quantity} in stock.", field="change", code="no_stock"
        )
    StockLevel.objects.filter(pk=level.pk).update(quantity=F("quantity") + change)
    movement = StockMovement.objects.create(
        item=item, size=size, change=change, kind=kind, note=note, by=actor, request=request
    )
    audit_record(
        actor=actor,
        action=f"stock.{kind}",
        subject=movement,
        before={"quantity": level.quantity},
        after={"quantity": level.quantity + change},
        note=note,
    )
    return movement


@transaction.atomic
def stock_receive(
    *, item: UniformItem, size: str, quantity: int, actor: AbstractBaseUser, note: str = ""
) -> StockMovement:
    """Record a delivery of ``quantity`` of ``item`` in ``size`` from the supplier."""
    require_school(actor, item.school_id)
    size = check_item_size(item, size, required=True)
    if quantity < 1:
        raise SupportError("Receive at least one.", field="quantity")
    if len(note.strip()) > 300:
        raise SupportError("Keep the note to 300 characters or fewer.", field="note")
    return _move(
        item=item, size=size, change=quantity, kind=StockMovement.Kind.RECEIPT, note=note.strip(), actor=actor
    )


@transaction.atomic
def stock_adjust(
    *, item: UniformItem, size: str, change: int, actor: AbstractBaseUser, note: str
) -> StockMovement:
    """Correct the stock of ``item`` in ``size`` by ``change`` (a count, a loss, a return), with a reason."""
    require_school(actor, item.school_id)
    size = check_item_size(item, size, required=True)
    if change == 0:
        raise SupportError("An adjustment changes the stock by at least one.", field="change")
    if not note.strip():
        raise SupportError("Say why the stock is being adjusted.", field="note")
    if len(note.strip()) > 300:
        raise SupportError("Keep the note to 300 characters or fewer.", field="note")
    return _move(
        item=item,
        size=size,
        change=change,
        kind=StockMovement.Kind.ADJUSTMENT,
        note=note.strip(),
        actor=actor,
    )


@transaction.atomic
def stock_take_for_request(*, request: SupportRequest, actor: AbstractBaseUser) -> StockMovement | None:
    """Take a request's item from stock (refused below zero). Nothing to take for coats and shoes
    without an item, or for items whose stock is not tracked."""
    item = request.item
    if item is None or not item.track_stock:
        return None
    require_school(actor, item.school_id)
    return _move(
        item=item,
        size=request.size,
        change=-request.quantity,
        kind=StockMovement.Kind.HANDOVER,
        note=f"For request {request.pk}",
        actor=actor,
        request=request,
    )
