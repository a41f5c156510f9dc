from django.apps import AppConfig


class SignpostingConfig(AppConfig):
    """The agency directory, and signposts and referrals of families to other agencies (on the core)."""

    name = "signposting"

    def ready(self) -> None:
        from signposting import data_rights, merges, registrations, visibility

        registrations.register()
        data_rights.register()
        merges.register()
        visibility.register()

    def impact_support_kinds(self) -> list:
        """Signposts and referrals, counted by the trust's impact report (which reads this at start-up,
        so signposting never imports it)."""
        from signposting.selectors import support_events

        return [("signposting", "Signposting and referrals", support_events)]

    def demo_seed(self) -> list[str]:
        from signposting.demo import signposting_demo_seed

        return signposting_demo_seed()
