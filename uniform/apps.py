from django.apps import AppConfig


class UniformConfig(AppConfig):
    """Uniform items, welcome packs, gifts, stock, and coat and shoe requests (built on the support core)."""

    name = "uniform"

    def ready(self) -> None:
        from uniform import data_rights, free_meals, fund_sources, registrations, visibility

        registrations.register()
        fund_sources.register()
        data_rights.register()
        visibility.register()
        free_meals.register()

    def demo_seed(self) -> list[str]:
        from uniform.demo import uniform_demo_seed

        return uniform_demo_seed()
