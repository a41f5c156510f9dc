"""Signposts and referrals to other agencies: record one, record its outcome, send the agency's sheet.

Every write is audited against the signpost (subject access finds it through ``data_rights``). A referral
shares the family's details with one named agency, so it needs the family's consent to share with that
agency, recorded with the date it was given, how, and by whom (as ``support.consents`` records consent
to share with a partner). A safeguarding service is never signposted or referred to here: those concerns
go to the school's designated safeguarding lead and the school's safeguarding system.
"""

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from signposting.models import Agency, Signpost
from signposting.sheet import agency_sheet_text
from support import safeguarding
from support.audit import audit_record, snapshot
from support.contacts import EMAIL, family_recipient
from support.errors import ConflictError, SupportError
from support.jobs import enqueue_on_commit
from support.models import Family, School
from support.models.consents import RECORDABLE_METHODS
from support.selectors import family_schools_visible_to

Kind, Outcome = Signpost.Kind, Signpost.Outcome

# What staff read to the lead carer before recording consent to a referral.
REFERRAL_CONSENT_WORDING = (
    "We would like to refer you to {agency}. To do that, we send {agency} your name and contact details "
    "and a short note of what you would like help with. Do you agree that we share these details with "
    "{agency}? You do not have to agree: we can give you their details to contact them yourself instead. "
    "You can change your mind at any time by telling the school."
)

# What the page and the API say instead of a referral form for a safeguarding service.
SAFEGUARDING_GUIDANCE = (
    "{agency} is a safeguarding service. A referral to it, or any concern that a child may be at risk, is "
    "not made or recorded here: tell your school's designated safeguarding lead now and record the concern "
    "in the school's safeguarding system. Do not seek the family's consent where seeking it could increase "
    "the risk to a child."
)

# How far ahead a follow-up may be set.
MAX_FOLLOW_UP_DAYS = 366
FIELDS = (
    "family", "school", "agency", "kind", "given_on", "lead_professional", "note", "follow_up_on",
    "consent_given_on", "consent_method", "outcome", "outcome_on",
)  # fmt: skip


def referral_consent_wording(agency: Agency) -> str:
    return REFERRAL_CONSENT_WORDING.format(agency=agency.name)


def safeguarding_guidance(agency: Agency) -> str:
    return SAFEGUARDING_GUIDANCE.format(agency=agency.name)


def agency_require_not_safeguarding(agency: Agency) -> None:
    """Refuse (SupportError, field ``agency``) a safeguarding service: the guidance is the message."""
    if agency.safeguarding:
        raise SupportError(safeguarding_guidance(agency), field="agency", code="safeguarding")


def agency_serves(agency: Agency, school: School) -> bool:
    """True when ``agency`` serves ``school``: it names that school, or names none (every school)."""
    served = list(agency.schools.values_list("pk", flat=True))
    return not served or school.pk in served


def _school_for(*, actor: AbstractBaseUser, family: Family, school: School | None) -> School:
    """The recording school: one of the actor's schools with a pupil of the family on its roll."""
    schools = list(family_schools_visible_to(actor, family).order_by("name"))
    if school is None:
        if len(schools) == 1:
            return schools[0]
        raise SupportError("Choose which of your schools is recording this.", field="school")
    if school.pk not in {s.pk for s in schools}:
        raise SupportError("Choose one of your schools with a pupil of this family.", field="school")
    return school


def _follow_up_check(
    follow_up_on: datetime.date | None, *, since: datetime.date, today: datetime.date
) -> None:
    if follow_up_on is None:
        return
    if follow_up_on < since:
        raise SupportError("The follow-up date cannot be before the day it was given.", field="follow_up_on")
    if follow_up_on > today + datetime.timedelta(days=MAX_FOLLOW_UP_DAYS):
        raise SupportError("Set a follow-up date within the next year.", field="follow_up_on")


def signpost_check(
    *,
    family: Family,
    kind: str,
    actor: AbstractBaseUser,
    agency: Agency | None = None,
    school: School | None = None,
    given_on: datetime.date | None = None,
    follow_up_on: datetime.date | None = None,
    note: str = "",
    lead_professional: str = "",
    consent_method: str = "",
    consent_given_on: datetime.date | None = None,
    today: datetime.date | None = None,
) -> dict:
    """Every rule of ``signpost_record``, writing nothing (the check page asks it first): the values to
    record, tidied, or a SupportError naming the field."""
    today = today or timezone.localdate()
    given_on = given_on or today
    if kind not in Kind.values:
        raise SupportError("Choose what you are recording.", field="kind")
    if family.merged_into_id:
        raise SupportError("This family was merged into another: record it on the kept family.")
    if agency is not None:
        if not agency.is_active:
            raise SupportError(f"{agency.name} is no longer in the trust's directory.", field="agency")
        agency_require_not_safeguarding(agency)
    elif kind in (Kind.SIGNPOST, Kind.REFERRAL):
        raise SupportError("Choose the agency.", field="agency")
    school = _school_for(actor=actor, family=family, school=school)
    if agency is not None and not agency_serves(agency, school):
        # The page offers only agencies serving the family's school; the API must not reach the others.
        raise SupportError(f"{agency.name} does not serve {school.name}.", field="agency")
    if given_on > today:
        raise SupportError("The date cannot be in the future.", field="given_on")
    _follow_up_check(follow_up_on, since=given_on, today=today)
    note = safeguarding.note_clean(note)
    lead_professional = " ".join((lead_professional or "").split())
    if len(lead_professional) > 120:
        raise SupportError("Keep the name to 120 characters or fewer.", field="lead_professional")
    if kind in (Kind.EARLY_HELP, Kind.TEAM_AROUND_FAMILY) and not lead_professional:
        raise SupportError("Enter the lead professional's name.", field="lead_professional")
    if kind == Kind.REFERRAL:
        if consent_method not in dict(RECORDABLE_METHODS):
            raise SupportError(
                f"Record how the carer agreed to their details being shared with {agency.name}: a referral "
                "needs their consent. Without it, signpost them instead.",
                field="consent_method",
                code="no_consent",
            )
        consent_given_on = consent_given_on or given_on
        if consent_given_on > today:
            raise SupportError(
                "The date consent was given cannot be in the future.", field="consent_given_on"
            )
    elif consent_method or consent_given_on:
        raise SupportError(
            "Only a referral shares the family's details: no consent is recorded for this.",
            field="consent_method",
        )
    return {
        "family": family,
        "school": school,
        "agency": agency,
        "kind": kind,
        "given_on": given_on,
        "lead_professional": lead_professional,
        "note": note,
        "follow_up_on": follow_up_on,
        "consent_given_on": consent_given_on if kind == Kind.REFERRAL else None,
        "consent_method": consent_method if kind == Kind.REFERRAL else "",
    }


