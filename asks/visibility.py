"""Who sees which field of an ask (``support.visibility``'s table): pastoral leads only (the selector
narrows them to their own schools); trust admins see everything. The link's code is public."""

from asks.models import Ask, AskLink
from support.models import Role
from support.visibility import ALL_ROLES, register_fields

LEADS = frozenset({Role.LEAD})


def register() -> None:
    fields = (
        "id", "school", "kind", "asker_name", "child_name", "child_year", "contact_way", "message",
        "language", "status", "family", "pupil", "matched_by", "matched_at", "outcome", "outcome_note",
        "outcome_ref", "decided_by", "decided_at", "created_at",
    )  # fmt: skip
    register_fields(Ask, dict.fromkeys(fields, LEADS))
    register_fields(AskLink, dict.fromkeys(("id", "school", "code", "is_active", "created_at"), ALL_ROLES))
