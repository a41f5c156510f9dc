"""Partner charity staff on a phone: open the link the voucher's QR code holds, sign in, redeem it with one
thumb; the same voucher again says it was already redeemed; a code with one character wrong is caught by
its check character before any lookup."""

import pytest
from django.utils import timezone
from django.utils.formats import date_format

from tests.e2e.browser import PHONE, fill_sign_in, follow
from vouchers.codes import ALPHABET
from vouchers.models import Redemption, Voucher
from vouchers.qr import redemption_url

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def one_character_wrong(display_code: str) -> str:
    """The code as printed, with its sixth character (the second group's first) typed as another."""
    position = 5
    wrong = next(c for c in ALPHABET if c != display_code[position])
    return display_code[:position] + wrong + display_code[position + 1 :]


def test_charity_redeems_from_the_qr_link_on_a_phone_once_and_catches_a_typo(
    new_page, check_page, issued_voucher, charity_staff
):
    voucher = issued_voucher
    page = new_page(PHONE)

    # The QR code holds the redemption page's full address; a signed-out phone is asked to sign in first.
    page.goto(redemption_url(voucher.code))
    assert "/accounts/login/" in page.url
    check_page(page, "sign-in")
    fill_sign_in(page, charity_staff)
    assert page.url.endswith(f"/redeem/{voucher.code}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Food parcel"
    assert page.get_by_text("Valid", exact=True).is_visible()
    assert page.get_by_text("Vegetarian").is_visible()
    check_page(page, "voucher")

    # One thumb: the redeem button spans the phone's width and is comfortably tall.
    button = page.get_by_role("button", name="Redeem this voucher")
    box = button.bounding_box()
    assert box["width"] >= PHONE["width"] - 60, box
    assert box["height"] >= 44, box
    page.get_by_label("What was given (optional)").fill("Food parcel for two")
    follow(button)
    assert page.get_by_role("heading", name="Redeemed").is_visible()
    assert "Hand over the food parcel for 2 people" in page.locator(".govuk-panel").inner_text()
    redemption = Redemption.objects.get(voucher=voucher)
    assert redemption.redeemed_by == charity_staff
    assert redemption.items_given == "Food parcel for two"
    assert Voucher.objects.get(pk=voucher.pk).state == Voucher.State.REDEEMED
    check_page(page, "redeemed")

    # The same QR code again: already redeemed (today, in UK form), and nothing to press.
    page.goto(redemption_url(voucher.code))
    today = date_format(timezone.localdate(), "j F Y")
    warning = page.locator(".govuk-warning-text").inner_text()
    assert f"This voucher has already been redeemed on {today}." in warning
    assert "Do not hand anything over" in warning
    assert page.get_by_role("button", name="Redeem this voucher").count() == 0
    assert Redemption.objects.filter(voucher=voucher).count() == 1
    check_page(page, "already-redeemed")

    # Typed by hand, with the keyboard only, with one character wrong: the check character catches it.
    follow(page.get_by_role("link", name="Check another voucher"))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"
    page.get_by_label("Voucher code").focus()
    page.keyboard.type(one_character_wrong(voucher.display_code))
    check_page(page, "typing-code")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    summary = page.locator(".govuk-error-summary")
    assert page.title().startswith("Error: Check a voucher")
    assert "This code has a typing mistake: check each character against the voucher." in summary.inner_text()
    # The message takes the user to the field, which keeps what they typed for correcting.
    summary.get_by_role("link").click()
    assert page.evaluate("document.activeElement.id") == "id_code"
    assert page.get_by_label("Voucher code").input_value().replace("-", "") != voucher.code
    check_page(page, "typing-mistake")
