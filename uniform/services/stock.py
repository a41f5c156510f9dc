"""Uniform stock: receiving (new from the supplier, or donated second-hand), adjusting and taking stock for
a request; every movement append-only and audited, under a row lock on the stock level.

Stock is counted per item, size and condition: new, or second-hand (as new, good, worn). Second-hand
stock was donated, so it costs the fund nothing: a hand-over from it records what it saved (the item's
unit cost new) on the movement, which is what ``uniform.selectors.secondhand_savings`` adds up."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F

from support.audit import audit_record
from support.errors import ConflictError, SupportError
from support.scopes import require_school
from uniform.models import (
    SECONDHAND,
    Condition,
    StockLevel,
    StockMovement,
    SupportRequest,
    UniformItem,
)
from uniform.sizes import check_item_size

# --- Stock -----------------------------------------------------------------------------------


def _locked_level(item: UniformItem, size: str, condition: str = Condition.NEW) -> StockLevel:
    StockLevel.objects.get_or_create(item=item, size=size, condition=condition)
    return StockLevel.objects.select_for_update().get(item=item, size=size, condition=condition)


def secondhand_in_stock(*, item: UniformItem, size: str) -> dict[str, int]:
    """How many of ``item`` in ``size`` are in second-hand stock, per condition (best first)."""
    have = dict(
        StockLevel.objects.filter(item=item, size=size, condition__in=SECONDHAND, quantity__gt=0).values_list(
            "condition", "quantity"
        )
    )
    return {condition: have[condition] for condition in SECONDHAND if condition in have}


def secondhand_condition_for(*, item: UniformItem, size: str, quantity: int) -> str | None:
    """The best condition of second-hand stock that has ``quantity`` of ``item`` in ``size``; None if none."""
    for condition, count in secondhand_in_stock(item=item, size=size).items():
        if count >= quantity:
            return condition
    return None


def _move(
    *,
    item: UniformItem,
    size: str,
    change: int,
    kind: str,
    note: str,
    actor: AbstractBaseUser,
    request: SupportRequest | None = None,
    condition: str = Condition.NEW,
    saved_pence: int = 0,
) -> StockMovement:
    level = _locked_level(item, size, condition)
    if level.quantity + change < 0:
        label = f"{item.name}{' size ' + size if size else ''}"
        if condition != Condition.NEW:
            label += f" ({Condition(condition).label.lower()})"
        raise ConflictError(
            f"That would take {label} below zero: {level.quantity} in stock.", field="change", code="no_stock"
        )
    StockLevel.objects.filter(pk=level.pk).update(quantity=F("quantity") + change)
    movement = StockMovement.objects.create(
        item=item,
        size=size,
        condition=condition,
        change=change,
        kind=kind,
        note=note,
        by=actor,
        request=request,
        saved_pence=saved_pence,
    )
    after: dict = {"quantity": level.quantity + change}
    if condition != Condition.NEW:
        after.update(condition=condition, saved_pence=saved_pence)
    audit_record(
        actor=actor,
        action=f"stock.{kind}",
        subject=movement,
        before={"quantity": level.quantity},
        after=after,
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
def stock_donation_receive(
    *, item: UniformItem, size: str, quantity: int, condition: str, actor: AbstractBaseUser, note: str = ""
) -> StockMovement:
    """Take ``quantity`` of donated second-hand ``item`` in ``size`` and ``condition`` into stock.

    It costs the fund nothing (no ledger entry); it is offered before new stock when a request or a pack
    that allows second-hand is fulfilled. Staff at the item's school only.
    """
    require_school(actor, item.school_id)
    size = check_item_size(item, size, required=True)
    if condition not in SECONDHAND:
        raise SupportError("Choose the condition it is in: as new, good or worn.", field="condition")
    if not 1 <= quantity <= 1000:
        raise SupportError("Take in between 1 and 1,000 at a time.", field="quantity")
    if len(note.strip()) > 300:
        raise SupportError("Keep the note to 300 characters or fewer.", field="note")
    return _move(
        item=item,
        size=size,
        change=quantity,
        kind=StockMovement.Kind.DONATION,
        note=note.strip(),
        actor=actor,
        condition=condition,
    )


@transaction.atomic
def stock_adjust(
    *,
    item: UniformItem,
    size: str,
    change: int,
    actor: AbstractBaseUser,
    note: str,
    condition: str = Condition.NEW,
) -> StockMovement:
    """Correct the stock of ``item`` in ``size`` (and ``condition``) by ``change`` (a count, a loss, a
    return), with a reason."""
    require_school(actor, item.school_id)
    size = check_item_size(item, size, required=True)
    if change == 0:
        raise SupportError("An adjustment changes the stock by at least one.", field="change")
    if not note.strip():
        raise SupportError("Say why the stock is being adjusted.", field="note")
    if len(note.strip()) > 300:
        raise SupportError("Keep the note to 300 characters or fewer.", field="note")
    if condition not in Condition.values:
        raise SupportError("Choose new or a second-hand condition.", field="condition")
    return _move(
        item=item,
        size=size,
        change=change,
        kind=StockMovement.Kind.ADJUSTMENT,
        note=note.strip(),
        actor=actor,
        condition=condition,
    )


@transaction.atomic
def stock_take_for_request(
    *, request: SupportRequest, actor: AbstractBaseUser, condition: str = Condition.NEW
) -> StockMovement | None:
    """Take a request's item from stock (refused below zero). Nothing to take for coats and shoes
    without an item, or for new items whose stock is not tracked. Second-hand stock is always counted,
    and taking from it records what it saved (the item's unit cost new × quantity)."""
    item = request.item
    secondhand = condition != Condition.NEW
    if item is None or not (item.track_stock or secondhand):
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
        condition=condition,
        saved_pence=item.unit_cost_pence * request.quantity if secondhand else 0,
    )
