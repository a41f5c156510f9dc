"""A referral's transitions table, read by its services, its pages and its API.

``new ─accept─▶ accepted``, ``new ─wait─▶ waiting``, ``waiting ─accept─▶ accepted``, ``new|waiting
─decline─▶ declined``, ``accepted ─deliver─▶ delivered``, ``accepted ─not-reached─▶ not reached``,
``new|waiting|accepted ─cancel─▶ cancelled`` (the school). An accepted referral can also be re-dated
(``accept`` again is refused: ``reschedule`` keeps the state). Delivered, declined, not reached and
cancelled are final: the address and phone are erased as the referral enters them.
"""

from deliveries.models import Referral
from support.transitions import Move, Transitions

_R = Referral.State

REFERRAL_FLOW = Transitions(
    Referral,
    field="state",
    initial=_R.NEW,
    noun="referral",
    moves=[
        Move("accept", (_R.NEW, _R.WAITING), (_R.ACCEPTED,), "deliveries.manage", "accepted"),
        Move("wait", (_R.NEW,), (_R.WAITING,), "deliveries.manage", "put on the waiting list"),
        Move("reschedule", (_R.ACCEPTED,), (_R.ACCEPTED,), "deliveries.manage", "given a new date"),
        Move("decline", (_R.NEW, _R.WAITING), (_R.DECLINED,), "deliveries.manage", "declined"),
        Move("deliver", (_R.ACCEPTED,), (_R.DELIVERED,), "deliveries.manage", "marked delivered"),
        Move("not-reached", (_R.ACCEPTED,), (_R.NOT_REACHED,), "deliveries.manage", "marked not reached"),
        Move("cancel", (_R.NEW, _R.WAITING, _R.ACCEPTED), (_R.CANCELLED,), "deliveries.cancel", "cancelled"),
    ],
)
