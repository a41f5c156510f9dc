"""The deliveries' panels (see support.registry): on a family's page, "Refer for delivery" and the family's
referrals; on home, the charity's new referrals and the school's referrals with news."""

from django.http import HttpRequest
from django.urls import reverse

from deliveries.models import Referral
from deliveries.selectors import referrals_visible_to, services_for_family
from support.models import Family
from support.permissions import has_perm
from support.registry import WorkWaiting
from support.scopes import scope_for

RECENT = 10


def family_refer_action(request: HttpRequest, family: Family) -> dict | None:
    if family.merged_into_id or not has_perm(request.user, "deliveries.refer"):
        return None
    if not services_for_family(request.user, family):
        return None
    return {"refer_url": reverse("referral_new", args=[family.pk])}


def family_referrals(request: HttpRequest, family: Family) -> dict | None:
    if not has_perm(request.user, "deliveries.view") or not scope_for(request.user).is_school_staff:
        return None
    referrals = list(
        referrals_visible_to(request.user)
        .filter(family=family)
        .select_related("item", "school", "service__voucher_type__partner")[:RECENT]
    )
    if not referrals:
        return None
    return {"referrals": referrals}


def home_referrals_waiting(request: HttpRequest) -> list[WorkWaiting]:
    """Charity staff: the new referrals to answer, linking to the inbox filtered to exactly those."""
    user = request.user
    if not has_perm(user, "deliveries.view"):
        return []
    scope = scope_for(user)
    mine = referrals_visible_to(user)
    url = reverse("referral_inbox")
    if scope.is_charity and has_perm(user, "deliveries.manage"):
        return [
            WorkWaiting(
                "New delivery referrals to answer",
                mine.filter(state=Referral.State.NEW).count(),
                f"{url}?state=new",
                "Accept with a date, put on the waiting list, or decline with a reason.",
            )
        ]
    return []


def home_latest_from_charity(request: HttpRequest) -> dict | None:
    """School staff: the latest steps the charity took on their schools' referrals (accepted with a date,
    wait-listed, declined with the reason, delivered), newest first; hidden when there are none."""
    user = request.user
    if not (scope_for(user).is_school_staff and has_perm(user, "deliveries.view")):
        return None
    latest = list(
        referrals_visible_to(user)
        .exclude(state=Referral.State.NEW)
        .select_related("item", "school", "service__voucher_type__partner")
        .order_by("-updated_at", "-pk")[:RECENT]
    )
    return {"referrals": latest, "inbox_url": reverse("referral_inbox")} if latest else None
