"""Asks for help: received from the public page, matched by a lead, turned into help or closed; purged.

Decisions:

- **Nothing is looked up when an ask arrives.** ``ask_submit`` checks lengths and choices and stores what
  was typed: no family or pupil is searched, so the answer (the same confirmation whatever was typed)
  takes the same time whether or not a child of that name is at the school.
- **Only leads of the ask's school** see and act on it (``require_school(..., lead=True)``).
- **Matching is the lead's**, to a pupil on the school's roll (the family follows), and is never shown
  to the person asking.
- **Replies go only to a contact the school already holds** with parental responsibility and no
  restriction (``support.contacts.family_recipient``), re-checked when the message is sent; the
  address the person typed is never used. With no such contact the lead closes the ask with a reason.
- **A signpost, never a referral**: an ask establishes no consent to share the family's details, so the
  lead can only give the family an agency's details (signposting's ``signpost_record``, kind signpost);
  a safeguarding service is refused with signposting's guidance and nothing is recorded.
- **Audit** records ids, kinds and states, never the names or message typed (they are purged with the
  ask after ``ASKS_RETENTION_DAYS``).
"""

import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from asks.models import Ask, AskKind, AskLink, ContactWay
from asks.transitions import ASK_FLOW
from signposting.models import Agency, Signpost
from signposting.selectors import agencies_for_family
from signposting.services import agency_sheet_email, signpost_check, signpost_record
from support.audit import audit_record
from support.contacts import EMAIL, SMS, family_recipient
from support.errors import SupportError
from support.jobs import enqueue_on_commit
from support.languages import LANGUAGES
from support.models import Enrolment, Pupil, School
from support.scopes import require_school
from support.selectors import pupils_visible_to
from uniform.models import UniformItem
from uniform.services.requests import request_create
from vouchers.models import VoucherType
from vouchers.services import voucher_issue

LIMITS = {"asker_name": 100, "child_name": 100, "child_year": 40, "message": 500}
REQUEST_REASON = "Asked for by a parent or carer through the school's help page."
REPLY_LIMIT = 500
CLOSE_LIMIT = 300


def _snapshot(ask: Ask) -> dict[str, Any]:
    return {
        "school": ask.school_id,
        "kind": ask.kind,
        "status": ask.status,
        "family": ask.family_id,
        "pupil": ask.pupil_id,
        "outcome": ask.outcome,
        "outcome_ref": ask.outcome_ref,
    }


def ask_link_for(school: School) -> AskLink:
    """The school's public link, made the first time it is needed."""
    link, _ = AskLink.objects.get_or_create(school=school)
    return link


# --- The public page --------------------------------------------------------------------------


def _text(value: str, *, field: str, required: bool) -> str:
    value = " ".join(str(value or "").replace("\x00", "").split())
    if required and not value:
        raise SupportError("This is required.", field=field)
    if len(value) > LIMITS[field]:
        raise SupportError(f"Keep this to {LIMITS[field]} characters or fewer.", field=field)
    return value


@transaction.atomic
def ask_submit(
    *,
    link: AskLink,
    kind: str,
    asker_name: str,
    child_name: str,
    contact_way: str,
    child_year: str = "",
    message: str = "",
    language: str = "en",
) -> Ask:
    """Store an ask for ``link``'s school's leads. Looks nothing up (see the module's note)."""
    if kind not in AskKind.values:
        raise SupportError("Choose what would help.", field="kind")
    if contact_way not in ContactWay.values:
        raise SupportError("Choose how we should contact you.", field="contact_way")
    languages = {"en", *LANGUAGES}
    ask = Ask.objects.create(
        school_id=link.school_id,
        kind=kind,
        asker_name=_text(asker_name, field="asker_name", required=True),
        child_name=_text(child_name, field="child_name", required=True),
        child_year=_text(child_year, field="child_year", required=False),
        contact_way=contact_way,
        message=_text(message, field="message", required=False),
        language=language if language in languages else "en",
    )
    audit_record(actor=None, action="ask.received", subject=ask, after=_snapshot(ask))
    return ask


# --- The lead's work ---------------------------------------------------------------------------


def ask_pupils(*, ask: Ask, user: AbstractBaseUser):
    """The pupils a lead may match ``ask`` to: on the roll of the ask's school, as ``user`` sees them."""
    on_roll = Enrolment.objects.current().filter(school_id=ask.school_id).values("pupil_id")
    return pupils_visible_to(user).filter(pk__in=on_roll).select_related("family")


def _locked(ask: Ask, actor: AbstractBaseUser) -> Ask:
    require_school(actor, ask.school_id, lead=True)
    return Ask.objects.select_for_update().get(pk=ask.pk)


