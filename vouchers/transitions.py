"""A voucher's transitions table, read by its services, its page and its API.

``issued ─redeem─▶ redeemed``, ``issued ─cancel─▶ cancelled``, ``issued ─expire─▶ expired`` (nightly,
and in effect at redemption once the date has passed); nothing else, and a redeemed voucher is redeemed
exactly once (each move is a conditional update on the state).
"""

from support.transitions import Move, Transitions
from vouchers.models import Voucher

_V = Voucher.State

VOUCHER_FLOW = Transitions(
    Voucher,
    field="state",
    initial=_V.ISSUED,
    noun="voucher",
    moves=[
        Move("redeem", (_V.ISSUED,), (_V.REDEEMED,), "vouchers.redeem", "redeemed"),
        Move("cancel", (_V.ISSUED,), (_V.CANCELLED,), "vouchers.cancel", "cancelled"),
        Move("expire", (_V.ISSUED,), (_V.EXPIRED,), doing="expired"),
    ],
)
