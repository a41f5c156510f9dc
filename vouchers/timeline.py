"""The vouchers' entries on a family's timeline: issued, sent, redeemed, cancelled, extended.

Registered with the core in ``vouchers.registrations``; scoped by ``vouchers_visible_to`` (school staff
see their schools' vouchers). Each kind is one query of at most ``limit`` rows, whatever the family holds.
"""

import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.urls import reverse

from support.models import Family
from support.timeline import TimelineEntry, audit_events_about, day, person_name
from vouchers.models import Redemption, Voucher, VoucherSend
from vouchers.selectors import vouchers_visible_to

KIND = "vouchers"


def _url(voucher_id: int) -> str:
    return reverse("voucher_detail", args=[voucher_id])


def voucher_timeline_entries(
    *, user: AbstractBaseUser | AnonymousUser, family: Family, limit: int
) -> list[TimelineEntry]:
    vouchers = vouchers_visible_to(user).filter(family=family)
    entries = []
    for voucher in vouchers.select_related("voucher_type", "school", "issued_by").order_by(
        "-issued_at", "-pk"
    )[:limit]:
        entries.append(
            TimelineEntry(
                at=voucher.issued_at,
                kind=KIND,
                title=f"{voucher.voucher_type.name} voucher issued",
                person=person_name(voucher.issued_by),
                detail=f"{voucher.display_code}, {voucher.school.name}",
                url=_url(voucher.pk),
                key=f"voucher:{voucher.pk}:1issued",
            )
        )
    sends = (
        VoucherSend.objects.filter(voucher__in=vouchers, status=VoucherSend.Status.SENT)
        .exclude(sent_at=None)
        .select_related("voucher__voucher_type", "requested_by")
        .order_by("-sent_at", "-pk")[:limit]
    )
    for send in sends:
        what = "voucher" if send.kind == VoucherSend.Kind.VOUCHER else "voucher's cancellation"
        entries.append(
            TimelineEntry(
                at=send.sent_at,
                kind=KIND,
                title=f"{send.voucher.voucher_type.name} {what} sent by {send.get_channel_display().lower()}",
                person=person_name(send.requested_by),
                detail=send.voucher.display_code,
                url=_url(send.voucher_id),
                key=f"voucher:{send.voucher_id}:2sent:{send.pk}",
            )
        )
    redemptions = (
        Redemption.objects.filter(voucher__in=vouchers)
        .select_related("voucher__voucher_type", "partner", "redeemed_by")
        .order_by("-redeemed_at", "-pk")[:limit]
    )
    for redemption in redemptions:
        entries.append(
            TimelineEntry(
                at=redemption.redeemed_at,
                kind=KIND,
                title=f"{redemption.voucher.voucher_type.name} voucher redeemed at {redemption.partner.name}",
                person=person_name(redemption.redeemed_by),
                detail=redemption.voucher.display_code,
                url=_url(redemption.voucher_id),
                key=f"voucher:{redemption.voucher_id}:3redeemed",
            )
        )
    cancelled = (
        vouchers.filter(cancelled_at__isnull=False)
        .select_related("voucher_type", "cancelled_by")
        .order_by("-cancelled_at", "-pk")[:limit]
    )
    for voucher in cancelled:
        entries.append(
            TimelineEntry(
                at=voucher.cancelled_at,
                kind=KIND,
                title=f"{voucher.voucher_type.name} voucher cancelled",
                person=person_name(voucher.cancelled_by),
                detail=f"{voucher.display_code}: {voucher.cancel_reason}" if voucher.cancel_reason else "",
                url=_url(voucher.pk),
                key=f"voucher:{voucher.pk}:3cancelled",
            )
        )
    extended = list(audit_events_about(Voucher, vouchers, actions=("voucher.extended",), limit=limit))
    named = vouchers.filter(pk__in=[int(e.subject_id) for e in extended]).select_related("voucher_type")
    by_id = {str(v.pk): v for v in named} if extended else {}
    for event in extended:
        voucher = by_id.get(event.subject_id)
        if voucher is None:
            continue
        until = event.after.get("expires_on")
        new_expiry = f"now valid until {day(datetime.date.fromisoformat(until))}" if until else ""
        entries.append(
            TimelineEntry(
                at=event.at,
                kind=KIND,
                title=f"{voucher.voucher_type.name} voucher extended",
                person=person_name(event.actor),
                detail="; ".join(part for part in (new_expiry, event.note) if part),
                url=_url(voucher.pk),
                key=f"audit:{event.pk}",
            )
        )
    return entries
