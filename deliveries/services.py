"""Referral use cases: refer (issue), and the charity's moves (accept, wait-list, decline, deliver, not
reached), the school's cancel, and the family's messages. Every move is a conditional update through
``REFERRAL_FLOW``; every change is audited; money is committed at accept and spent at delivery.

Updates are idempotent by state: repeating a move that already happened with the same facts (the API
retrying an accept with the same date) returns the referral unchanged instead of a conflict.
"""

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from deliveries.models import CatalogueItem, DeliveredService, Referral, ReferralMessage
from deliveries.selectors import service_capacity
from deliveries.transitions import REFERRAL_FLOW
from funds.services.ledger import fund_commitment_release, fund_spend_actual, fund_spend_commit
from support.audit import audit_record
from support.consents import family_consent_require
from support.contacts import family_recipient
from support.errors import ConflictError, SupportError
from support.jobs import enqueue_on_commit
from support.languages import family_language, in_family_language
from support.models import Enrolment, Family, School
from support.scopes import require_school, scope_for

State = Referral.State
MAX_ITEMS = 10
MAX_PEOPLE = 20
# What a closed referral no longer holds: the delivery needed it, nothing else does.
ERASED = {"delivery_address": "", "delivery_postcode": "", "delivery_phone": "", "access_notes": ""}


def _text(value: str, *, field: str, limit: int, required: bool = False, what: str = "") -> str:
    value = (value or "").strip()
    if required and not value:
        raise SupportError(what or "This is needed.", field=field)
    if len(value) > limit:
        raise SupportError(f"Keep this to {limit} characters or fewer.", field=field)
    return value


def require_partner(user: AbstractBaseUser, referral: Referral) -> None:
    """Refuse unless ``user`` works for the partner the referral went to (or is an admin)."""
    scope = scope_for(user)
    if not (scope.is_admin or referral.service.voucher_type.partner_id in scope.partner_ids):
        raise SupportError("Only the charity this referral went to can do this.", code="forbidden")


@transaction.atomic
def referral_issue(
    *,
    family: Family,
    items: list[CatalogueItem],
    school: School,
    issued_by: AbstractBaseUser,
    delivery_address: str,
    delivery_postcode: str,
    delivery_phone: str,
    access_notes: str = "",
    adults: int | None = None,
    children_under_5: int = 0,
    children_5_to_11: int = 0,
    children_12_to_17: int = 0,
    today: datetime.date | None = None,
) -> list[Referral]:
    """Refer ``family`` for ``items`` (from one or more delivered services' catalogues): one referral per
    item, made together.

    Refused without the family's consent naming each partner (the address and phone go to it). Each
    item takes one of its service's places this week while there are any; past the stated capacity, or
    while the service is paused, it joins the waiting list instead (the charity sees it there, the school
    is told).
    """
    today = today or timezone.localdate()
    require_school(issued_by, school)
    if not Enrolment.objects.current().filter(pupil__family=family, school=school).exists():
        raise SupportError("This family has no pupil at the school making the referral.", field="school")
    if not items:
        raise SupportError("Choose at least one thing the family needs.", field="items")
    if len(items) > MAX_ITEMS or len({i.pk for i in items}) != len(items):
        raise SupportError(f"Choose each thing once, at most {MAX_ITEMS}.", field="items")
    if any(not i.is_active for i in items):
        raise SupportError("Choose from the charity's current list.", field="items")
    address = _text(
        delivery_address,
        field="delivery_address",
        limit=500,
        required=True,
        what="Enter the delivery address.",
    )
    postcode = _text(
        delivery_postcode, field="delivery_postcode", limit=8, required=True, what="Enter the postcode."
    ).upper()
    phone = _text(
        delivery_phone,
        field="delivery_phone",
        limit=20,
        required=True,
        what="Enter a phone number for the delivery.",
    )
    notes = _text(access_notes, field="access_notes", limit=300)
    adults = family.adults if adults is None else adults
    counts = {
        "adults": adults,
        "children_under_5": children_under_5,
        "children_5_to_11": children_5_to_11,
        "children_12_to_17": children_12_to_17,
    }
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > MAX_PEOPLE:
            raise SupportError(f"Enter a number from 0 to {MAX_PEOPLE}.", field=name)
    if adults < 1:
        raise SupportError("A household has at least one adult.", field="adults")

    family = Family.objects.select_for_update().get(pk=family.pk)
    if family.merged_into_id:
        raise ConflictError("This family was merged into another record: refer from that one.")
    # Two schools referring at once cannot both take a week's last place: services locked in pk order.
    services = {
        s.pk: s
        for s in DeliveredService.objects.select_for_update()
        .select_related("voucher_type__partner")
        .filter(pk__in=sorted({i.service_id for i in items}))
        .order_by("pk")
    }
    for service in services.values():
        voucher_type = service.voucher_type
        if not (voucher_type.is_active and voucher_type.partner.is_active):
            raise SupportError(
                f"{voucher_type.partner.name} no longer offers {voucher_type.name.lower()}.",
                field="items",
                code="service_stopped",
            )
        family_consent_require(family=family, partner=voucher_type.partner)
    remaining = {pk: service_capacity(s, today=today).remaining for pk, s in services.items()}
    # The charity calls and names someone who may be told: a contact with parental responsibility.
    recipient = family_recipient(family)
    if recipient is None:
        raise SupportError(
            "No contact of this family has parental responsibility without a restriction: record one "
            "before referring the family.",
            field="contact",
            code="no_allowed_contact",
        )
    made: list[Referral] = []
    group = None
    for item in sorted(items, key=lambda i: (i.service_id, i.name)):
        service = services[item.service_id]
        left = remaining[service.pk]
        joins_wait = left is not None and left <= 0
        referral = Referral(
            service=service,
            item=item,
            value_pence=item.value_pence,
            family=family,
            school=school,
            state=State.WAITING if joins_wait else State.NEW,
            waiting_since=today if joins_wait else None,
            lead_carer_name=recipient.name,
            delivery_address=address,
            delivery_postcode=postcode,
            delivery_phone=phone,
            access_notes=notes,
            created_by=issued_by,
            **counts,
        )
        if group is not None:
            referral.group = group
        referral.save()
        group = referral.group
        if left is not None and not joins_wait:
            remaining[service.pk] = left - 1
        audit_record(
            actor=issued_by,
            action="referral.created",
            subject=referral,
            after={
                "family": family.pk,
                "school": school.pk,
                "service": service.pk,
                "item": item.name,
                "value_pence": item.value_pence,
                "state": referral.state,
            },
        )
        made.append(referral)
    return made


