"""The one PDF renderer: every document the trust prints goes through ``render_pdf`` (or ``html_to_pdf``).

A document is a template under ``templates/<app>/pdf/`` and a stylesheet template that extends
``pdf/base.css`` (page size and margins, the type, the running footer and page numbers), filling in only
what differs. Nothing else in the code base imports WeasyPrint (tests/support/test_pdf.py checks).

Speed: a one-shot WeasyPrint render spends about a third of a small document's time loading fonts and
parsing the stylesheet. Each thread keeps one FontConfiguration, every stylesheet compiled against it and
an image cache, so later renders skip that (bench/voucher_pdf.py measures it). The cycle collector is held
off while WeasyPrint works.

Cache: given a ``cache_key``, the PDF is kept in Django's cache under that key and a digest of everything
that makes it (the HTML, the stylesheet, the page settings, RENDER_VERSION and WeasyPrint's version), so
the same document asked for again is not rendered again, and a change to any of those makes a new one
rather than serving a stale one. The key names the document for whoever reads the cache; the digest is
what makes it safe. PDFs hold personal data: they are kept for ``cache_seconds`` only.

Fetching: a document loads nothing from outside itself. Only ``data:`` URLs (the voucher's QR code) are
read; any other URL (a file on this machine, an address on the network) is refused: WeasyPrint logs the
refusal and leaves the resource out.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.template.loader import render_to_string

if TYPE_CHECKING:
    from weasyprint import CSS

BASE_STYLESHEET = "pdf/base.css"
# Bump when the rendering changes in a way the HTML and stylesheets do not show (cached PDFs are keyed on it).
RENDER_VERSION = "3"
CACHE_SECONDS = 60 * 60  # a reprint or a second click; the PDFs hold personal data
# Entries kept in a thread's image cache between renders. Every voucher's QR code is a new image (an SVG
# tree of about half a megabyte), so the cache is emptied when it passes this: a re-render of the same
# voucher (its expiry extended, say) still finds its QR code, and a batch does not pile them up.
_IMAGE_CACHE_ENTRIES = 64


def stylesheet_text(stylesheet: str) -> str:
    """The stylesheet template as CSS (it extends ``pdf/base.css``)."""
    return render_to_string(stylesheet)


@functools.cache
def _layout_digest(stylesheet: str, page_css: str, zoom: float) -> str:
    """What a PDF depends on besides its HTML; computed once a process (templates do not change under it)."""
    made_by = f"{RENDER_VERSION}|{version('weasyprint')}|{zoom!r}|{page_css}|{stylesheet_text(stylesheet)}"
    return hashlib.sha256(made_by.encode()).hexdigest()


class _Renderer:
    """One per thread, made on first use: WeasyPrint's font configuration is not shared between threads."""

    def __init__(self) -> None:
        from weasyprint.text.fonts import FontConfiguration
        from weasyprint.urls import URLFetcher

        self.font_config = FontConfiguration()
        self.url_fetcher = URLFetcher(allowed_protocols={"data"})
        self.stylesheets: dict[tuple[str, str], list[CSS]] = {}
        self.images: dict = {}

    def _compiled(self, stylesheet: str, page_css: str) -> list[CSS]:
        compiled = self.stylesheets.get((stylesheet, page_css))
        if compiled is None:
            from weasyprint import CSS

            sheets = [stylesheet_text(stylesheet)] + ([page_css] if page_css else [])
            compiled = self.stylesheets[(stylesheet, page_css)] = [
                CSS(string=text, font_config=self.font_config, url_fetcher=self.url_fetcher)
                for text in sheets
            ]
        return compiled

    def write_pdf(self, html: str, *, stylesheet: str, page_css: str = "", zoom: float = 1.0) -> bytes:
        from weasyprint import HTML

        stylesheets = self._compiled(stylesheet, page_css)
        if len(self.images) > _IMAGE_CACHE_ENTRIES:
            # Only between renders: WeasyPrint reads the cache back while writing. The SVG trees hold
            # reference cycles, and the collector is held off during renders, so collect them now.
            self.images.clear()
            gc.collect()
        with _gc_paused():
            return HTML(string=html, url_fetcher=self.url_fetcher).write_pdf(
                stylesheets=stylesheets, font_config=self.font_config, cache=self.images, zoom=zoom
            )


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Hold off the cycle collector while WeasyPrint works.

    A render makes millions of short-lived objects that reference counting frees anyway; collecting them
    as they come cost about a fifth of a 50-voucher render here. Cycles left over are collected later.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


_local = threading.local()


def _renderer() -> _Renderer:
    renderer = getattr(_local, "renderer", None)
    if renderer is None:
        renderer = _local.renderer = _Renderer()
    return renderer


def pdf_cache_key(
    cache_key: str, html: str, *, stylesheet: str, page_css: str = "", zoom: float = 1.0
) -> str:
    """The cache entry of a document named ``cache_key`` with this HTML and these page settings."""
    layout = _layout_digest(stylesheet, page_css, zoom)
    digest = hashlib.sha256(f"{layout}|{html}".encode()).hexdigest()
    return f"pdf:{cache_key}:{digest}"


def html_to_pdf(
    html: str,
    *,
    stylesheet: str,
    page_css: str = "",
    zoom: float = 1.0,
    cache_key: str | None = None,
    cache_seconds: int = CACHE_SECONDS,
) -> bytes:
    """``html`` as a PDF laid out by ``stylesheet`` (a template extending ``pdf/base.css``).

    ``page_css``: extra CSS after the stylesheet (a paper size, say); ``zoom`` scales the whole page.
    With a ``cache_key`` the PDF is kept in the cache (see the module's docstring); without one it is
    always rendered (batches too large to be worth keeping).
    """
    if cache_key is None:
        return _renderer().write_pdf(html, stylesheet=stylesheet, page_css=page_css, zoom=zoom)
    key = pdf_cache_key(cache_key, html, stylesheet=stylesheet, page_css=page_css, zoom=zoom)
    pdf = cache.get(key)
    if pdf is None:
        pdf = _renderer().write_pdf(html, stylesheet=stylesheet, page_css=page_css, zoom=zoom)
        cache.set(key, pdf, cache_seconds)
    return pdf


def render_pdf(
    template: str,
    context: Mapping[str, Any],
    *,
    stylesheet: str,
    page_css: str = "",
    zoom: float = 1.0,
    cache_key: str | None = None,
    cache_seconds: int = CACHE_SECONDS,
) -> bytes:
    """The document ``template`` rendered with ``context``, as a PDF (``html_to_pdf``)."""
    return html_to_pdf(
        render_to_string(template, dict(context)),
        stylesheet=stylesheet,
        page_css=page_css,
        zoom=zoom,
        cache_key=cache_key,
        cache_seconds=cache_seconds,
    )
