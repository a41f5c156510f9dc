"""The vouchers' panels (see support.registry), read through the scoped selectors: on a family's page, the
issue button and the recent vouchers; on home, the charity's code box and the vouchers about to expire."""

import datetime
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from support.models import Family
from support.permissions import has_perm
from support.registry import WorkWaiting
from support.scopes import scope_for
from vouchers.forms import CodeForm
from vouchers.models import Voucher
from vouchers.selectors import EXPIRING_WITHIN_DAYS, vouchers_expiring, vouchers_visible_to

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


# --- Home ----------------------------------------------------------------------------------------


def home_code_box(request: HttpRequest) -> dict | None:
    """Charity staff start with the code box: it sends the code to the same check-and-redeem pages."""
    if not (scope_for(request.user).is_charity and has_perm(request.user, "vouchers.redeem")):
        return None
    return {"form": CodeForm(auto_id="home-%s")}


def home_vouchers_expiring(request: HttpRequest, *, today: datetime.date | None = None) -> list[WorkWaiting]:
    """School staff: their schools' vouchers not yet redeemed that expire within the week, linking to the
    voucher list filtered to exactly those."""
    user = request.user
    if not (scope_for(user).is_school_staff and has_perm(user, "vouchers.view")):
        return []
    today = today or timezone.localdate()
    last = today + datetime.timedelta(days=EXPIRING_WITHIN_DAYS)
    query = urlencode(
        {
            "state": Voucher.State.ISSUED.value,
            "expires_from": today.isoformat(),
            "expires_to": last.isoformat(),
        }
    )
    return [
        WorkWaiting(
            f"Vouchers expiring in the next {EXPIRING_WITHIN_DAYS} days, not yet redeemed",
            vouchers_expiring(user, today=today).count(),
            f"{reverse('voucher_list')}?{query}",
            "Remind the family to use it in time; if they cannot, a lead can extend it.",
        )
    ]
