from django.apps import AppConfig


class FundsConfig(AppConfig):
    """The standby fund and finance: funds, the append-only ledger, donations, pledges, allocations, spend
    approvals, the finance pages, reports, exports and the finance API (built on the support core)."""

    name = "funds"
    verbose_name = "Standby fund and finance"

    def ready(self) -> None:
        from funds import registrations, visibility

        registrations.register()
        visibility.register()

    def demo_seed(self) -> list[str]:
        from funds.demo import fund_demo_seed

        # No Gift Aid declaration is seeded: recording one for each trustee is the walk-through's first
        # step (docs/demo.md gives their details); Mrs Carter's sponsored gift asks for Gift Aid undeclared.
        donations = fund_demo_seed()
        return [f"Standby fund: {donations} donations recorded."] if donations else []
