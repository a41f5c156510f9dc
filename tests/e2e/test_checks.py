"""Checking before spending money or doing what cannot be undone (issue 15, point 4), in Chromium.

A pastoral lead generates the intake's welcome packs: a check page says how many, for whom and what they
commit from which fund, and a confirmation panel says what was done. A pastoral worker cancels a voucher:
a confirmation page (no browser pop-up) says what will happen, and going back changes nothing.
"""

import pytest

from funds.selectors.positions import fund_position
from tests.e2e.browser import follow, sign_in
from tests.uniform.test_gifts_fixtures import this_year
from uniform.models import Gift, WelcomePack
from vouchers.models import Voucher

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_generating_welcome_packs_shows_the_cost_and_the_fund_then_confirms(
    page, check_page, school_a, lead_a, reception, funded
):
    WelcomePack.objects.filter(school=school_a).update(fund=funded)
    committed = fund_position(fund=funded).committed_pence
    year = this_year()
    sign_in(page, lead_a, next_path="/uniform/")
    follow(page.get_by_role("button", name=f"Generate welcome packs for {year} to {year + 1}"))

    assert page.get_by_role("heading", level=1).inner_text() == "Check before you generate welcome packs"
    summary = page.locator("#generate-summary").inner_text()
    assert "3 welcome packs" in summary
    assert "Intake, Kid00" in summary  # a small intake is named
    assert "£21.00 a pack, £63.00 from Standby fund" in summary
    assert "Generating commits £63.00 now." in page.locator(".govuk-warning-text").inner_text()
    assert page.locator("button[data-confirm]").count() == 0
    check_page(page, "generate-check")
    assert not Gift.objects.exists()

    follow(page.get_by_role("button", name="Generate 3 welcome packs"))
    panel = page.locator(".govuk-panel--confirmation")
    assert panel.get_by_role("heading", level=1).inner_text() == "3 welcome packs generated"
    assert "£63.00 committed from Standby fund" in panel.inner_text()
    check_page(page, "generate-done")
    assert Gift.objects.filter(school=school_a, academic_year=year).count() == 3
    assert fund_position(fund=funded).committed_pence == committed + 63_00


def test_cancelling_a_voucher_asks_on_a_page_and_going_back_changes_nothing(
    page, check_page, pastoral_a, issued_voucher
):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, pastoral_a, next_path=f"/vouchers/{issued_voucher.pk}/")
    page.get_by_label("Why are you cancelling this voucher?").fill("Issued twice by mistake")
    follow(page.get_by_role("button", name="Cancel voucher"))

    heading = f"Are you sure you want to cancel voucher {issued_voucher.display_code}?"
    assert page.get_by_role("heading", level=1).inner_text() == heading
    assert "Issued twice by mistake" in page.locator("main").inner_text()
    check_page(page, "cancel-check")
    follow(page.get_by_role("link", name="No, keep the voucher"))
    issued_voucher.refresh_from_db()
    assert issued_voucher.state == Voucher.State.ISSUED

    page.get_by_label("Why are you cancelling this voucher?").fill("Issued twice by mistake")
    follow(page.get_by_role("button", name="Cancel voucher"))
    follow(page.get_by_role("button", name="Yes, cancel the voucher"))
    assert page.get_by_text(f"Voucher {issued_voucher.display_code} cancelled.").is_visible()
    check_page(page, "cancelled")
    issued_voucher.refresh_from_db()
    assert (issued_voucher.state, issued_voucher.cancel_reason) == (
        Voucher.State.CANCELLED,
        "Issued twice by mistake",
    )
    assert dialogs == []  # no browser pop-up on the way


def test_a_coat_request_shows_its_cost_before_it_is_sent(page, check_page, school_a, pastoral_a, funded):
    from tests.factories import FamilyFactory, PupilFactory
    from tests.uniform.conftest import make_outdoor_item
    from uniform.models import SupportRequest

    coat = make_outdoor_item(school_a, "coat", cost=150_00, name="Parka")
    pupil = PupilFactory(
        family=FamilyFactory(lead_carer_name="Dee Dale"), school=school_a, legal_forename="Dan", in_need=True
    )
    sign_in(page, pastoral_a, next_path=f"/pupils/{pupil.pk}/requests/new/?kind=coat")
    page.get_by_label("Item and size").select_option(f"{coat.pk}:9-10")
    page.get_by_label("Why does the pupil need it?").fill("No winter coat")
    follow(page.get_by_role("button", name="Continue"))

    assert page.get_by_role("heading", level=1).inner_text() == "Check the request before you send it"
    assert page.locator("#request-cost").inner_text() == "£150.00"
    assert "Needs finance approval" in page.locator("#request-route").inner_text()
    check_page(page, "request-check")
    assert not SupportRequest.objects.exists()
    follow(page.get_by_role("button", name="Send request"))
    assert SupportRequest.objects.get().status == SupportRequest.Status.AWAITING_FINANCE


def test_a_large_donation_is_read_back_before_it_is_recorded(page, check_page, finance):
    from funds.models import Donation

    sign_in(page, finance, next_path="/finance/donations/new/")
    page.get_by_label("Donor", exact=True).fill("Riverton Rotary")
    page.get_by_label("Amount").fill("1,250.50")
    follow(page.get_by_role("button", name="Record donation"))

    assert page.get_by_role("heading", level=1).inner_text() == "Check the donation before you record it"
    summary = page.locator("#donation-check").inner_text()
    assert "One thousand two hundred and fifty pounds and fifty pence" in summary
    assert "£1,250.50" in summary
    check_page(page, "donation-check")
    assert not Donation.objects.exists()
    follow(page.get_by_role("button", name="Record donation"))
    assert Donation.objects.get().amount_pence == 1_250_50
