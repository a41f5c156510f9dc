"""The one "Are you sure?" page (the GOV.UK confirmation pattern) for actions that cannot be undone.

A destructive form posts twice to the same URL: first without ``confirm``, and the view answers with
``confirm_page`` (what will happen, the values carried over as hidden fields, a warning button and a link
back); then with ``confirm=yes``, and the view calls its service exactly as before. Nothing is written
by the first post, and no browser pop-up is needed.
"""

from collections.abc import Iterable, Mapping

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

CONFIRM_FIELD = "confirm"


def confirmed(request: HttpRequest) -> bool:
    """The post comes from the confirmation page."""
    return request.method == "POST" and request.POST.get(CONFIRM_FIELD) == "yes"


def confirm_page(
    request: HttpRequest,
    *,
    title: str,
    consequences: Iterable[str],
    action: str,
    button: str,
    back_url: str,
    back_label: str = "Cancel",
    caption: str = "",
    fields: Mapping[str, str] | None = None,
    summary: Iterable[tuple[str, str]] = (),
    warning: str = "",
    destructive: bool = True,
) -> HttpResponse:
    """Render the confirmation page: ``title`` ("Are you sure you want to …?"), what will happen, an
    optional summary list of (key, value), the ``fields`` to post again, a ``button`` (a warning button
    when ``destructive``) and a ``back_label`` link to ``back_url``."""
    return render(
        request,
        "confirm.html",
        {
            "title": title,
            "caption": caption,
            "consequences": list(consequences),
            "summary": list(summary),
            "warning": warning,
            "action": action,
            "fields": dict(fields or {}),
            "button": button,
            "destructive": destructive,
            "back_url": back_url,
            "back_label": back_label,
            "confirm_field": CONFIRM_FIELD,
        },
    )
