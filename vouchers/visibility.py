"""Who sees which field of a voucher (``support.visibility``'s table), registered at start-up.

A voucher shows the counter what the family agreed it would: the lead carer's name, household size,
dietary needs, the note for the charity, the issuing school and expiry. Finance sees the voucher as
money (code, service, school, state, value, dates), never whose it is or why it was given.
"""

from support.models import Role
from support.visibility import EVERYONE, MONEY, SCHOOL_STAFF, Reads, register_fields
from vouchers.models import PartnerStatement, Redemption, Voucher, VoucherSend, VoucherType

COUNTER = frozenset({Role.CHARITY})


def register() -> None:
    register_fields(
        VoucherType,
        dict.fromkeys(("id", "name", "partner", "service", "face_value_pence", "is_active"), EVERYONE),
    )
    money = (
        "id", "state", "voucher_type", "school", "face_value_pence", "issued_at", "expires_on",
        "household_size", "fulfilment", "issued_from", "issued_to", "expires_from", "expires_to",
    )  # fmt: skip
    case = (
        "family", "referral_reason", "referral_other", "limit_override_reason", "cancel_reason",
        # How the family gets it and what was sent where: addresses are the school's, not the counter's.
        "delivery", "sends",
    )  # fmt: skip
    register_fields(
        Voucher,
        {
            **dict.fromkeys(money, MONEY | COUNTER),
            **dict.fromkeys(case, SCHOOL_STAFF),
            "code": MONEY | COUNTER,
            "display_code": Reads("code"),
            "partner": Reads("voucher_type__partner"),
            # What the voucher shows at the counter, and to no one else but the school.
            "lead_carer_name": SCHOOL_STAFF | COUNTER,
            "dietary_needs": SCHOOL_STAFF | COUNTER,
            "note_for_charity": SCHOOL_STAFF | COUNTER,
            # The family's language only (so the counter can greet them), nothing else of the family.
            "family_language": SCHOOL_STAFF | COUNTER,
            # The counter's check: whether it can be redeemed, and why not.
            "valid": Reads("state", "expires_on"),
            "reason": Reads("state", "expires_on"),
            # A valid voucher whose service has stopped: honour it (item 7).
            "notice": Reads("state", "expires_on", "voucher_type__service"),
            "service": Reads("voucher_type__service"),
            # The list's search: by code for whoever sees codes; by the carer's name only for those who
            # see it (vouchers.selectors.voucher_search asks again). And the boxes ticked on a page.
            "q": Reads("code"),
            "voucher": Reads("id"),
        },
    )
    sends = ("kind", "channel", "address", "requested_by", "requested_at", "status", "sent_at", "note")
    register_fields(VoucherSend, dict.fromkeys(sends, SCHOOL_STAFF))
    redemption = ("id", "voucher", "partner", "redeemed_by", "redeemed_at", "items_given", "value_pence")
    register_fields(Redemption, dict.fromkeys(redemption, EVERYONE))
    # A partner's monthly statement: the list is scoped to the partners a user sees
    # (``statements_visible_to``), so its partner and month are no secret to those who see the row.
    register_fields(PartnerStatement, dict.fromkeys(("id", "partner", "month"), EVERYONE))
