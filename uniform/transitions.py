"""The transitions tables of uniform's stateful models, read by the services, the pages and the API.

A coat, shoe or uniform request (``SupportRequest``)::

    requested ─approve─▶ approved | finance      (the cost decides: committed, or finance decides)
    finance ─(finance's decision)─▶ approved | rejected | changes
    changes ─revise─▶ requested | approved | finance
    approved ─ordered─▶ ordered;  approved ─from-stock | from-secondhand─▶ from stock
    ordered | from stock ─handed-over─▶ handed over
    requested | finance | changes | approved ─reject─▶ rejected

A welcome pack (``Gift``): awaiting sizes ⇄ sized (as sizes are recorded), sized ─pack─▶ packed,
packed ─hand-over─▶ handed over.
"""

from support.transitions import Move, Transitions
from uniform.models import Gift, SupportRequest

_R = SupportRequest.Status

REQUEST_FLOW = Transitions(
    SupportRequest,
    field="status",
    initial=_R.REQUESTED,
    noun="request",
    moves=[
        # The manual moves, in the order their buttons show.
        Move(
            "approve",
            (_R.REQUESTED,),
            (_R.APPROVED, _R.AWAITING_FINANCE),
            "requests.decide",
            "approved",
            lead=True,
        ),
        Move(
            "revise",
            (_R.CHANGES,),
            (_R.REQUESTED, _R.APPROVED, _R.AWAITING_FINANCE),
            "requests.create",
            "changed",
        ),
        # Offered first when second-hand stock in the size is there: the fund is then charged nothing.
        Move("from-secondhand", (_R.APPROVED,), (_R.FROM_STOCK,), "requests.fulfil", "met second-hand"),
        Move("ordered", (_R.APPROVED,), (_R.ORDERED,), "requests.fulfil", "ordered"),
        Move("from-stock", (_R.APPROVED,), (_R.FROM_STOCK,), "requests.fulfil", "taken from stock"),
        Move("handed-over", (_R.ORDERED, _R.FROM_STOCK), (_R.HANDED_OVER,), "requests.fulfil", "handed over"),
        Move(
            "reject",
            (_R.REQUESTED, _R.APPROVED, _R.AWAITING_FINANCE, _R.CHANGES),
            (_R.REJECTED,),
            "requests.decide",
            "rejected",
            lead=True,
        ),
        # The system's moves: a request within policy routed as it is made, and finance's decisions.
        Move("route", (_R.REQUESTED,), (_R.APPROVED, _R.AWAITING_FINANCE), doing="sent on"),
        Move("finance-approved", (_R.AWAITING_FINANCE,), (_R.APPROVED,), doing="approved"),
        Move("finance-rejected", (_R.AWAITING_FINANCE,), (_R.REJECTED,), doing="rejected"),
        Move("finance-sent-back", (_R.AWAITING_FINANCE,), (_R.CHANGES,), doing="sent back"),
    ],
)

_G = Gift.Status

GIFT_FLOW = Transitions(
    Gift,
    field="status",
    initial=_G.AWAITING_SIZES,
    noun="pack",
    moves=[
        Move("pack", (_G.SIZED,), (_G.PACKED,), "uniform.hand_over", "packed"),
        Move("hand-over", (_G.PACKED,), (_G.HANDED_OVER,), "uniform.hand_over", "handed over"),
        # Recording sizes moves a gift between these two, by itself (``gift_record_sizes``).
        Move("sized", (_G.AWAITING_SIZES,), (_G.SIZED,), doing="sized"),
        Move("unsized", (_G.SIZED,), (_G.AWAITING_SIZES,), doing="resized"),
    ],
)
