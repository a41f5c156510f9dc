"""A family's signposts and referrals: its subject access export, and retention.

At anonymisation the free text goes (the note, the lead professional's name); the agency, the kind, the
dates and the outcome stay, as the trust's figures count them.
"""

import datetime
from typing import Any

from django.db.models import Max

from signposting.models import Signpost
from support.data_rights import ANONYMISED, iso, register_subject_access_section, username
from support.models import Family


def collect_signposts(family: Family) -> list[dict[str, Any]]:
    signposts = (
        Signpost.objects.filter(family=family)
        .select_related("agency", "school", "recorded_by", "consent_recorded_by", "outcome_by")
        .order_by("given_on", "pk")
    )
    return [
        {
            "id": signpost.pk,
            "kind": signpost.get_kind_display(),
            "agency": signpost.agency.name if signpost.agency else None,
            "school": signpost.school.name,
            "given_on": iso(signpost.given_on),
            "lead_professional": signpost.lead_professional,
            "note": signpost.note,
            "follow_up_on": iso(signpost.follow_up_on),
            "consent_given_on": iso(signpost.consent_given_on),
            "consent_method": signpost.get_consent_method_display() if signpost.consent_method else None,
            "consent_recorded_by": username(signpost.consent_recorded_by),
            "outcome": signpost.get_outcome_display() if signpost.outcome else None,
            "outcome_on": iso(signpost.outcome_on),
            "outcome_by": username(signpost.outcome_by),
            "recorded_at": iso(signpost.recorded_at),
            "recorded_by": username(signpost.recorded_by),
        }
        for signpost in signposts
    ]


def last_signpost_activity(family_ids: list[int]) -> dict[int, datetime.datetime]:
    rows = (
        Signpost.objects.filter(family_id__in=family_ids)
        .values("family_id")
        .annotate(latest=Max("updated_at"))
    )
    return {row["family_id"]: row["latest"] for row in rows}


def anonymise_signposts(family: Family) -> int:
    signposts = Signpost.objects.filter(family=family)
    signposts.exclude(lead_professional="").update(lead_professional=ANONYMISED)
    return signposts.exclude(note="").update(note=ANONYMISED)


def signpost_audit_subjects(family: Family) -> list:
    return [(Signpost, list(Signpost.objects.filter(family=family).values_list("pk", flat=True)))]


def register() -> None:
    register_subject_access_section(
        "signposts",
        collect_signposts,
        last_activity=last_signpost_activity,
        anonymise=anonymise_signposts,
        audit_subjects=signpost_audit_subjects,
    )
