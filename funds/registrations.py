"""What the core learns about the fund: its permissions, navigation and home panel (see support.registry)."""

from funds.services import gift_aid  # noqa: F401  (registers the claim as a ledger source)
from funds.web.panels import home_standby_fund
from support import registry
from support.models import Role

FINANCE = frozenset({Role.FINANCE})


def register() -> None:
    registry.register_permissions(
        {
            "fund.view": FINANCE,
            "fund.record_donation": FINANCE,
            "fund.approve": FINANCE,
            "fund.reverse": FINANCE,
            "fund.export": FINANCE,
            # Donors' declarations hold home addresses: finance's alone (trust admins hold every permission).
            "giftaid.view": FINANCE,
            "giftaid.manage": FINANCE,
            # A donor's subject access export, like a family's, is a trust admin's.
            "giftaid.subject_access": frozenset(),
        }
    )
    registry.register_nav_item(
        "Finance", url_name="finance_dashboard", permission="fund.view", prefix="/finance/", order=10
    )
    registry.register_guide(
        "finance-approvals", title="Approving spending from the fund", permission="fund.view"
    )
    registry.register_guide("donations", title="Recording donations and pledges", permission="fund.view")
    registry.register_guide("gift-aid", title="Gift Aid declarations and claims", permission="giftaid.view")
    # Finance's own tabs (templates/finance/_nav.html): (url name, label, section key).
    registry.register_section_nav(
        "finance",
        permission="fund.view",
        items=[
            ("finance_dashboard", "Dashboard", "dashboard"),
            ("finance_approvals", "Approvals", "approvals"),
            ("finance_ledger", "Ledger", "ledger"),
            ("finance_donations", "Donations", "donations"),
            ("finance_pledges", "Pledges", "pledges"),
            ("finance_gift_aid", "Gift Aid", "gift_aid"),
        ],
    )

    registry.register_home_panel(
        "standby_fund", template="finance/home_panel.html", context=home_standby_fund, order=30
    )
