"""The fund's rows in the field-visibility table (``support.visibility``): its books are finance's."""

from support.visibility import FINANCE, register_fields


def register() -> None:
    from funds.models import (
        Donation,
        Fund,
        GiftAidClaim,
        GiftAidClaimItem,
        GiftAidDeclaration,
        LedgerEntry,
        Pledge,
        SpendRequest,
    )

    # The fund's books are finance's (trust admins see everything anyway).
    register_fields(
        Fund, dict.fromkeys(("id", "name", "school", "is_active", "created_at", "position"), FINANCE)
    )
    ledger = (
        "id", "fund", "kind", "amount_pence", "category", "school", "note", "override_reason", "created_at",
        "created_by", "reverses", "kind_label", "balance_effect_pence", "committed_effect_pence",
        "category_label", "reverses_kind", "reversed_by", "reversible", "source",
        "date_from", "date_to", "year", "month", "occurred_on", "back_dated",
    )  # fmt: skip
    register_fields(LedgerEntry, dict.fromkeys(ledger, FINANCE))
    donation = (
        "id", "fund", "donor", "amount_pence", "received_on", "gift_aid", "sponsored", "gift_aid_state",
        "restricted_purpose",
        "restricted_purpose_label", "pledge", "recorded_by", "created_at", "entry", "is_reversed",
        "received_from", "received_to", "year",
    )  # fmt: skip
    register_fields(Donation, dict.fromkeys(donation, FINANCE))
    pledge = (
        "id", "fund", "donor", "amount_pence", "frequency", "next_due", "gift_aid", "restricted_purpose",
        "is_active", "last_received", "status", "created_at",
    )  # fmt: skip
    register_fields(Pledge, dict.fromkeys(pledge, FINANCE))
    spend = (
        "id", "fund", "school", "category", "category_label", "amount_pence", "summary", "reason",
        "status", "status_label", "requested_by", "requested_at", "approvals_needed", "first_approved_by",
        "first_approved_at", "waiting_for_second_approval", "decided_by", "decided_at", "decision_note",
        "override_reason", "commitment", "fund_available_pence", "available_after_pence", "source",
    )  # fmt: skip
    register_fields(SpendRequest, dict.fromkeys(spend, FINANCE))
    # Gift Aid: a declaration names the donor and their home address (personal data, HMRC's records):
    # finance only, never trustees or school staff.
    declaration = (
        "id", "donor", "title", "first_name", "last_name", "house", "address", "postcode", "declared_on",
        "covers_past", "covers_future", "covers_from", "covers_to", "cancelled_on", "cancel_reason",
        "cancelled_by", "recorded_by", "created_at", "updated_at", "anonymised_at", "is_cancelled",
    )  # fmt: skip
    register_fields(GiftAidDeclaration, dict.fromkeys(declaration, FINANCE))
    claim = (
        "id", "status", "status_label", "prepared_on", "prepared_by", "donations_pence", "gift_aid_pence",
        "adjustment_pence", "net_pence", "adjustments", "submitted_on", "submitted_by", "hmrc_reference",
        "paid_on", "paid_by", "withdrawn_reason", "created_at", "updated_at", "items", "count",
    )  # fmt: skip
    register_fields(GiftAidClaim, dict.fromkeys(claim, FINANCE))
    item = (
        "id", "claim", "donation", "declaration", "amount_pence", "gift_aid_pence", "released", "adjusted_in",
    )  # fmt: skip
    register_fields(GiftAidClaimItem, dict.fromkeys(item, FINANCE))
