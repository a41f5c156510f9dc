from django.apps import AppConfig


class UniformConfig(AppConfig):
    """Uniform items, welcome packs, gifts, stock, and coat and shoe requests (built on the support core)."""

    name = "uniform"
