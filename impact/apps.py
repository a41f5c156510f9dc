from django.apps import AppConfig


class ImpactConfig(AppConfig):
    """The impact report for the trust's board: what the support did, in aggregates only (issue 18).
    Reads support, funds, vouchers and uniform through their selectors; nothing imports it."""

    name = "impact"
    verbose_name = "Impact report"

    def ready(self) -> None:
        from impact import registrations
        from impact.registry import collect_app_kinds

        registrations.register()
        collect_app_kinds()

    def demo_seed(self) -> list[str]:
        from impact.demo import impact_demo_seed

        return impact_demo_seed()