@transaction.atomic
def signpost_record(*, actor: AbstractBaseUser, now: datetime.datetime | None = None, **given) -> Signpost:
    """Record that ``actor``'s school signposted or referred ``family`` to ``agency`` (or began an Early
    Help assessment or a team around the family), with an optional follow-up date. Takes the arguments of
    ``signpost_check``, which holds the rules.

    A referral needs ``consent_method`` (and ``consent_given_on``, else the day it was given): the family's
    consent to share with that named agency, recorded with who recorded it and when. A signpost shares
    nothing, so it takes no consent. A safeguarding service is refused with its guidance."""
    now = now or timezone.now()
    values = signpost_check(actor=actor, **given)
    referral = values["kind"] == Kind.REFERRAL
    signpost = Signpost.objects.create(
        **values,
        consent_recorded_by=actor if referral else None,
        consent_recorded_at=now if referral else None,
        recorded_by=actor,
        recorded_at=now,
    )
    audit_record(
        actor=actor,
        action=f"signpost.{signpost.kind}_recorded",
        subject=signpost,
        after=snapshot(signpost, FIELDS),
    )
    return signpost


@transaction.atomic
def signpost_outcome_record(
    *,
    signpost: Signpost,
    outcome: str,
    actor: AbstractBaseUser,
    follow_up_on: datetime.date | None = None,
    today: datetime.date | None = None,
) -> Signpost:
    """Record what came of a signpost or referral. "Waiting" keeps it open (with a new follow-up date,
    if given); engaged, declined and not reached close it, so no follow-up is due any more."""
    today = today or timezone.localdate()
    if outcome not in Outcome.values:
        raise SupportError("Choose the outcome.", field="outcome")
    signpost = Signpost.objects.select_for_update().get(pk=signpost.pk)
    if not signpost.is_open:
        raise ConflictError(f"The outcome is already recorded: {signpost.get_outcome_display().lower()}.")
    if outcome == Outcome.WAITING:
        _follow_up_check(follow_up_on, since=today, today=today)
        follow_up_on = follow_up_on or signpost.follow_up_on
    elif follow_up_on is not None:
        raise SupportError("Only a signpost still waiting takes a new follow-up date.", field="follow_up_on")
    before = snapshot(signpost, ("outcome", "outcome_on", "follow_up_on"))
    signpost.outcome = outcome
    signpost.outcome_on = today
    signpost.outcome_by = actor
    signpost.follow_up_on = follow_up_on if outcome == Outcome.WAITING else signpost.follow_up_on
    signpost.save(update_fields=["outcome", "outcome_on", "outcome_by", "follow_up_on", "updated_at"])
    audit_record(
        actor=actor,
        action="signpost.outcome_recorded",
        subject=signpost,
        before=before,
        after=snapshot(signpost, ("outcome", "outcome_on", "follow_up_on")),
    )
    return signpost


@transaction.atomic
def agency_sheet_email(*, family: Family, agency: Agency, actor: AbstractBaseUser) -> str:
    """E-mail the family the agency's details in plain words (through the outbox, after commit).

    It goes where a voucher would (``support.contacts.family_recipient``): the first contact with parental
    responsibility and no restriction who has an address no barred contact shares, else the lead carer when
    the family has no contacts. Staff cannot type another address. Returns the address it went to."""
    agency_require_not_safeguarding(agency)
    recipient = family_recipient(family, channel=EMAIL)
    address = recipient.address(EMAIL) if recipient is not None else ""
    if not address:
        raise SupportError(
            "The family has no e-mail address we may send to: print the sheet instead.", field="address"
        )
    subject, body = agency_sheet_text(family=family, agency=agency, name=recipient.name)
    enqueue_on_commit("support.send_email", [address], subject, body)
    audit_record(
        actor=actor,
        action="signpost.sheet_emailed",
        subject=family,
        after={"agency": agency.name, "address": address},
    )
    return address
