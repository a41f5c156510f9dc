from django.apps import AppConfig


class UniformConfig(AppConfig):
    """Uniform items, welcome packs, gifts, stock, and coat and shoe requests (built on the support core)."""

    name = "uniform"

    def demo_seed(self) -> list[str]:
        from uniform.demo import uniform_demo_seed

        return uniform_demo_seed()
