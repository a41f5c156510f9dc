"""The transitions table of an ask (``Ask``), read by its services and its page::

waiting ─match─▶ matched;  matched ─match─▶ matched (a different family)
matched ─to-request | to-voucher | to-signpost | reply─▶ done
waiting | matched ─close─▶ closed (with a reason)
"""

from asks.models import Ask
from support.transitions import Move, Transitions

_A = Ask.Status

ASK_FLOW = Transitions(
    Ask,
    field="status",
    initial=_A.WAITING,
    noun="ask",
    moves=[
        Move("match", (_A.WAITING, _A.MATCHED), (_A.MATCHED,), "asks.decide", "matched", lead=True),
        Move("to-request", (_A.MATCHED,), (_A.DONE,), "asks.decide", "turned into a request", lead=True),
        Move("to-voucher", (_A.MATCHED,), (_A.DONE,), "asks.decide", "turned into a voucher", lead=True),
        Move("to-signpost", (_A.MATCHED,), (_A.DONE,), "asks.decide", "turned into a signpost", lead=True),
        Move("reply", (_A.MATCHED,), (_A.DONE,), "asks.decide", "answered", lead=True),
        Move("close", (_A.WAITING, _A.MATCHED), (_A.CLOSED,), "asks.decide", "closed", lead=True),
    ],
)
