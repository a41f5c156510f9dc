from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from support.models import Role
from support.permissions import has_perm
from support.scopes import scope_for


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    current: bool


# (label, url name, permission or None for every signed-in user, matched path prefix)
NAV = [
    ("Home", "home", None, None),
    ("Finance", "finance_dashboard", "fund.view", "/finance/"),
    ("Families", "family_list", "families.view", "/families/"),
    ("Vouchers", "voucher_list", "vouchers.view", "/vouchers/"),
    ("Uniform", "uniform_overview", "uniform.view", "/uniform/"),
    ("Check a voucher", "redeem_start", "vouchers.redeem", "/redeem/"),
    ("Requests", "support_request_list", "requests.view", "/requests/"),
    ("Redeemed", "redemption_list", "redemptions.view", "/redemptions/"),
    ("Statements", "statement_list", "statements.view", "/statements/"),
    ("Pupil import", "import_list", "pupils.import", "/imports/"),
    ("Possible duplicates", "duplicate_list", "families.merge", "/duplicates/"),
    ("API", "api_docs", None, "/api/"),
    ("Admin", "admin:index", "policy.edit", "/admin/"),
]


# Finance's sub-navigation (templates/finance/_nav.html): (url name, label, section key).
FINANCE_NAV = [
    ("finance_dashboard", "Dashboard", "dashboard"),
    ("finance_approvals", "Approvals", "approvals"),
    ("finance_ledger", "Ledger", "ledger"),
    ("finance_donations", "Donations", "donations"),
    ("finance_pledges", "Pledges", "pledges"),
]


def shell(request: HttpRequest) -> dict:
    context: dict = {
        "trust_name": settings.TRUST_NAME,
        "lockout_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return context
    scope = scope_for(user)
    items = []
    for label, name, permission, prefix in NAV:
        if permission is not None and not has_perm(user, permission):
            continue
        if name == "api_docs" and not scope.roles:
            continue
        url = reverse(name)
        current = request.path == url if prefix is None else request.path.startswith(prefix)
        items.append(NavItem(label, url, current))
    context["nav_items"] = items
    if has_perm(user, "fund.view"):
        context["finance_nav"] = FINANCE_NAV
    context["role_labels"] = [label for value, label in Role.choices if value in scope.roles]
    return context
