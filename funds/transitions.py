"""The transitions table of a spend request, read by the approval services, finance's page and the API.

``pending ─approve─▶ approved`` (the last approval: two different approvers above the second threshold,
the first recorded without a move), ``pending ─send-back─▶ changes``, ``pending ─reject─▶ rejected``,
and ``pending ─withdraw─▶ withdrawn`` when the source's app takes the request back.
"""

from funds.models import SpendRequest
from support.transitions import Move, Transitions

_S = SpendRequest.Status

SPEND_FLOW = Transitions(
    SpendRequest,
    field="status",
    initial=_S.PENDING,
    noun="request",
    moves=[
        Move("approve", (_S.PENDING,), (_S.APPROVED,), "fund.approve", "approved"),
        Move("send-back", (_S.PENDING,), (_S.CHANGES,), "fund.approve", "sent back"),
        Move("reject", (_S.PENDING,), (_S.REJECTED,), "fund.approve", "rejected"),
        Move("withdraw", (_S.PENDING,), (_S.WITHDRAWN,), doing="withdrawn"),
    ],
)
