"""Issue 15, points 1 and 7, in Chromium: a family found the way a pastoral worker types it (a phone
number as the family page shows it, a postcode without its space, a title, a misspelling), and the
voucher list searched by code and by family name, a page's vouchers all ticked at once and exported."""

import csv
import io

import pytest
from playwright.sync_api import expect

from support.services import family_create
from tests.e2e.browser import PHONE, follow, sign_in
from tests.factories import PupilFactory
from vouchers.services import voucher_issue

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SEARCH_LABEL = "Name, postcode, phone, e-mail, UPN or voucher code"


@pytest.fixture
def okafor(school_a, pastoral_a):
    family = family_create(
        actor=pastoral_a, lead_carer_name="Mrs Grace Okafor", phone="0121 496 0075", postcode="RV3 7WB"
    )
    PupilFactory(family=family, school=school_a, legal_forename="Tobi", surname="Okafor")
    return family


def _search(page, typed: str) -> list[str]:
    page.get_by_label(SEARCH_LABEL).fill(typed)
    follow(page.get_by_role("button", name="Search", exact=True))
    return page.locator("table.govuk-table tbody tr td:first-child").all_inner_texts()


def test_pastoral_finds_a_family_the_way_they_type_it(
    page, new_page, check_page, okafor, consented_family, pastoral_a
):
    sign_in(page, pastoral_a, next_path="/families/")
    # The list, unsearched, is in surname order: Able, Able, Okafor.
    names = page.locator("table.govuk-table tbody tr td:first-child").all_inner_texts()
    assert names == ["Anna Able", "Arthur Able", "Mrs Grace Okafor"]
    check_page(page, "families")

    # The phone number exactly as the family page shows it, then the other ways it gets typed.
    follow(page.get_by_role("link", name="Mrs Grace Okafor"))
    shown = page.locator("dt:has-text('Phone') + dd").inner_text().strip()
    assert shown == "0121 496 0075"
    page.goto("/families/")
    for typed in (shown, "01214960075", "+44 121 496 0075"):
        assert _search(page, typed) == ["Mrs Grace Okafor"], typed
    # A postcode without its space, in any case; a title; a misspelling.
    for typed in ("RV37WB", "rv37wb", "Mrs Okafor"):
        assert _search(page, typed) == ["Mrs Grace Okafor"], typed
    found = _search(page, "Okafur")
    assert found[0] == "Mrs Grace Okafor"
    assert page.get_by_text("matching “Okafur”, best match first").is_visible()
    check_page(page, "misspelt-search")

    # On a phone, too.
    phone_page = new_page(PHONE)
    sign_in(phone_page, pastoral_a, next_path="/families/?q=rv37wb")
    assert phone_page.get_by_role("link", name="Mrs Grace Okafor").is_visible()
    check_page(phone_page, "postcode-search-on-a-phone")


def test_lead_searches_vouchers_ticks_a_page_and_exports_it(
    page, check_page, okafor, consented_family, food, pastoral_a, lead_a, school_a
):
    from tests.factories import consent_to

    consent_to(okafor, pastoral_a, food.partner)
    mine = [
        voucher_issue(
            family=okafor, voucher_type=food, school=school_a, issued_by=pastoral_a, referral_reason="debt"
        )
        for _ in range(2)
    ]
    other = voucher_issue(
        family=consented_family,
        voucher_type=food,
        school=school_a,
        issued_by=pastoral_a,
        referral_reason="debt",
    )
    sign_in(page, lead_a, next_path="/vouchers/")
    check_page(page, "vouchers")

    # By code, typed in lower case without its hyphens.
    page.get_by_label("Code or family name").fill(other.code.lower())
    follow(page.get_by_role("button", name="Search vouchers"))
    rows = page.locator("table.govuk-table tbody tr")
    expect(rows).to_have_count(1)
    assert other.display_code in rows.first.inner_text()

    # By the family's name, misspelt.
    page.get_by_label("Code or family name").fill("okafur")
    follow(page.get_by_role("button", name="Search vouchers"))
    expect(rows).to_have_count(2)
    check_page(page, "vouchers-by-name")

    # Select all on the page (the page's script ticks them where they are), then export just those.
    page.get_by_role("button", name="Select all on this page").click()
    boxes = page.locator('input[name="voucher"]')
    expect(boxes).to_have_count(2)
    for i in range(2):
        expect(boxes.nth(i)).to_be_checked()
    expect(page.get_by_role("button", name="Clear the ticks on this page")).to_be_visible()
    check_page(page, "all-ticked")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export selected (CSV)").click()
    download = download_info.value
    with open(download.path(), encoding="utf-8") as exported:
        rows_out = list(csv.reader(io.StringIO(exported.read())))
    assert sorted(r[0] for r in rows_out[1:]) == sorted(v.display_code for v in mine)
