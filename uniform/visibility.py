"""Who sees which field of uniform, gifts and requests (``support.visibility``'s table), at start-up.

Finance sees what support costs (items, packs, gifts and requests as money); which pupil a gift or a
request is for, and why a request was made or agreed, are school staff's.
"""

from support.visibility import MONEY, SCHOOL_STAFF, Reads, register_fields
from uniform.models import Gift, GiftLine, SupportRequest, UniformItem, WelcomePack, WelcomePackItem


def register() -> None:
    item = ("id", "school", "name", "kind", "sizes", "unit_cost_pence", "supplier", "track_stock")
    item += ("is_active", "branded", "required", "is_tie")
    register_fields(UniformItem, dict.fromkeys(item, MONEY))
    register_fields(WelcomePack, dict.fromkeys(("id", "school", "year_group", "promise_new", "items"), MONEY))
    register_fields(WelcomePackItem, dict.fromkeys(("id", "pack", "item", "quantity"), MONEY))
    register_fields(GiftLine, dict.fromkeys(("id", "gift", "item", "quantity", "size", "condition"), MONEY))
    gift = (
        "id", "school", "academic_year", "year_group", "status", "packed_at", "packed_by", "handed_over_at",
        "handed_over_by", "cost_pence", "lines", "created_at",
    )  # fmt: skip
    register_fields(
        Gift,
        {
            **dict.fromkeys(gift, MONEY),
            "pupil": SCHOOL_STAFF,
            "pupil_name": Reads("pupil__legal_forename", "pupil__preferred_forename", "pupil__surname"),
        },
    )
    money = (
        "id", "school", "kind", "item", "size", "quantity", "urgency", "period", "status", "beyond_policy",
        "cost_pence", "requested_by", "requested_at", "decided_by", "decided_at", "handed_over_by",
        "handed_over_at", "no_cost_reason",
    )  # fmt: skip
    register_fields(
        SupportRequest,
        {
            **dict.fromkeys(money, MONEY),
            # Whose it is, and why it was asked for or agreed: the school's case, not finance's.
            **dict.fromkeys(("pupil", "reason", "decision_reason"), SCHOOL_STAFF),
        },
    )
