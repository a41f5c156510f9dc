"""The safeguarding boundary: concerns about a child's safety belong with the school's designated
safeguarding lead (DSL) and its safeguarding system, never in a note here.

This module holds the one wording of the guidance shown beside every free-text note, the one length
rule for those notes, the schools' DSL names, and the record that a concern was passed on (who passed it,
to which lead, when: never the concern itself).
"""

import datetime
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from support.audit import audit_record, changed, snapshot
from support.errors import SupportError
from support.models import Pupil, SafeguardingReferral, School
from support.people import person_name
from support.scopes import require_school, scope_for

# Notes staff type about a family or pupil are short on purpose: long notes become case files.
NOTE_MAX_LENGTH = 300

# Who sees each kind of note, in the guidance's words.
SEEN_BY_AUDIT = "trust admins, in the audit log"
SEEN_BY_SCHOOL = "staff at this school and trust admins"
SEEN_BY_CHARITY = "the partner charity when it checks the voucher, and staff at this school"
SEEN_BY_LEADS = "pastoral leads at both families' schools and trust admins"
SEEN_BY = {
    "audit": SEEN_BY_AUDIT,
    "school": SEEN_BY_SCHOOL,
    "charity": SEEN_BY_CHARITY,
    "leads": SEEN_BY_LEADS,
}


def lead_names(schools: School | Iterable[School] | None) -> str:
    """The DSL names of ``schools`` in words: "Ann Lee, deputy Bo Ray" (per school when several)."""
    if isinstance(schools, School):
        schools = [schools]
    schools = list(schools or [])
    if not schools:
        return "not yet recorded here: ask a pastoral lead"
    parts = []
    for school in schools:
        names = dict(school.safeguarding_leads)
        if not names:
            words = "not yet recorded here: ask a pastoral lead"
        elif "lead" in names and "deputy" in names:
            words = f"{names['lead']}, deputy {names['deputy']}"
        else:
            words = names.get("lead") or f"deputy {names['deputy']}"
        parts.append(f"{school.name}: {words}" if len(schools) > 1 else words)
    return "; ".join(parts)


def guidance(*, seen_by: str, schools: School | Iterable[School] | None = None) -> str:
    """The hint beside every free-text note about a family or pupil, on the page and in the API schema.

    Pages pass the schools concerned so the hint names their leads; the API schema, shared by every
    school, says "your school's" instead.
    """
    lead = (
        "your school's designated safeguarding lead"
        if schools is None
        else f"your designated safeguarding lead ({lead_names(schools)})"
    )
    return (
        f"Record concerns about a child's safety in your safeguarding system and tell {lead}. "
        # Every note is in the family's subject access export, so the family can read it too.
        f"This note is seen by {seen_by}, and by the family if they ask for a copy of their data. "
        f"At most {NOTE_MAX_LENGTH} characters."
    )


def note_clean(note: str, *, field: str = "note", max_length: int = NOTE_MAX_LENGTH) -> str:
    """A note with its spacing tidied, refused (SupportError on ``field``) when it is too long."""
    note = " ".join((note or "").split())
    if len(note) > max_length:
        raise SupportError(
            f"Keep the note to {max_length} characters or fewer (it has {len(note)}). Concerns about a "
            "child's safety go to your designated safeguarding lead, not here.",
            field=field,
        )
    return note


# --- Who the safeguarding leads are -------------------------------------------------------------


@transaction.atomic
def school_safeguarding_leads_set(
    *, school: School, actor: AbstractBaseUser, lead: str, deputy: str = ""
) -> School:
    """A pastoral lead of ``school`` (or a trust admin) records who its safeguarding leads are."""
    require_school(actor, school, lead=True)
    lead = " ".join((lead or "").split())
    deputy = " ".join((deputy or "").split())
    if not lead:
        raise SupportError("Enter the designated safeguarding lead's name.", field="lead")
    for field, value in (("lead", lead), ("deputy", deputy)):
        if len(value) > 120:
            raise SupportError("Keep the name to 120 characters or fewer.", field=field)
    school = School.objects.select_for_update().get(pk=school.pk)
    fields = ("safeguarding_lead", "safeguarding_deputy")
    before = snapshot(school, fields)
    school.safeguarding_lead, school.safeguarding_deputy = lead, deputy
    old, new = changed(before, snapshot(school, fields))
    if new:
        school.save(update_fields=list(fields))
        audit_record(
            actor=actor, action="school.safeguarding_leads_set", subject=school, before=old, after=new
        )
    return school


# --- "This may be a safeguarding concern" -------------------------------------------------------


def safeguarding_pupils_of(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Pupil]:
    """Pupils whose safeguarding referrals ``user`` may record and see: staff of the pupil's own school
    only. Trust admins, finance and charity staff are not the school's staff, so they get none."""
    scope = scope_for(user)
    return Pupil.objects.filter(school_id__in=scope.school_ids)


@transaction.atomic
def safeguarding_referral_record(
    *,
    pupil: Pupil,
    actor: AbstractBaseUser,
    lead_kind: str = SafeguardingReferral.LeadKind.LEAD,
    now: datetime.datetime | None = None,
) -> SafeguardingReferral:
    """Record that ``actor`` passed a possible concern about ``pupil`` to one of the school's safeguarding
    leads. It takes no words about the concern, on purpose: only who, to whom, and when."""
    now = now or timezone.now()
    if pupil.school_id not in scope_for(actor).school_ids:
        raise SupportError(
            f"Only staff at {pupil.school.name} can pass on a concern about this pupil.", code="forbidden"
        )
    school = School.objects.get(pk=pupil.school_id)
    leads = dict(school.safeguarding_leads)
    if not leads:
        raise SupportError(
            f"{school.name} has not recorded its designated safeguarding lead here. Tell your safeguarding "
            "lead in person now, and ask a pastoral lead to record their name.",
            field="lead_kind",
        )
    if lead_kind not in leads:
        raise SupportError("Choose which safeguarding lead you told.", field="lead_kind")
    referral = SafeguardingReferral.objects.create(
        pupil=pupil,
        school=school,
        passed_by=actor,
        passed_by_name=person_name(actor)[:150],
        lead_kind=lead_kind,
        lead_name=leads[lead_kind],
        passed_at=now,
    )
    audit_record(
        actor=actor,
        action="pupil.safeguarding_referred",
        subject=pupil,
        after={
            "referral": referral.pk,
            "school": school.pk,
            "lead_kind": lead_kind,
            "lead_name": leads[lead_kind],
        },
    )
    return referral