def _same(referral: Referral, **fields) -> bool:
    return all(getattr(referral, name) == value for name, value in fields.items())


def _move(referral: Referral, name: str, *, actor: AbstractBaseUser, note: str = "", **fields) -> str:
    before = REFERRAL_FLOW.claim(referral, name, **fields)
    after = {"state": referral.state}
    after.update(
        {k: v for k, v in fields.items() if k not in ERASED and k not in ("closed_at", "decided_by")}
    )
    audit_record(
        actor=actor,
        action=f"referral.{name.replace('-', '_')}",
        subject=referral,
        before={"state": before},
        after=after,
        note=note,
    )
    return before


@transaction.atomic
def referral_accept(
    *,
    referral: Referral,
    actor: AbstractBaseUser,
    expected_on: datetime.date,
    today: datetime.date | None = None,
) -> Referral:
    """The charity takes the referral on, expecting to deliver on ``expected_on``: the item's value is
    committed against the fund that pays for the service, and the family is told the date."""
    today = today or timezone.localdate()
    require_partner(actor, referral)
    if not isinstance(expected_on, datetime.date) or expected_on < today:
        raise SupportError("Choose a date from today on.", field="expected_on")
    if expected_on > today + datetime.timedelta(days=366):
        raise SupportError("Choose a date within a year.", field="expected_on")
    if referral.state == State.ACCEPTED:
        if referral.expected_on == expected_on:
            return referral  # a retry: it already happened
        _move(referral, "reschedule", actor=actor, expected_on=expected_on)
        return referral
    _move(referral, "accept", actor=actor, expected_on=expected_on, decided_by=actor)
    fund = referral.service.voucher_type.fund
    if fund is not None and referral.value_pence:
        fund_spend_commit(
            fund=fund,
            source=referral,
            amount_pence=referral.value_pence,
            category=f"delivery:{referral.service.voucher_type.service}",
            school=referral.school,
            actor=actor,
            today=today,
        )
    _queue_message(referral, ReferralMessage.Kind.ACCEPTED)
    return referral


