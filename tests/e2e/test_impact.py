"""A trustee signs in, reads the impact report for a year (small numbers shown as "fewer than 5", the year
before beside it), and downloads the PDF for the board; a family's page stays closed to them."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from support.models import Role
from tests.e2e.browser import download_from, follow, sign_in
from tests.factories import make_user
from tests.impact.test_report import world  # noqa: F401 (the hand-counted fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_trustee_reads_the_impact_report_and_downloads_its_pdf(page, check_page, world):  # noqa: F811
    trustee = make_user("trustee", Role.TRUSTEE)
    sign_in(page, trustee)
    follow(page.get_by_role("link", name="Read the impact report"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Impact report")
    page.get_by_label("Academic year").select_option(label="2025–26")
    follow(page.get_by_role("button", name="Show the report"))
    assert page.get_by_role("heading", level=1).inner_text() == "Impact report: 2025–26"
    trust = page.locator("table[data-section='supported']").first
    families = trust.locator("tr", has=page.get_by_role("rowheader", name="Families supported", exact=True))
    assert families.locator("td").all_inner_texts() == ["9", "fewer than 5"]
    chart = page.locator("main svg[role='img']").first
    assert "Pupils supported by kind of support" in (chart.locator("title").text_content() or "")
    check_page(page, "impact-report")

    data, filename = download_from(
        page, page.get_by_role("link", name="Download the report for the board (PDF)")
    )
    assert filename == "impact-report-2025-26.pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "Impact report for the" in text
    assert "fewer than 5" in text
    assert "Carer A1" not in text

    response = page.request.get(reverse("family_list"))
    assert response.status == 403
