"""Uniform's entries on a family's timeline: welcome packs, and coat, shoe and uniform requests with
their decisions. Registered with the core in ``uniform.registrations``.

Scoped by the uniform selectors (school staff see their schools' gifts and requests, so a sibling's at
another school stays out); each kind is a fixed number of queries of at most ``limit`` rows.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from support.models import AuditEvent, Family
from support.timeline import TimelineEntry, audit_events_about, person_name
from uniform.models import Gift, SupportRequest
from uniform.selectors import gifts_visible_to, support_requests_visible_to

User = AbstractBaseUser | AnonymousUser

# What each audited move of a request says on the timeline ("Coat for Ada Ng approved").
REQUEST_MOVES = {
    "support_request.approved": "approved",
    "support_request.rejected": "rejected",
    "support_request.sent_to_finance": "sent to finance for approval",
    "support_request.sent_back": "sent back for changes",
    "support_request.revised": "changed",
    "support_request.resubmitted": "changed and sent again",
    "support_request.ordered": "ordered",
    "support_request.from_stock": "taken from stock",
    "support_request.handed_over": "handed over",
}


def _pupil(pupil) -> str:
    return f"{pupil.known_as} {pupil.surname}"


def request_timeline_entries(*, user: User, family: Family, limit: int) -> list[TimelineEntry]:
    requests = support_requests_visible_to(user).filter(pupil__family=family)
    entries = []
    made = requests.select_related("pupil", "item", "requested_by").order_by("-requested_at", "-pk")[:limit]
    for request in made:
        what = request.item.name if request.item else request.get_kind_display()
        size = f", size {request.size}" if request.size else ""
        entries.append(
            TimelineEntry(
                at=request.requested_at,
                kind="requests",
                title=f"{request.get_kind_display()} requested for {_pupil(request.pupil)}",
                person=person_name(request.requested_by),
                detail=f"{request.quantity} × {what}{size}: {request.reason}",
                url=reverse("support_request_detail", args=[request.pk]),
                key=f"request:{request.pk}:0",
            )
        )
    moves = list(audit_events_about(SupportRequest, requests, actions=REQUEST_MOVES, limit=limit))
    named = requests.filter(pk__in=[int(e.subject_id) for e in moves]).select_related("pupil")
    by_id = {str(r.pk): r for r in named} if moves else {}
    for event in moves:
        request = by_id.get(event.subject_id)
        if request is None:
            continue
        what = f"{request.get_kind_display()} for {_pupil(request.pupil)}"
        entries.append(
            TimelineEntry(
                at=event.at,
                kind="requests",
                title=f"{what} {REQUEST_MOVES[event.action]}",
                person=person_name(event.actor),
                detail=event.note,
                url=reverse("support_request_detail", args=[request.pk]),
                key=f"audit:{event.pk}",
            )
        )
    return entries


def _intake(gift: Gift) -> str:
    year = "Reception" if gift.year_group == 0 else f"Year {gift.year_group}"
    return f"{year}, {gift.academic_year}/{(gift.academic_year + 1) % 100:02d}"


def welcome_pack_timeline_entries(*, user: User, family: Family, limit: int) -> list[TimelineEntry]:
    gifts = gifts_visible_to(user).filter(pupil__family=family)
    made = list(gifts.select_related("pupil", "school").order_by("-created_at", "-pk")[:limit])
    # Who generated each: the audit event written with it (gifts are made in bulk, without a creator field).
    makers = (
        {
            event.subject_id: event.actor
            for event in AuditEvent.objects.filter(
                subject_type=ContentType.objects.get_for_model(Gift),
                subject_id__in=[str(gift.pk) for gift in made],
                action="gift.created",
            ).select_related("actor")
        }
        if made
        else {}
    )
    entries = [
        TimelineEntry(
            at=gift.created_at,
            kind="welcome_packs",
            title=f"Welcome pack set aside for {_pupil(gift.pupil)}",
            person=person_name(makers.get(str(gift.pk))),
            detail=f"{_intake(gift)}, {gift.school.name}",
            key=f"gift:{gift.pk}:0",
        )
        for gift in made
    ]
    for field, by, verb in (
        ("packed_at", "packed_by", "packed"),
        ("handed_over_at", "handed_over_by", "handed over"),
    ):
        done = (
            gifts.filter(**{f"{field}__isnull": False})
            .select_related("pupil", "school", by)
            .order_by(f"-{field}", "-pk")[:limit]
        )
        for gift in done:
            entries.append(
                TimelineEntry(
                    at=getattr(gift, field),
                    kind="welcome_packs",
                    title=f"Welcome pack for {_pupil(gift.pupil)} {verb}",
                    person=person_name(getattr(gift, by)),
                    detail=f"{_intake(gift)}, {gift.school.name}",
                    key=f"gift:{gift.pk}:{field}",
                )
            )
    return entries
