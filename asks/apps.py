from django.apps import AppConfig


class AsksConfig(AppConfig):
    """The public ask-for-help page per school and the pastoral leads' queue behind it."""

    name = "asks"

    def ready(self) -> None:
        from asks import data_rights, registrations, visibility

        registrations.register()
        data_rights.register()
        visibility.register()

    def demo_seed(self) -> list[str]:
        from asks.demo import asks_demo_seed

        return asks_demo_seed()
