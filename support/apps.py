from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Trust support core"

    def ready(self) -> None:
        from support import checks  # noqa: F401  (registers system checks)
        from support.merges import register_core_handlers
        from support.visibility import register_core

        register_core_handlers()
        register_core()
