from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Trust support core"

    def ready(self) -> None:
        from support import (
            checks,  # noqa: F401  (registers system checks)
            home,
            timeline,
        )
        from support.contacts import register_contacts
        from support.context_processors import register_core_nav
        from support.merges import register_core_handlers
        from support.search import connect_signals
        from support.visibility import register_core

        register_core_handlers()
        register_core()
        register_contacts()
        register_core_nav()
        timeline.register_core()
        connect_signals()
        home.register_core()

        self._bound_model_serializer_dates()

    @staticmethod
    def _bound_model_serializer_dates() -> None:
        """Every ModelSerializer's date fields get support.bounds' window (explicitly declared ones use
        support.api.fields; tests/security/test_bad_input.py checks every serializer)."""
        from django.db import models
        from rest_framework import serializers

        from support.api.fields import BoundedDateField, BoundedDateTimeField

        serializers.ModelSerializer.serializer_field_mapping[models.DateField] = BoundedDateField
        serializers.ModelSerializer.serializer_field_mapping[models.DateTimeField] = BoundedDateTimeField
