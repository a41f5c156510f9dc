"""Who sees which field of the agency directory and of signposts (``support.visibility``'s table).

The directory is for school staff. Which family went to which agency, why and with what consent is the
school's case: school staff only (finance, charity staff and trustees see none of it).
"""

from signposting.models import Agency, Signpost
from support.visibility import SCHOOL_STAFF, register_fields


def register() -> None:
    agency = (
        "id", "name", "helps_with", "who_can_use", "how_to_contact", "how_to_refer", "phone", "email",
        "website", "areas", "schools", "safeguarding", "is_active",
    )  # fmt: skip
    register_fields(Agency, dict.fromkeys(agency, SCHOOL_STAFF))
    signpost = (
        "id", "family", "school", "agency", "kind", "given_on", "lead_professional", "note", "follow_up_on",
        "consent_given_on", "consent_method", "consent_recorded_by", "consent_recorded_at", "outcome",
        "outcome_on", "outcome_by", "recorded_by", "recorded_at", "agency_name", "school_name",
    )  # fmt: skip
    register_fields(Signpost, dict.fromkeys(signpost, SCHOOL_STAFF))
