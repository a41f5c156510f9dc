"""The year-end report's PDF goes through the one renderer (support/pdf.py): rendered once, then cached."""

import datetime
import io

from pypdf import PdfReader

from funds.models import Fund
from funds.selectors.reports import fund_year_summary
from funds.services import year_end


def test_the_year_end_report_is_rendered_by_the_renderer_and_cached(finance, pdf_renders):
    fund = Fund.objects.create(name="Hardship reserve")
    summary = fund_year_summary(fund=fund, year=2024, today=datetime.date(2026, 1, 5))
    made = datetime.datetime(2026, 1, 5, 9, tzinfo=datetime.UTC)
    report = year_end.year_end_report(user=finance, summary=summary, generated_at=made)

    first = year_end.render_year_end_pdf(report)
    again = year_end.render_year_end_pdf(report)

    assert again == first
    assert pdf_renders == [year_end.STYLESHEET]
    reader = PdfReader(io.BytesIO(first))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "Year-end report for the trust board" in text
    assert "Hardship reserve" in text
    assert f"Page 1 of {len(reader.pages)}" in text
