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

    def demo_seed(self) -> list[str]:
        from signposting.demo import signposting_demo_seed

        return signposting_demo_seed()
