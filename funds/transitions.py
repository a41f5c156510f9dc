"""The transitions tables of a spend request and of a Gift Aid claim, read by their services, finance's
pages and the API.

``pending ─approve─▶ approved`` (the last approval: two different approvers above the second threshold,
the first recorded without a move), ``pending ─send-back─▶ changes``, ``pending ─reject─▶ rejected``,
and ``pending ─withdraw─▶ withdrawn`` when the source's app takes the request back.
"""

from funds.models import GiftAidClaim, SpendRequest
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


_C = GiftAidClaim.Status

# ``prepared ─submit─▶ submitted ─pay─▶ paid``; ``prepared ─withdraw─▶ withdrawn`` frees its donations.
GIFT_AID_CLAIM_FLOW = Transitions(
    GiftAidClaim,
    field="status",
    initial=_C.PREPARED,
    noun="claim",
    moves=[
        Move("submit", (_C.PREPARED,), (_C.SUBMITTED,), "giftaid.manage", "submitted"),
        Move("pay", (_C.SUBMITTED,), (_C.PAID,), "giftaid.manage", "marked paid"),
        Move("withdraw", (_C.PREPARED,), (_C.WITHDRAWN,), "giftaid.manage", "withdrawn"),
    ],
)
