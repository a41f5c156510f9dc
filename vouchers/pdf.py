"""Voucher PDFs through one narrow contract: ``render_voucher_pdf(voucher) -> bytes``.

Beside it, ``render_vouchers_pdf(vouchers)`` puts many vouchers in one document, one a page. Neither
renders a voucher that is not valid (cancelled, redeemed or past its date): they raise ConflictError.
Recording the print (and the audit) is the caller's business: ``services.voucher_record_print``.

Speed: a one-shot WeasyPrint render of a voucher spends about a third of its time loading fonts and
parsing the stylesheet. Each thread keeps one FontConfiguration, the stylesheet compiled against it and an
image cache, so later renders skip that (bench/voucher_pdf.py measures it). A reprint of an unchanged
voucher comes from Django's cache, keyed on a digest of everything printed.
"""

import functools
import gc
import hashlib
import io
import math
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import weasyprint
from django.conf import settings
from django.core.cache import cache
from django.template.loader import render_to_string
from pypdf import PdfReader, PdfWriter
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from support.errors import ConflictError
from vouchers.models import SERVICE_STOPPED_RULE, Fulfilment, Voucher
from vouchers.qr import qr_data_uri, redemption_url

TEMPLATE = "vouchers/pdf/voucher.html"
STYLESHEET = "vouchers/pdf/voucher.css"
# Bump when the rendering changes in a way the HTML and stylesheet do not show (cached PDFs are keyed on it).
RENDER_VERSION = "2"
CACHE_SECONDS = 24 * 60 * 60  # long enough for a lost voucher's reprint; it holds personal data

# The stylesheet lays out A5; A4 is the same layout zoomed by √2 (A-series pages share their shape).
# The A4 page is set a hair off A5 so that, zoomed, it is exactly 210 × 297 mm.
PAPER_SIZES = ("A5", "A4")
_PAPER = {"A5": (1.0, ""), "A4": (math.sqrt(2), "@page { size: 148.49mm 210.01mm; }")}
# Entries kept in a thread's image cache between renders. Every voucher's QR code is a new image (an SVG
# tree of about half a megabyte), so the cache is emptied when it passes this: a re-render of the same
# voucher (its expiry extended, say) still finds its QR code, and a batch does not pile them up.
_IMAGE_CACHE_ENTRIES = 64


def stylesheet_text() -> str:
    return render_to_string(STYLESHEET)


@functools.cache
def _layout_digest() -> str:
    return hashlib.sha256(
        f"{RENDER_VERSION}|{weasyprint.__version__}|{stylesheet_text()}".encode()
    ).hexdigest()


