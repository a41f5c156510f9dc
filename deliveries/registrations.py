"""What the core learns about deliveries: permissions, navigation, family-page and home panels, timeline."""

from deliveries.panels import (
    family_refer_action,
    family_referrals,
    home_latest_from_charity,
    home_referrals_waiting,
)
from deliveries.timeline import referral_timeline_entries
from support import registry
from support.models import Role
from support.permissions import SCHOOL_STAFF


def register() -> None:
    registry.register_permissions(
        {
            "deliveries.view": SCHOOL_STAFF | {Role.CHARITY},
            "deliveries.refer": SCHOOL_STAFF,
            "deliveries.cancel": SCHOOL_STAFF,
            "deliveries.manage": {Role.CHARITY},
            # The header link to the referrals list: the charity's inbox, and leads' overview. Pastoral
            # staff follow their referrals on the family page and home, so their header keeps its five
            # links of daily work on one line (a sixth folds it into menus); the list still opens for them.
            "deliveries.list_link": {Role.LEAD, Role.CHARITY},
        }
    )
    registry.register_nav_item(
        "Deliveries",
        url_name="referral_inbox",
        permission="deliveries.list_link",
        prefix="/deliveries/",
        order=60,
        group="vouchers",
    )
    registry.register_family_panel(
        "referral_new",
        template="deliveries/panels/family_refer.html",
        context=family_refer_action,
        slot="actions",
        order=20,
    )
    registry.register_family_panel(
        "referrals",
        template="deliveries/panels/family_referrals.html",
        context=family_referrals,
        slot="main",
        order=15,
    )
    registry.register_timeline_source(
        "deliveries",
        label="Deliveries",
        entries=referral_timeline_entries,
        permission="deliveries.view",
        order=15,
    )
    registry.register_home_panel("referrals_waiting", context=home_referrals_waiting, slot="work", order=25)
    registry.register_home_panel(
        "referrals_latest",
        template="deliveries/panels/home_latest.html",
        context=home_latest_from_charity,
        order=40,
    )
