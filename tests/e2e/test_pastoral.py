"""Pastoral staff: find a family, issue a food voucher and print it in three clicks, meet the limit on the
fourth, and a pastoral lead overrides it with a reason."""

import re

import pytest
from django.utils import timezone
from django.utils.formats import date_format
from playwright.sync_api import expect

from tests.e2e.browser import PHONE, download_from, follow, pdf_text, sign_in
from vouchers.models import Voucher

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _issue(page, *, reason: str = "Sudden drop in income") -> None:
    follow(page.get_by_role("button", name="Issue a voucher"))
    page.get_by_label(reason).check()
    follow(page.get_by_role("button", name="Issue voucher"))


def test_pastoral_finds_a_family_issues_and_prints_a_voucher_and_meets_the_limit(
    page, new_page, check_page, consented_family, food, pastoral_a, lead_a
):
    family = consented_family
    sign_in(page, pastoral_a)
    check_page(page, "home")

    # Find the family by name, then by postcode.
    follow(page.get_by_role("link", name="Families", exact=True).first)
    search = page.get_by_label("Name, postcode, phone, e-mail, UPN or voucher code")
    search.fill("Able")
    follow(page.get_by_role("button", name="Search"))
    results = page.locator("table.govuk-table tbody tr")
    expect(results).to_have_count(2)
    search = page.get_by_label("Name, postcode, phone, e-mail, UPN or voucher code")
    search.fill("rv1 1aa")
    follow(page.get_by_role("button", name="Search"))
    expect(results).to_have_count(1)
    check_page(page, "search-by-postcode")
    follow(page.get_by_role("link", name="Anna Able"))
    assert page.get_by_role("heading", level=1).inner_text() == "Anna Able"
    check_page(page, "family")

    # Family page → issue → print: three clicks (the referral reason is a choice on the form).
    clicks = 0
    follow(page.get_by_role("button", name="Issue a voucher"))
    clicks += 1
    check_page(page, "issue-form")
    page.get_by_label("Sudden drop in income").check()
    follow(page.get_by_role("button", name="Issue voucher"))
    clicks += 1
    voucher = Voucher.objects.get(family=family)
    assert page.get_by_role("heading", level=1).inner_text() == voucher.display_code
    assert page.get_by_text(f"Voucher {voucher.display_code} issued.").is_visible()
    check_page(page, "issued")
    print_link = page.get_by_role("button", name="Print voucher (PDF)")
    clicks += 1
    pdf, filename = download_from(page, print_link)
    assert clicks <= 3
    assert filename.endswith(".pdf")
    text = pdf_text(pdf)
    expiry = date_format(voucher.expires_on, "j F Y")
    assert voucher.expires_on == timezone.localdate() + timezone.timedelta(days=28)
    flat = re.sub(r"\s+", "", text)
    assert voucher.code in flat.replace("-", "") or voucher.display_code in text, text
    assert expiry in text, text

    # Two more, then the fourth in six months is refused with the limit explained.
    for _ in range(2):
        page.goto(f"/families/{family.pk}/")
        _issue(page)
    assert Voucher.objects.filter(family=family).count() == 3
    page.goto(f"/families/{family.pk}/")
    follow(page.get_by_role("button", name="Issue a voucher"))
    assert page.get_by_text("Limit reached").is_visible()
    page.get_by_label("Sudden drop in income").check()
    follow(page.get_by_role("button", name="Issue voucher"))
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    assert "the limit is 3" in summary.inner_text()
    assert "A pastoral lead at" in summary.inner_text()
    assert "can override the limit" in summary.inner_text()
    assert Voucher.objects.filter(family=family).count() == 3
    check_page(page, "limit-reached")

    # A lead overrides it, with a reason, on a phone.
    lead_page = new_page(PHONE)
    sign_in(lead_page, lead_a, next_path=f"/families/{family.pk}/")
    follow(lead_page.get_by_role("button", name="Issue a voucher"))
    lead_page.get_by_label("Sudden drop in income").check()
    lead_page.get_by_label("Override the limit: reason").fill("Fridge broke; food spoilt. Agreed with head.")
    check_page(lead_page, "override-form")
    follow(lead_page.get_by_role("button", name="Issue voucher"))
    overridden = Voucher.objects.filter(family=family).order_by("-pk").first()
    assert Voucher.objects.filter(family=family).count() == 4
    assert overridden.limit_override_reason == "Fridge broke; food spoilt. Agreed with head."
    assert lead_page.get_by_text("Limit overridden").is_visible()
    # The code stays on one line on a phone (the check character is not left alone on a second line).
    heading = lead_page.get_by_role("heading", level=1)
    line = float(heading.evaluate("h => parseFloat(getComputedStyle(h).lineHeight)"))
    assert heading.bounding_box()["height"] < 1.5 * line
    check_page(lead_page, "overridden")