class _Renderer:
    """One per thread, made on first use: WeasyPrint's font configuration is not shared between threads."""

    def __init__(self) -> None:
        self.font_config = FontConfiguration()
        css = stylesheet_text()
        base = CSS(string=css, font_config=self.font_config)
        self.stylesheets = {
            paper: [base, CSS(string=extra, font_config=self.font_config)] if extra else [base]
            for paper, (_zoom, extra) in _PAPER.items()
        }
        self.images: dict = {}

    def write_pdf(self, html: str, paper: str) -> bytes:
        if len(self.images) > _IMAGE_CACHE_ENTRIES:
            # Only between renders: WeasyPrint reads the cache back while writing. The SVG trees hold
            # reference cycles, and the collector is held off during renders, so collect them now.
            self.images.clear()
            gc.collect()
        with _gc_paused():
            return HTML(string=html).write_pdf(
                stylesheets=self.stylesheets[paper],
                font_config=self.font_config,
                cache=self.images,
                zoom=_PAPER[paper][0],
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


def _check_paper(paper: str) -> str:
    paper = paper.upper()
    if paper not in _PAPER:
        raise ValueError(f"Paper size {paper!r} is not one of {', '.join(PAPER_SIZES)}")
    return paper


def refuse_unprintable(vouchers: Sequence[Voucher]) -> None:
    """Raise ConflictError for the first voucher that is not valid: it is never rendered."""
    for voucher in vouchers:
        if not voucher.is_valid:
            state = (
                "past its expiry date"
                if voucher.state == Voucher.State.ISSUED
                else voucher.get_state_display().lower()
            )
            raise ConflictError(
                f"Voucher {voucher.display_code} is {state}: only valid vouchers can be printed.",
                code="not_printable",
            )


def _lines(text: str, width: int) -> int:
    return sum(1 + len(line) // width for line in text.splitlines()) if text else 0


def _runs_long(voucher: Voucher) -> bool:
    """Whether the page needs the smaller type to stay on one page (the limits were found by eye)."""
    partner = voucher.voucher_type.partner
    beside_qr = _lines(voucher.lead_carer_name, 30) + _lines(voucher.dietary_needs, 28)
    place = _lines(partner.address, 36) + (3 if voucher.fulfilment == Fulfilment.DELIVERY else 0)
    return beside_qr > 6 or max(place, _lines(partner.opening_times, 30)) > 5


def voucher_context(voucher: Voucher, *, site_url: str | None = None) -> dict:
    """What one voucher's page shows. Of the family: the lead carer's name, household size, dietary needs."""
    url = redemption_url(voucher.code, site_url=site_url)
    return {
        "voucher": voucher,
        "partner": voucher.voucher_type.partner,
        "compact": _runs_long(voucher),
        "school": voucher.school,
        "code_groups": voucher.display_code.split("-"),
        "delivery": voucher.fulfilment == Fulfilment.DELIVERY,
        "qr": qr_data_uri(url),
        "redeem_url": url,
    }


def vouchers_html(
    vouchers: Sequence[Voucher], *, inline_css: str = "", site_url: str | None = None
) -> str:
    """The HTML for ``vouchers``, one a page. ``inline_css`` only for a one-shot render (benchmarks).

    ``site_url`` starts the QR codes' links (see ``vouchers.qr.redemption_url``).
    """
    context = {
        "vouchers": [voucher_context(v, site_url=site_url) for v in vouchers],
        "trust_name": settings.TRUST_NAME,
        "service_stopped_rule": SERVICE_STOPPED_RULE,
        "inline_css": inline_css,
    }
    return render_to_string(TEMPLATE, context)


def render_vouchers_pdf(
    vouchers: Sequence[Voucher], *, paper: str = "A5", site_url: str | None = None
) -> bytes:
    """One PDF with a page for each voucher, in the order given. Never cached."""
    paper = _check_paper(paper)
    if not vouchers:
        raise ValueError("No vouchers to render")
    refuse_unprintable(vouchers)
    return _renderer().write_pdf(vouchers_html(vouchers, site_url=site_url), paper)


def _cache_key(voucher: Voucher, paper: str, html: str) -> str:
    # The digest covers everything printed (the voucher, its partner and school), the stylesheet and
    # WeasyPrint's version, so a change to any of them makes a new PDF rather than serving a stale one.
    digest = hashlib.sha256(f"{_layout_digest()}|{paper}|{html}".encode()).hexdigest()
    return f"voucher-pdf:{voucher.pk}:{paper}:{digest}"


def render_voucher_pdf(voucher: Voucher, *, paper: str = "A5", site_url: str | None = None) -> bytes:
    """One voucher's PDF; a reprint of an unchanged voucher comes from the cache."""
    paper = _check_paper(paper)
    refuse_unprintable([voucher])
    html = vouchers_html([voucher], site_url=site_url)
    key = _cache_key(voucher, paper, html)
    pdf = cache.get(key)
    if pdf is None:
        pdf = _renderer().write_pdf(html, paper)
        cache.set(key, pdf, CACHE_SECONDS)
    return pdf


def merge_pdfs(parts: Iterable[bytes]) -> bytes:
    """One PDF of the pages of ``parts``, in order (a batch rendered in chunks by several workers)."""
    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(io.BytesIO(part)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
