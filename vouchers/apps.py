from django.apps import AppConfig


class VouchersConfig(AppConfig):
    """Voucher types, vouchers, redemption and voucher PDFs (built on the support core)."""

    name = "vouchers"

    def ready(self) -> None:
        from vouchers import (
            data_rights,
            free_meals,
            fund_sources,
            merges,
            registrations,
            selectors,
            visibility,
        )

        registrations.register()
        fund_sources.register()
        data_rights.register()
        merges.register()
        visibility.register()
        free_meals.register()
        selectors.register_search()

    def demo_seed(self) -> list[str]:
        from vouchers.demo import voucher_demo_seed

        return voucher_demo_seed()
