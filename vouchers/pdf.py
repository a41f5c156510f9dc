"""Voucher PDFs through one narrow contract: ``render_voucher_pdf(voucher) -> bytes``.

Beside it, ``render_vouchers_pdf(vouchers)`` puts many vouchers in one document, one a page. Neither
renders a voucher that is not valid (cancelled, redeemed or past its date): they raise ConflictError.
Recording the print (and the audit) is the caller's business: ``services.voucher_record_print``.

Rendering is ``support.pdf``'s (per-thread fonts and stylesheets, the cache). A reprint of an unchanged
voucher comes from the cache, keyed on a digest of everything printed; a batch is never cached.
"""

import io
import math
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.template.loader import render_to_string
from pypdf import PdfReader, PdfWriter

from support.errors import ConflictError
from support.languages import family_language
from support.pdf import html_to_pdf
from vouchers.models import SERVICE_STOPPED_RULE, Fulfilment, Voucher
from vouchers.qr import qr_data_uri, redemption_url

TEMPLATE = "vouchers/pdf/voucher.html"
STYLESHEET = "vouchers/pdf/voucher.css"
CACHE_SECONDS = 24 * 60 * 60  # long enough for a lost voucher's reprint; it holds personal data

# The stylesheet lays out A5; A4 is the same layout zoomed by √2 (A-series pages share their shape).
# The A4 page is set a hair off A5 so that, zoomed, it is exactly 210 × 297 mm.
PAPER_SIZES = ("A5", "A4")
_PAPER = {"A5": (1.0, ""), "A4": (math.sqrt(2), "@page { size: 148.49mm 210.01mm; }")}


def _write(html: str, paper: str, *, cache_key: str | None = None) -> bytes:
    zoom, page_css = _PAPER[paper]
    return html_to_pdf(
        html,
        stylesheet=STYLESHEET,
        page_css=page_css,
        zoom=zoom,
        cache_key=cache_key,
        cache_seconds=CACHE_SECONDS,
    )


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
    language = family_language(voucher.family.language)
    return {
        "voucher": voucher,
        "partner": voucher.voucher_type.partner,
        # A page that says it all again in the family's language sets the English smaller to make room.
        "compact": _runs_long(voucher) or language is not None,
        "school": voucher.school,
        "code_groups": voucher.display_code.split("-"),
        "delivery": voucher.fulfilment == Fulfilment.DELIVERY,
        "qr": qr_data_uri(url),
        "redeem_url": url,
        # The family's language, when it is one we translate into: the page says it all again in it.
        "language": language,
    }


def vouchers_html(vouchers: Sequence[Voucher], *, inline_css: str = "", site_url: str | None = None) -> str:
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
    return _write(vouchers_html(vouchers, site_url=site_url), paper)


def render_voucher_pdf(voucher: Voucher, *, paper: str = "A5", site_url: str | None = None) -> bytes:
    """One voucher's PDF; a reprint of an unchanged voucher comes from the cache.

    The cache's digest covers everything printed (the voucher, its partner and school), the stylesheet
    and WeasyPrint's version, so a change to any of them makes a new PDF rather than serving a stale one.
    """
    paper = _check_paper(paper)
    refuse_unprintable([voucher])
    return _write(
        vouchers_html([voucher], site_url=site_url), paper, cache_key=f"voucher:{voucher.pk}:{paper}"
    )


def merge_pdfs(parts: Iterable[bytes]) -> bytes:
    """One PDF of the pages of ``parts``, in order (a batch rendered in chunks by several workers)."""
    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(io.BytesIO(part)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
