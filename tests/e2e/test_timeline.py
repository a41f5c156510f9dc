"""The family's whole story (issue 15.2): a pastoral worker marks a pupil in need and issues a voucher, and
the family page's history shows both, newest first and by name, then only the kind chosen."""

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import PHONE, follow, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _history(page):
    return page.locator("#timeline")


def test_pastoral_reads_the_familys_history_and_filters_it_by_kind(
    page, new_page, check_page, consented_family, food, pastoral_a
):
    family = consented_family
    pastoral_a.first_name, pastoral_a.last_name = "Pat", "Pastor"
    pastoral_a.save(update_fields=["first_name", "last_name"])
    sign_in(page, pastoral_a, next_path=f"/families/{family.pk}/")
    history = _history(page)
    assert "Consent to share with" in history.inner_text()
    check_page(page, "history-with-consent")

    # Mark Alfie in need, with the reason: it stays on the page, in the history.
    page.get_by_label("Why is Alfie in need?").fill("A parent has lost their job")
    follow(page.get_by_role("button", name="Mark Alfie in need"))
    entries = history.locator("li")
    assert "Alfie Able marked in need" in entries.first.inner_text()
    assert "A parent has lost their job" in entries.first.inner_text()
    assert "by Pat Pastor" in entries.first.inner_text()
    assert "pastoral_a" not in history.inner_text()

    # Issue a voucher: it is the newest entry, and links to the voucher.
    follow(page.get_by_role("button", name="Issue a voucher"))
    page.get_by_label("Sudden drop in income").check()
    follow(page.get_by_role("button", name="Issue voucher"))
    page.goto(f"/families/{family.pk}/")
    assert "Food parcel voucher issued" in entries.first.inner_text()
    assert entries.first.get_by_role("link", name="Food parcel voucher issued").is_visible()
    check_page(page, "history")

    # Only in-need notes, on a phone.
    phone = new_page(PHONE)
    sign_in(phone, pastoral_a, next_path=f"/families/{family.pk}/")
    phone.get_by_label("Show").select_option(label="In-need notes")
    follow(phone.get_by_role("button", name="Show"))
    filtered = _history(phone)
    expect(filtered.locator("li")).to_have_count(1)
    assert "Alfie Able marked in need" in filtered.inner_text()
    assert "voucher" not in filtered.locator("ol").inner_text()
    assert "kind=in_need" in phone.url
    check_page(phone, "history-in-need-only")
