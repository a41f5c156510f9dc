"""The referrals' entries on a family's timeline: made, and each step the charity took (from the audit)."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.urls import reverse

from deliveries.models import Referral
from deliveries.selectors import referrals_visible_to
from support.models import Family
from support.timeline import TimelineEntry, audit_events_about, day, person_name

KIND = "deliveries"

TITLES = {
    "referral.created": "referred for delivery",
    "referral.accept": "accepted for delivery",
    "referral.reschedule": "delivery re-dated",
    "referral.wait": "on the charity's waiting list",
    "referral.decline": "declined by the charity",
    "referral.deliver": "delivered",
    "referral.not_reached": "not delivered: family not reached",
    "referral.cancel": "referral cancelled",
}


def referral_timeline_entries(
    *, user: AbstractBaseUser | AnonymousUser, family: Family, limit: int
) -> list[TimelineEntry]:
    referrals = referrals_visible_to(user).filter(family=family)
    events = list(audit_events_about(Referral, referrals, actions=tuple(TITLES), limit=limit))
    by_id = {
        str(r.pk): r
        for r in referrals.filter(pk__in=[int(e.subject_id) for e in events]).select_related(
            "item", "service__voucher_type__partner"
        )
    } if events else {}  # fmt: skip
    entries = []
    for event in events:
        referral = by_id.get(event.subject_id)
        if referral is None:
            continue
        after = event.after or {}
        detail = referral.service.voucher_type.partner.name
        if after.get("expected_on"):
            detail += f", expected {day(_date(after['expected_on']))}"
        if after.get("delivered_on"):
            detail += f", on {day(_date(after['delivered_on']))}"
        if event.note:
            detail += f": {event.note}"
        entries.append(
            TimelineEntry(
                at=event.at,
                kind=KIND,
                title=f"{referral.item.name} {TITLES[event.action]}",
                person=person_name(event.actor),
                detail=detail,
                url=reverse("referral_detail", args=[referral.pk]),
                key=f"audit:{event.pk}",
            )
        )
    return entries


def _date(value):
    import datetime

    return datetime.date.fromisoformat(str(value)[:10])