@transaction.atomic
def ask_match(*, ask: Ask, actor: AbstractBaseUser, pupil: Pupil | None) -> Ask:
    """Match ``ask`` to ``pupil`` (on the roll of the ask's school) and so to the pupil's family."""
    ask = _locked(ask, actor)
    if pupil is None or not ask_pupils(ask=ask, user=actor).filter(pk=pupil.pk).exists():
        raise SupportError("Choose a pupil on the school's roll.", field="pupil")
    before = _snapshot(ask)
    ASK_FLOW.claim(
        ask, "match", touch=None, family_id=pupil.family_id, pupil_id=pupil.pk, matched_by=actor,
        matched_at=timezone.now(),
    )  # fmt: skip
    audit_record(actor=actor, action="ask.matched", subject=ask, before=before, after=_snapshot(ask))
    return ask


def _finish(
    ask: Ask, *, actor: AbstractBaseUser, move: str, outcome: str, note: str = "", ref: str = ""
) -> Ask:
    before = _snapshot(ask)
    ASK_FLOW.claim(
        ask, move, touch=None, outcome=outcome, outcome_note=note, outcome_ref=ref, decided_by=actor,
        decided_at=timezone.now(),
    )  # fmt: skip
    audit_record(actor=actor, action=f"ask.{move}", subject=ask, before=before, after=_snapshot(ask))
    return ask


@transaction.atomic
def ask_to_request(
    *, ask: Ask, actor: AbstractBaseUser, item: UniformItem | None, size: str, urgency: str = "routine"
):
    """Turn a matched ask for a coat, shoes or uniform into a request for the matched pupil (uniform's
    ``request_create``: its rules, routing and audit). Returns the request."""
    ask = _locked(ask, actor)
    ASK_FLOW.check(ask, "to-request")
    if not ask.wants_item:
        raise SupportError("Only an ask for uniform, a coat or shoes becomes a request.", field="kind")
    pupil = Pupil.objects.select_related("school").get(pk=ask.pupil_id)
    request = request_create(
        pupil=pupil, kind=ask.kind, item=item, size=size, reason=REQUEST_REASON, urgency=urgency, actor=actor
    )
    _finish(ask, actor=actor, move="to-request", outcome=Ask.Outcome.REQUEST, ref=f"request:{request.pk}")
    return request


@transaction.atomic
def ask_to_voucher(
    *, ask: Ask, actor: AbstractBaseUser, voucher_type: VoucherType | None, referral_reason: str
):
    """Turn a matched ask into a voucher for the matched family (vouchers' ``voucher_issue``: consent,
    limits and audit as for any voucher). Returns the voucher."""
    ask = _locked(ask, actor)
    ASK_FLOW.check(ask, "to-voucher")
    if voucher_type is None:
        raise SupportError("Choose a voucher type.", field="voucher_type")
    voucher = voucher_issue(
        family=ask.family,
        voucher_type=voucher_type,
        school=ask.school,
        issued_by=actor,
        referral_reason=referral_reason,
        referral_other="Asked through the school's help page.",
    )
    _finish(ask, actor=actor, move="to-voucher", outcome=Ask.Outcome.VOUCHER, ref=f"voucher:{voucher.pk}")
    return voucher


SIGNPOST_SEND = ("", EMAIL)


def _signpost_given(ask: Ask, actor: AbstractBaseUser, agency: Agency | None, note: str) -> dict:
    if agency is None:
        raise SupportError("Choose the agency.", field="agency")
    # Only the agencies signposting's choose page offers for this family (its schools' directory).
    if not agencies_for_family(actor, ask.family).filter(pk=agency.pk).exists():
        raise SupportError("Choose an agency from the directory for this family's schools.", field="agency")
    return {
        "family": ask.family, "kind": Signpost.Kind.SIGNPOST, "agency": agency, "school": ask.school,
        "note": note,
    }  # fmt: skip


def ask_signpost_check(
    *, ask: Ask, actor: AbstractBaseUser, agency: Agency | None, note: str = "", send: str = ""
) -> dict:
    """Every rule of ``ask_to_signpost``, writing nothing (the check page asks it first): signposting's
    ``signpost_check`` values, or a SupportError naming the field (a safeguarding service: its guidance)."""
    require_school(actor, ask.school_id, lead=True)
    ASK_FLOW.check(ask, "to-signpost")
    if send not in SIGNPOST_SEND:
        raise SupportError("Choose how the family gets the agency's details.", field="send")
    return signpost_check(actor=actor, **_signpost_given(ask, actor, agency, note))