@transaction.atomic
def referral_wait(
    *, referral: Referral, actor: AbstractBaseUser, today: datetime.date | None = None
) -> Referral:
    """The charity cannot take it yet: it joins the service's waiting list (the school sees so)."""
    require_partner(actor, referral)
    if referral.state == State.WAITING:
        return referral
    _move(referral, "wait", actor=actor, waiting_since=today or timezone.localdate(), decided_by=actor)
    return referral


def _closing(actor: AbstractBaseUser) -> dict:
    return {**ERASED, "closed_at": timezone.now(), "decided_by": actor}


@transaction.atomic
def referral_decline(*, referral: Referral, actor: AbstractBaseUser, reason: str) -> Referral:
    """The charity declines, with a reason the school reads. The address and phone are erased."""
    require_partner(actor, referral)
    reason = _text(reason, field="reason", limit=300, required=True, what="Say why, for the school.")
    if referral.state == State.DECLINED and referral.decline_reason == reason:
        return referral
    _move(referral, "decline", actor=actor, note=reason, decline_reason=reason, **_closing(actor))
    return referral


@transaction.atomic
def referral_deliver(
    *,
    referral: Referral,
    actor: AbstractBaseUser,
    delivered_on: datetime.date,
    delivered_what: str = "",
    today: datetime.date | None = None,
) -> Referral:
    """The charity delivered it on ``delivered_on``: the commitment becomes spend dated that day, the
    family is told, and the address and phone are erased."""
    today = today or timezone.localdate()
    require_partner(actor, referral)
    if not isinstance(delivered_on, datetime.date) or delivered_on > today:
        raise SupportError("The delivery date cannot be in the future.", field="delivered_on")
    if delivered_on < today - datetime.timedelta(days=92):
        raise SupportError("Choose a date in the last three months.", field="delivered_on")
    what = _text(delivered_what, field="delivered_what", limit=200) or referral.item.name
    if referral.state == State.DELIVERED and _same(referral, delivered_on=delivered_on, delivered_what=what):
        return referral
    _move(referral, "deliver", actor=actor, delivered_on=delivered_on, delivered_what=what, **_closing(actor))
    fund_spend_actual(source=referral, actor=actor, occurred_on=delivered_on, today=today, source_locked=True)
    _queue_message(referral, ReferralMessage.Kind.DELIVERED)
    return referral


@transaction.atomic
def referral_not_reached(*, referral: Referral, actor: AbstractBaseUser, note: str) -> Referral:
    """The charity tried and could not reach the family: the commitment is released, the address erased."""
    require_partner(actor, referral)
    note = _text(note, field="note", limit=300, required=True, what="Say what was tried, for the school.")
    if referral.state == State.NOT_REACHED and referral.outcome_note == note:
        return referral
    _move(referral, "not-reached", actor=actor, note=note, outcome_note=note, **_closing(actor))
    fund_commitment_release(source=referral, actor=actor, note="Referral: family not reached")
    return referral


@transaction.atomic
def referral_cancel(*, referral: Referral, actor: AbstractBaseUser, reason: str) -> Referral:
    """The school withdraws the referral (the family no longer needs it): released and erased."""
    require_school(actor, referral.school)
    reason = _text(reason, field="reason", limit=300, required=True, what="Give a reason for cancelling.")
    _move(referral, "cancel", actor=actor, note=reason, outcome_note=reason, **_closing(actor))
    fund_commitment_release(source=referral, actor=actor, note="Referral cancelled")
    return referral


# --- Messages to the family -------------------------------------------------------------------


def _day(value: datetime.date) -> str:
    return date_format(value, "j F Y")


def message_text(referral: Referral, kind: str) -> str:
    """The message in the active language (the caller holds ``translation.override``)."""
    partner = referral.service.voucher_type.partner.name
    item = referral.item.name.lower()
    if kind == ReferralMessage.Kind.ACCEPTED:
        return _(
            "%(partner)s will deliver your %(item)s on or around %(day)s. They will call before they come."
        ) % {
            "partner": partner,
            "item": item,
            "day": _day(referral.expected_on),
        }
    if kind == ReferralMessage.Kind.BEFORE:
        return _("Reminder: %(partner)s plans to deliver your %(item)s on %(day)s. Please be at home.") % {
            "partner": partner,
            "item": item,
            "day": _day(referral.expected_on),
        }
    return _(
        "%(partner)s has recorded delivering your %(item)s on %(day)s. If it did not arrive, tell %(school)s."
    ) % {
        "partner": partner,
        "item": item,
        "day": _day(referral.delivered_on),
        "school": referral.school.name,
    }


