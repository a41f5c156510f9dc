"""Finance: a school's request above the approval threshold waits in the queue; finance approves it, sees
the commitment on the ledger, downloads the ledger as a spreadsheet and opens it; the dashboard draws its
charts (as images with text alternatives, fitting a phone)."""

import datetime
import io
import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from funds.models import SpendRequest
from tests.e2e.browser import DESKTOP, PHONE, download_from, follow, sign_in
from uniform.models import SupportRequest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_finance_approves_a_request_and_opens_the_ledger_spreadsheet(
    page, check_page, finance, funded, blazer_request
):
    from openpyxl import load_workbook

    sign_in(page, finance, next_path=reverse("finance_approvals"))
    assert page.get_by_role("heading", level=1).inner_text() == "Spend waiting for approval"
    check_page(page, "approvals-queue")
    follow(page.get_by_role("link", name="1 × Blazer, size M, Alpha Primary Academy"))
    assert "£120.00" in page.locator(".govuk-summary-list").first.inner_text()
    check_page(page, "approval")

    page.get_by_label("Note to the school").fill("Approved from the standby fund.")
    follow(page.get_by_role("button", name="Approve and commit £120.00"))
    expect(
        page.get_by_text("1 × Blazer, size M, Alpha Primary Academy: approved. The school has been told.")
    ).to_be_visible()
    spend = SpendRequest.objects.get()
    assert spend.status == SpendRequest.Status.APPROVED
    assert spend.decided_by == finance
    assert SupportRequest.objects.get(pk=blazer_request.pk).status == SupportRequest.Status.APPROVED
    assert page.get_by_text("Nothing is waiting for finance.").is_visible()
    check_page(page, "approvals-decided")

    follow(page.locator(".govuk-service-navigation").get_by_role("link", name="Ledger"))
    check_page(page, "ledger")
    # On a phone the ledger's table scrolls inside its own box, which keyboard users can focus and
    # which is named after the table; at desktop width it fits, and is a plain box again.
    box = page.locator(".app-table-scroll", has=page.locator("caption", has_text="Ledger entries"))
    page.set_viewport_size(PHONE)
    expect(box).to_have_attribute("role", "region")  # set by a resize handler: waits for it
    expect(box).to_have_attribute("tabindex", "0")
    expect(box).to_have_attribute("aria-label", re.compile(r"^Ledger entries of Standby fund"))
    page.set_viewport_size(DESKTOP)
    expect(box).not_to_have_attribute("role", "region")
    data, filename = download_from(page, page.get_by_role("link", name="Download these entries (XLSX)"))
    assert filename.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    assert workbook.sheetnames[:2] == ["Ledger", "About"]
    rows = list(workbook["Ledger"].iter_rows(values_only=True))
    header, entries = rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert header[:5] == ("Entry", "Date", "Recorded", "Back-dated", "Kind")
    by_kind = {entry["Kind"]: entry for entry in entries}
    assert by_kind["Income"]["Amount (£)"] == 1000
    commitment = next(e for e in entries if e["Committed (£)"])
    assert commitment["Committed (£)"] == 120
    assert commitment["School"] == "Alpha Primary Academy"
    assert isinstance(commitment["Date"], datetime.datetime | datetime.date)


def test_finance_dashboard_draws_its_charts_as_images_that_fit_a_phone(
    page, check_page, finance, funded, blazer_request
):
    sign_in(page, finance, next_path=reverse("finance_dashboard"))
    charts = page.locator("main svg[role='img']")
    assert charts.count() >= 1
    for index in range(charts.count()):
        chart = charts.nth(index)
        assert chart.is_visible()
        title = chart.locator("title").first.text_content() or ""
        assert title.strip(), f"chart {index} has no <title>"
        assert chart.locator("rect, path, line, polyline").count() > 0, f"chart {index} draws nothing"
    check_page(page, "dashboard")

    # At 360 px nothing makes the page scroll sideways, and every chart fits the screen.
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        assert box["x"] >= 0, box
        assert box["x"] + box["width"] <= PHONE["width"], box
