"""Text messages through a pluggable backend (``SMS_BACKEND``), like Django's e-mail backends."""

import logging
import sys

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


class BaseSMSBackend:
    def send(self, *, to: str, body: str) -> None:
        raise NotImplementedError


class ConsoleSMSBackend(BaseSMSBackend):
    """Prints messages (the embedded default, like Django's console e-mail backend)."""

    def send(self, *, to: str, body: str) -> None:
        sys.stdout.write(f"--- text message to {to} ---\n{body}\n---\n")


class LocMemSMSBackend(BaseSMSBackend):
    """Keeps messages in ``outbox``, for tests."""

    outbox: list[dict[str, str]] = []

    def send(self, *, to: str, body: str) -> None:
        type(self).outbox.append({"to": to, "body": body})


def get_sms_backend() -> BaseSMSBackend:
    return import_string(settings.SMS_BACKEND)()
