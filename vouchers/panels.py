"""The vouchers' panels on a family's page, read through the scoped selector (see support.registry)."""

from django.http import HttpRequest
from django.urls import reverse

from support.models import Family
from support.permissions import has_perm
from vouchers.selectors import vouchers_visible_to

RECENT = 5


def family_issue_action(request: HttpRequest, family: Family) -> dict | None:
    """The "Issue a voucher" button under the family's name, for staff who may issue one."""
    if family.merged_into_id or not has_perm(request.user, "vouchers.issue"):
        return None
    return {"issue_url": reverse("voucher_issue", args=[family.pk])}


def family_recent_vouchers(request: HttpRequest, family: Family) -> dict | None:
    """The family's latest vouchers from the user's schools, with a link to them all."""
    user = request.user
    if not has_perm(user, "vouchers.view"):
        return None
    vouchers = vouchers_visible_to(user).filter(family=family)
    recent = list(vouchers.select_related("voucher_type", "school")[:RECENT])
    total = len(recent) if len(recent) < RECENT else vouchers.count()
    return {"recent": recent, "total": total, "list_url": f"{reverse('voucher_list')}?family={family.pk}"}
