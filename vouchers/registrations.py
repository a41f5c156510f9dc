"""What the core learns about vouchers: permissions, navigation, family-page and home panels and timeline
entries (see support.registry)."""

from support import registry
from support.models import Role
from support.permissions import LEADS, SCHOOL_STAFF
from vouchers.panels import (
    family_issue_action,
    family_recent_vouchers,
    home_code_box,
    home_vouchers_expiring,
)
from vouchers.timeline import voucher_timeline_entries


def register() -> None:
    registry.register_permissions(
        {
            "vouchers.view": SCHOOL_STAFF | {Role.FINANCE},
            "vouchers.issue": SCHOOL_STAFF,
            "vouchers.cancel": SCHOOL_STAFF,
            "vouchers.extend": LEADS,
            "vouchers.override_limit": LEADS,
            "vouchers.print": SCHOOL_STAFF,
            "vouchers.export": SCHOOL_STAFF | {Role.FINANCE},
            "vouchers.redeem": {Role.CHARITY},
            "redemptions.view": {Role.CHARITY, Role.FINANCE},
            "statements.view": {Role.CHARITY, Role.FINANCE},
        }
    )
    registry.register_guide("issue-a-voucher", title="Issuing a voucher", permission="vouchers.issue")
    registry.register_guide(
        "redeem-at-the-counter", title="Redeeming a voucher at the counter", permission="vouchers.redeem"
    )
    registry.register_nav_group("vouchers", label="Vouchers", order=30)
    registry.register_nav_item(
        "Vouchers",
        url_name="voucher_list",
        permission="vouchers.view",
        prefix="/vouchers/",
        order=30,
        group="vouchers",
    )
    registry.register_nav_item(
        "Check a voucher",
        url_name="redeem_start",
        permission="vouchers.redeem",
        prefix="/redeem/",
        order=50,
        group="vouchers",
    )
    registry.register_nav_item(
        "Redeemed",
        url_name="redemption_list",
        permission="redemptions.view",
        prefix="/redemptions/",
        group="vouchers",
        order=70,
    )
    registry.register_nav_item(
        "Statements",
        url_name="statement_list",
        permission="statements.view",
        prefix="/statements/",
        order=80,
        group="vouchers",
    )
    registry.register_family_panel(
        "voucher_issue",
        template="vouchers/panels/family_issue.html",
        context=family_issue_action,
        slot="actions",
        order=10,
    )
    registry.register_family_panel(
        "vouchers",
        template="vouchers/panels/family_vouchers.html",
        context=family_recent_vouchers,
        slot="main",
        order=10,
    )
    registry.register_timeline_source(
        "vouchers",
        label="Vouchers",
        entries=voucher_timeline_entries,
        permission="vouchers.view",
        order=10,
    )
    registry.register_home_panel(
        "redeem_code", template="vouchers/panels/home_code.html", context=home_code_box, slot="start"
    )
    registry.register_home_panel("vouchers_expiring", context=home_vouchers_expiring, slot="work", order=20)
