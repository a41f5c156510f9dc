"""The vouchers panel on a family's page, read through the scoped selector.

A template tag rather than context from the family view, because ``support`` never imports a feature app.
"""

from django import template
from django.urls import reverse

from support.permissions import has_perm
from vouchers.selectors import vouchers_visible_to

register = template.Library()

RECENT = 5


@register.simple_tag(takes_context=True)
def family_voucher_panel(context: template.Context, family) -> dict:
    """``{% family_voucher_panel family as panel %}``: the user's view of this family's vouchers."""
    user = context["request"].user
    if not has_perm(user, "vouchers.view"):
        return {"visible": False}
    vouchers = vouchers_visible_to(user).filter(family=family)
    recent = list(vouchers.select_related("voucher_type", "school")[:RECENT])
    total = len(recent) if len(recent) < RECENT else vouchers.count()
    return {
        "visible": True,
        "can_issue": has_perm(user, "vouchers.issue"),
        "issue_url": reverse("voucher_issue", args=[family.pk]),
        "recent": recent,
        "total": total,
        "list_url": f"{reverse('voucher_list')}?family={family.pk}",
    }
