"""Signposting's panels (see support.registry): the family page's "Signpost or refer" action and its
recent signposts, and home's count of the follow-ups due."""

from django.http import HttpRequest
from django.urls import reverse

from signposting import selectors
from support.models import Family
from support.permissions import has_perm
from support.registry import WorkWaiting

RECENT = 5


def family_signpost_action(request: HttpRequest, family: Family) -> dict | None:
    """The "Signpost or refer" button under the family's name, for staff of one of its schools."""
    if family.merged_into_id or not has_perm(request.user, "signposting.record"):
        return None
    return {"url": reverse("signpost_choose", args=[family.pk])}


def family_recent_signposts(request: HttpRequest, family: Family) -> dict | None:
    """The family's latest signposts and referrals from the user's schools."""
    if not has_perm(request.user, "signposting.view"):
        return None
    signposts = selectors.signposts_visible_to(request.user).filter(family=family)
    recent = list(signposts.select_related("agency", "school")[: RECENT + 1])
    return {"recent": recent[:RECENT], "more": len(recent) > RECENT}


def home_follow_ups_due(request: HttpRequest) -> list[WorkWaiting]:
    """Signposts and referrals whose follow-up date has come: the recorder's, and their lead's."""
    user = request.user
    if not has_perm(user, "signposting.record"):
        return []
    return [
        WorkWaiting(
            "Signposting follow-ups due",
            selectors.follow_ups_due(user).count(),
            reverse("signpost_follow_ups"),
            "Families you (or staff at the schools you lead) sent to another agency: ask how it went "
            "and record the outcome.",
        )
    ]
