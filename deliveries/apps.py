from django.apps import AppConfig


class DeliveriesConfig(AppConfig):
    """Delivered services (white goods, furniture): referrals to the partner charity, its capacity, and
    what happened (built on the support core, funds and vouchers; nothing imports it)."""

    name = "deliveries"

    def ready(self) -> None:
        from deliveries import data_rights, fund_sources, registrations, statements, visibility
        from deliveries.models import DeliveredService
        from vouchers.selectors import register_not_for_vouchers

        registrations.register()
        fund_sources.register()
        visibility.register()
        statements.register()
        data_rights.register()
        # A delivered service is referred, not issued as a counter code.
        register_not_for_vouchers(lambda: DeliveredService.objects.values("voucher_type_id"))

    def impact_support_kinds(self) -> list:
        """White goods and furniture delivered, counted by the trust's impact report (which reads this at
        start-up, so deliveries never imports it)."""
        from deliveries.selectors import delivery_support_events

        return [("delivered", "White goods and furniture delivered", delivery_support_events)]

    def demo_seed(self) -> list[str]:
        from deliveries.demo import deliveries_demo_seed

        return deliveries_demo_seed()
