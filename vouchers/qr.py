"""QR codes (segno) for the redemption URL, as inline SVG for pages and as a data URI for PDFs."""

from functools import lru_cache

import segno
from django.conf import settings
from django.urls import reverse


def redemption_url(code: str, *, site_url: str | None = None) -> str:
    """What the QR code holds: the charity's redemption page for this code.

    ``site_url`` is where the work started (``support.http.site_url``); without one, ``SITE_URL``.
    """
    return (site_url or settings.SITE_URL) + reverse("redeem_code", args=[code])


@lru_cache(maxsize=2048)
def qr_svg(data: str, *, scale: int = 4) -> str:
    """An inline <svg> (no XML declaration), dark modules on white, with a quiet zone."""
    return segno.make(data, error="m").svg_inline(scale=scale, border=4, dark="#0b0c0c", light="#ffffff")


@lru_cache(maxsize=2048)
def qr_data_uri(data: str, *, scale: int = 4) -> str:
    return segno.make(data, error="m").svg_data_uri(scale=scale, border=4, dark="#0b0c0c", light="#ffffff")