@transaction.atomic
def ask_to_signpost(
    *,
    ask: Ask,
    actor: AbstractBaseUser,
    agency: Agency | None,
    note: str = "",
    send: str = "",
    now: datetime.datetime | None = None,
) -> Signpost:
    """Turn a matched ask into a signpost for the matched family: the agency's details given, nothing
    shared (never a referral: an ask establishes no consent). Recorded through signposting's
    ``signpost_record`` (its rules and audit) at the ask's school. With ``send="email"`` the agency's sheet
    is e-mailed to the family's allowed contact too (signposting's ``agency_sheet_email``; refused, with
    nothing recorded, when there is none: print the sheet instead). Returns the signpost."""
    ask = _locked(ask, actor)
    ASK_FLOW.check(ask, "to-signpost")
    if send not in SIGNPOST_SEND:
        raise SupportError("Choose how the family gets the agency's details.", field="send")
    signpost = signpost_record(actor=actor, now=now, **_signpost_given(ask, actor, agency, note))
    if send == EMAIL:
        agency_sheet_email(family=ask.family, agency=agency, actor=actor)
    _finish(ask, actor=actor, move="to-signpost", outcome=Ask.Outcome.SIGNPOST, ref=f"signpost:{signpost.pk}")
    return signpost


CHANNELS = {ContactWay.EMAIL: EMAIL, ContactWay.TEXT: SMS}


@transaction.atomic
def ask_reply(*, ask: Ask, actor: AbstractBaseUser, channel: str, body: str) -> Ask:
    """Send ``body`` to the family's allowed contact by ``channel`` (``email`` or ``sms``), after commit.

    Refused when no contact with parental responsibility and no restriction has an address for it: the
    lead then closes the ask with a reason. The address the person typed is never used.
    """
    ask = _locked(ask, actor)
    ASK_FLOW.check(ask, "reply")
    if channel not in (EMAIL, SMS):
        raise SupportError("Choose e-mail or text message.", field="channel")
    body = (body or "").replace("\x00", "").strip()
    if not body:
        raise SupportError("Write the reply.", field="body")
    if len(body) > REPLY_LIMIT:
        raise SupportError(f"Keep the reply to {REPLY_LIMIT} characters or fewer.", field="body")
    if family_recipient(ask.family, channel=channel) is None:
        raise SupportError(
            "No contact with parental responsibility and no restriction has an address for this. "
            "Choose another way, or close the ask with a reason.",
            field="channel",
            code="no_allowed_contact",
        )
    _finish(ask, actor=actor, move="reply", outcome=Ask.Outcome.REPLY, note=body, ref=f"reply:{channel}")
    enqueue_on_commit("asks.send_reply", ask.pk, channel)
    return ask


def ask_reply_send(*, ask_id: int, channel: str) -> bool:
    """Send the reply of ask ``ask_id`` (the task's body). The recipient is looked up again now, so a
    restriction recorded since the lead pressed "Send" still holds. False when nothing was sent."""
    ask = Ask.objects.select_related("family", "school").filter(pk=ask_id, outcome=Ask.Outcome.REPLY).first()
    if ask is None or ask.family is None:
        return False
    recipient = family_recipient(ask.family, channel=channel)
    if recipient is None:
        return False
    address = recipient.address(channel)
    if channel == EMAIL:
        send_mail(f"A message from {ask.school.name}", ask.outcome_note, None, [address])
    else:
        from vouchers.sms import get_sms_backend

        get_sms_backend().send(to=address, body=f"{ask.school.name}: {ask.outcome_note}")
    return True


@transaction.atomic
def ask_close(*, ask: Ask, actor: AbstractBaseUser, reason: str) -> Ask:
    """Close ``ask`` with a reason (no family matched, no allowed contact, helped another way...)."""
    ask = _locked(ask, actor)
    reason = " ".join((reason or "").split())
    if not reason:
        raise SupportError("Say why the ask is closed.", field="reason")
    if len(reason) > CLOSE_LIMIT:
        raise SupportError(f"Keep the reason to {CLOSE_LIMIT} characters or fewer.", field="reason")
    return _finish(ask, actor=actor, move="close", outcome=Ask.Outcome.CLOSED, note=reason)


# --- Retention ----------------------------------------------------------------------------------


@transaction.atomic
def asks_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete every ask older than ``ASKS_RETENTION_DAYS`` (the nightly task). Returns how many."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.ASKS_RETENTION_DAYS)
    deleted, _ = Ask.objects.filter(created_at__lt=cutoff).delete()
    if deleted:
        audit_record(
            actor=None,
            action="ask.purged",
            after={"count": deleted, "older_than_days": settings.ASKS_RETENTION_DAYS},
        )
    return deleted
