"""Signposting's entries on a family's timeline: each signpost or referral, and each outcome recorded.

Scoped by ``signposts_visible_to`` (school staff see their schools' signposts); a fixed number of queries
of at most ``limit`` rows.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.urls import reverse

from signposting.models import Signpost
from signposting.selectors import signposts_visible_to
from support.models import Family
from support.timeline import TimelineEntry, audit_events_about, person_name

User = AbstractBaseUser | AnonymousUser
OUTCOMES = {"signpost.outcome_recorded": "outcome"}


def signpost_timeline_entries(*, user: User, family: Family, limit: int) -> list[TimelineEntry]:
    signposts = signposts_visible_to(user).filter(family=family)
    entries = []
    made = signposts.select_related("agency", "school", "recorded_by").order_by("-recorded_at", "-pk")[:limit]
    for signpost in made:
        detail = [signpost.school.name]
        if signpost.lead_professional:
            detail.append(f"lead professional {signpost.lead_professional}")
        if signpost.follow_up_on:
            detail.append(f"follow up on {signpost.follow_up_on:%-d %b %Y}")
        entries.append(
            TimelineEntry(
                at=signpost.recorded_at,
                kind="signposts",
                title=signpost.what,
                person=person_name(signpost.recorded_by),
                detail=", ".join(detail),
                url=reverse("signpost_detail", args=[signpost.pk]),
                key=f"signpost:{signpost.pk}:0",
            )
        )
    moves = list(audit_events_about(Signpost, signposts, actions=OUTCOMES, limit=limit))
    by_id = (
        {
            str(s.pk): s
            for s in signposts.filter(pk__in=[int(e.subject_id) for e in moves]).select_related("agency")
        }
        if moves
        else {}
    )
    for event in moves:
        signpost = by_id.get(event.subject_id)
        if signpost is None:
            continue
        outcome = dict(Signpost.Outcome.choices).get((event.after or {}).get("outcome"), "recorded")
        entries.append(
            TimelineEntry(
                at=event.at,
                kind="signposts",
                title=f"{signpost.what}: {outcome.lower()}",
                person=person_name(event.actor),
                detail="",
                url=reverse("signpost_detail", args=[signpost.pk]),
                key=f"audit:{event.pk}",
            )
        )
    return entries
