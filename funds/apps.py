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
        from funds.demo import fund_demo_seed, gift_aid_demo_seed

        donations = fund_demo_seed()
        lines = [f"Standby fund: {donations} donations recorded."] if donations else []
        gift_aid = gift_aid_demo_seed()
        return [*lines, gift_aid] if gift_aid else lines
