"""Who sees which field of a referral (``support.visibility``'s table), registered at start-up.

The school sees its referrals whole. The charity sees what the delivery needs, shared with the family's
consent naming it: the carer's name, household counts, address, phone and access notes (erased when the
referral closes), the item and the outcome. Finance sees a referral only as money, through the ledger.
"""

from deliveries.models import CatalogueItem, DeliveredService, Referral
from support.models import Role
from support.visibility import EVERYONE, SCHOOL_STAFF, register_fields

BOTH = SCHOOL_STAFF | {Role.CHARITY}


def register() -> None:
    register_fields(
        DeliveredService,
        dict.fromkeys(("id", "voucher_type", "capacity_per_week", "paused_until", "pause_note"), BOTH),
    )
    register_fields(
        CatalogueItem, dict.fromkeys(("id", "service", "name", "value_pence", "is_active"), EVERYONE)
    )
    fields = (
        "id", "group", "service", "item", "value_pence", "school", "state", "lead_carer_name",
        "delivery_address", "delivery_postcode", "delivery_phone", "access_notes", "adults",
        "children_under_5", "children_5_to_11", "children_12_to_17", "created_at", "updated_at",
        "waiting_since", "expected_on", "decline_reason", "delivered_on", "delivered_what", "outcome_note",
        "closed_at",
    )  # fmt: skip
    register_fields(
        Referral,
        {
            **dict.fromkeys(fields, BOTH),
            # Which family record it is, and who at the school made it: the school's own business.
            "family": SCHOOL_STAFF,
            "created_by": SCHOOL_STAFF,
        },
    )
