"""The partner statement's PDF goes through the one renderer (support/pdf.py): rendered once, then cached."""

import datetime
import io

from pypdf import PdfReader

from vouchers import statements


def test_the_statement_is_rendered_by_the_renderer_and_cached(partner_1, pdf_renders):
    month = datetime.date(2025, 8, 1)
    summary = statements.statement_summary(partner=partner_1, month=month)
    made = datetime.datetime(2025, 9, 1, 6, tzinfo=datetime.UTC)

    first = statements.statement_render_pdf(summary, generated_at=made)
    again = statements.statement_render_pdf(summary, generated_at=made)
    later = statements.statement_render_pdf(summary, generated_at=made + datetime.timedelta(days=1))

    assert again == first
    assert later != first  # a different "made" time is a different document
    assert pdf_renders == [statements.STYLESHEET, statements.STYLESHEET]
    reader = PdfReader(io.BytesIO(first))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "Voucher statement" in text
    assert partner_1.name in text
    assert "August 2025" in text
    assert f"Page 1 of {len(reader.pages)}" in text  # the base stylesheet's page numbers