def _queue_message(referral: Referral, kind: str) -> ReferralMessage | None:
    """Record one message to the family (once per referral and kind) and send it after commit; none when
    no contact may be told. In the family's language where the family record holds one."""
    family = referral.family
    recipient = family_recipient(family, channel="sms") or family_recipient(family, channel="email")
    if recipient is None:
        return None
    channel = "sms" if recipient.phone else "email"
    # English, then the family's own language where we translate into it (as the vouchers' messages).
    language = family_language(family.language)
    with translation.override("en"):
        english = message_text(referral, kind)
    body = in_family_language(family.language, english, lambda: message_text(referral, kind))
    message, made = ReferralMessage.objects.get_or_create(
        referral=referral,
        kind=kind,
        defaults={
            "channel": channel,
            "address": recipient.address(channel),
            "language": language.code if language else "en",
            "body": body,
        },
    )
    if made:
        audit_record(actor=None, action="referral.message_queued", subject=referral, after={"kind": kind})
        enqueue_on_commit("deliveries.send_message", str(message.key))
    return message


def referral_message_send(*, key: str, now: datetime.datetime | None = None) -> str:
    """Send one recorded message, once: claimed by a conditional update before anything goes out."""
    from django.core.mail import EmailMessage

    from vouchers.sms import get_sms_backend

    Status = ReferralMessage.Status
    if not ReferralMessage.objects.filter(key=key, status__in=[Status.QUEUED, Status.FAILED]).update(
        status=Status.SENDING
    ):
        return "already-claimed"
    message = ReferralMessage.objects.select_related("referral__service__voucher_type__partner").get(key=key)
    try:
        if message.channel == "email":
            partner = message.referral.service.voucher_type.partner.name
            EmailMessage(subject=partner, body=message.body, to=[message.address]).send()
        else:
            get_sms_backend().send(to=message.address, body=message.body)
    except Exception as exc:
        ReferralMessage.objects.filter(pk=message.pk).update(status=Status.FAILED, note=str(exc)[:200])
        raise
    ReferralMessage.objects.filter(pk=message.pk).update(status=Status.SENT, sent_at=now or timezone.now())
    return "sent"


def referral_remind_due(*, today: datetime.date | None = None) -> int:
    """Daily: tell each family whose delivery is expected tomorrow (once per referral)."""
    today = today or timezone.localdate()
    due = Referral.objects.filter(
        state=State.ACCEPTED, expected_on=today + datetime.timedelta(days=1)
    ).exclude(messages__kind=ReferralMessage.Kind.BEFORE)
    sent = 0
    for referral in due.select_related("item", "school", "family", "service__voucher_type__partner"):
        with transaction.atomic():
            if _queue_message(referral, ReferralMessage.Kind.BEFORE) is not None:
                sent += 1
    return sent


# --- Capacity -----------------------------------------------------------------------------------


@transaction.atomic
def delivered_service_set_capacity(
    *,
    service: DeliveredService,
    actor: AbstractBaseUser,
    capacity_per_week: int | None,
    paused_until: datetime.date | None = None,
    pause_note: str = "",
    today: datetime.date | None = None,
) -> DeliveredService:
    """The charity states how many it can take a week, or pauses new referrals until a day."""
    today = today or timezone.localdate()
    scope = scope_for(actor)
    if not (scope.is_admin or service.voucher_type.partner_id in scope.partner_ids):
        raise SupportError("Only the charity that delivers this service can change it.", code="forbidden")
    if capacity_per_week is not None and not (0 <= capacity_per_week <= 1000):
        raise SupportError("Enter a number from 0 to 1000, or leave it blank.", field="capacity_per_week")
    if paused_until is not None and paused_until <= today:
        raise SupportError("Choose a day after today, or leave it blank.", field="paused_until")
    note = _text(pause_note, field="pause_note", limit=200) if paused_until else ""
    before = {
        "capacity_per_week": service.capacity_per_week,
        "paused_until": service.paused_until,
        "pause_note": service.pause_note,
    }
    after = {"capacity_per_week": capacity_per_week, "paused_until": paused_until, "pause_note": note}
    DeliveredService.objects.filter(pk=service.pk).update(**after, updated_at=timezone.now())
    service.refresh_from_db()
    audit_record(
        actor=actor, action="delivered_service.capacity_set", subject=service, before=before, after=after
    )
    return service
