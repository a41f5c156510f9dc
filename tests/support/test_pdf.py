"""The one PDF renderer (support/pdf.py): every document goes through it, read back with pypdf.

Here: the renderer itself (the cache, the base stylesheet, nothing fetched from outside), the core's two
documents (the subject access export and the free school meals letter), and that nothing else imports
WeasyPrint. The feature apps' documents have a test each beside their other tests.
"""

import ast
import datetime
import io
from pathlib import Path
from urllib.parse import quote

import pytest
import time_machine
from django.template.loader import render_to_string
from pypdf import PdfReader

from support import pdf
from support.data_rights import render_subject_access_pdf, subject_access_data
from support.free_meals import fsm_letter_pupils, render_fsm_letter_pdf
from support.models import AuditEvent

ROOT = Path(__file__).resolve().parents[2]
STYLESHEET = "support/pdf/subject_access.css"
MM = 72 / 25.4


def text_of(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


def test_no_module_but_the_renderer_imports_weasyprint():
    """One PDF renderer: the apps render through ``support.pdf``, never WeasyPrint of their own."""
    skip = {".venv", "node_modules", "migrations", "tests", "bench", ".git"}
    offenders = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if skip.intersection(relative.parts) or relative == Path("support/pdf.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(relative))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            if any(name == "weasyprint" or name.startswith("weasyprint.") for name in names):
                offenders.append(f"{relative}:{node.lineno}")
    assert offenders == []


def test_every_documents_stylesheet_extends_the_base():
    stylesheets = sorted((ROOT / "templates").glob("*/pdf/*.css"))
    assert len(stylesheets) >= 6
    for path in stylesheets:
        assert path.read_text().startswith(f'{{% extends "{pdf.BASE_STYLESHEET}" %}}'), path
    base = render_to_string(pdf.BASE_STYLESHEET)
    assert "@page" in base
    assert 'font-family: "DejaVu Sans"' in base
    # A document fills in only what differs: the subject access export's smaller type and margins.
    css = pdf.stylesheet_text(STYLESHEET)
    assert "margin: 14mm 12mm 16mm;" in css
    assert "font-size: 7.5pt;" in css
    assert css.count("@page") == 1


def test_it_renders_once_and_serves_the_same_document_again_from_the_cache(pdf_renders):
    html = "<p>Hello from the renderer</p>"
    first = pdf.html_to_pdf(html, stylesheet=STYLESHEET, cache_key="test")
    again = pdf.html_to_pdf(html, stylesheet=STYLESHEET, cache_key="test")
    changed = pdf.html_to_pdf("<p>Hello again</p>", stylesheet=STYLESHEET, cache_key="test")

    assert again == first
    assert "Hello from the renderer" in text_of(first)
    assert "Hello again" in text_of(changed)
    assert pdf_renders == [STYLESHEET, STYLESHEET]  # the second was the cache's


def test_without_a_cache_key_it_always_renders(pdf_renders):
    for _ in range(2):
        pdf.html_to_pdf("<p>Batch</p>", stylesheet=STYLESHEET)
    assert len(pdf_renders) == 2


def test_the_cache_entry_changes_with_the_page_settings():
    html = "<p>Same words</p>"
    keys = {
        pdf.pdf_cache_key("doc", html, stylesheet=STYLESHEET),
        pdf.pdf_cache_key("doc", html, stylesheet=STYLESHEET, zoom=2.0),
        pdf.pdf_cache_key("doc", html, stylesheet=STYLESHEET, page_css="@page { size: A5; }"),
        pdf.pdf_cache_key("doc", html, stylesheet="support/pdf/fsm_letter.css"),
        pdf.pdf_cache_key("doc", html + " ", stylesheet=STYLESHEET),
    }
    assert len(keys) == 5


def test_it_lays_out_the_page_the_base_stylesheet_sets():
    page = PdfReader(io.BytesIO(pdf.html_to_pdf("<p>x</p>", stylesheet=STYLESHEET))).pages[0]
    assert (round(float(page.mediabox.width) / MM), round(float(page.mediabox.height) / MM)) == (210, 297)


def test_it_reads_data_urls_and_nothing_from_this_machine_or_the_network(tmp_path):
    rule = 'p::after { content: " SECRET-FROM-A-FILE"; }'
    secret = tmp_path / "secret.css"
    secret.write_text(rule)
    refused = pdf.html_to_pdf(
        f'<link rel="stylesheet" href="{secret.as_uri()}"><p>Letter</p>', stylesheet=STYLESHEET
    )
    allowed = pdf.html_to_pdf(
        f'<link rel="stylesheet" href="data:text/css,{quote(rule)}"><p>Letter</p>',
        stylesheet=STYLESHEET,
    )
    assert "SECRET-FROM-A-FILE" not in text_of(refused)
    assert "SECRET-FROM-A-FILE" in text_of(allowed)  # the same rule inline is read: only the file was refused


def test_the_subject_access_pdf_is_rendered_by_the_renderer_and_cached(family_a, admin, pdf_renders):
    data = subject_access_data(family=family_a, actor=admin)

    first = render_subject_access_pdf(data)
    again = render_subject_access_pdf(data)

    assert again == first
    assert pdf_renders == [STYLESHEET]
    text = text_of(first)
    assert "Everything held about Anna Able's family" in text
    assert "Alfie" in text


def test_the_free_school_meals_letter_is_rendered_by_the_renderer_and_cached(family_a, lead_a, pdf_renders):
    pupils = fsm_letter_pupils(user=lead_a, family=family_a)
    today = datetime.date(2026, 3, 2)

    with time_machine.travel(datetime.datetime(2026, 3, 2, 10, tzinfo=datetime.UTC), tick=False):
        first = render_fsm_letter_pdf(family=family_a, pupils=pupils, actor=lead_a, today=today)
        again = render_fsm_letter_pdf(family=family_a, pupils=pupils, actor=lead_a, today=today)

    assert again == first
    assert pdf_renders == ["support/pdf/fsm_letter.css"]
    text = text_of(first)
    assert "Dear Anna Able" in text
    assert "2 March 2026" in text
    # A letter has no footer: no page numbers.
    assert "Page 1 of 1" not in text
    # Each print is audited, the one from the cache too.
    assert AuditEvent.objects.filter(action="family.fsm_letter_printed").count() == 2


@pytest.mark.parametrize("name", ["statement", "year_end", "subject_access"])
def test_the_reports_keep_the_running_footer_and_page_numbers(name):
    css = {
        "statement": "vouchers/pdf/statement.css",
        "year_end": "finance/pdf/year_end.css",
        "subject_access": STYLESHEET,
    }[name]
    html = '<div class="running-footer">The footer line</div><p>Body</p>'
    text = text_of(pdf.html_to_pdf(html, stylesheet=css))
    assert "The footer line" in text
    assert "Page 1 of 1" in text
