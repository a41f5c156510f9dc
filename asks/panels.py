"""Asks' count on home's "Waiting for you" list (support.registry's ``work`` slot)."""

from django.http import HttpRequest
from django.urls import reverse

from asks.selectors import asks_open_for
from support.permissions import has_perm
from support.registry import WorkWaiting


def home_asks_waiting(request: HttpRequest) -> list[WorkWaiting]:
    if not has_perm(request.user, "asks.decide"):
        return []
    return [
        WorkWaiting(
            "Asks for help",
            asks_open_for(request.user).count(),
            reverse("ask_queue"),
            "Parents and carers asked through your schools' help pages: match each to a family and help.",
        )
    ]
