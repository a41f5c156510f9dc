"""Gift Aid (issue 22, part 1): finance records a declaration for each trustee, prepares a claim that
holds their donations and not an undeclared one, opens HMRC's schedule in a spreadsheet library, marks the
claim submitted and paid, and sees the Gift Aid as income in the ledger on the day HMRC paid."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from funds.models import GiftAidClaim, LedgerEntry
from funds.selectors.gift_aid import SCHEDULE_HEADER
from tests.e2e.browser import download_from, follow, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TRUSTEES = [
    # donor as recorded, title, first name, last name, house, address, postcode
    ("Trustee: Mrs H. Pemberton", "Mrs", "Helen", "Pemberton", "Old Rectory", "Old Rectory", "RV2 7PL"),
    ("Trustee: Mr R. Okonjo", "Mr", "Robert", "Okonjo", "14", "14 Weaver's Row\nRiverton", "RV1 4QT"),
]  # fmt: skip


@pytest.fixture
def trustee_donations(finance):
    """Each trustee gave £10,000 with Gift Aid asked; Mrs Carter gave £180 with Gift Aid asked but has made
    no declaration."""
    from funds.services.ledger import fund_donation_record, standby_fund

    fund = standby_fund()
    today = timezone.localdate()
    made = {}
    for (donor, *_rest), days in zip(TRUSTEES, (20, 10), strict=True):
        made[donor] = fund_donation_record(
            fund=fund,
            donor=donor,
            amount_pence=10_000_00,
            received_on=today - datetime.timedelta(days=days),
            gift_aid=True,
            actor=finance,
        )
    made["carter"] = fund_donation_record(
        fund=fund,
        donor="Mrs J. Carter",
        amount_pence=180_00,
        received_on=today - datetime.timedelta(days=5),
        gift_aid=True,
        actor=finance,
    )
    return made


def test_finance_declares_claims_gift_aid_and_sees_hmrcs_payment_in_the_ledger(
    page, check_page, finance, trustee_donations
):
    from openpyxl import load_workbook

    sign_in(page, finance, next_path=reverse("finance_gift_aid"))
    assert page.get_by_role("heading", level=1).inner_text() == "Gift Aid"
    assert page.get_by_test_id("claimable-count").inner_text() == "0"  # asked for, but nobody has declared
    check_page(page, "gift-aid")

    for donor, title, first, last, house, address, postcode in TRUSTEES:
        follow(page.get_by_role("button", name="Record a declaration"))
        page.get_by_label("Donor").fill(donor)
        page.get_by_label("Title").fill(title)
        page.get_by_label("First name or initial").fill(first)
        page.get_by_label("Last name").fill(last)
        page.get_by_label("House name or number").fill(house)
        page.get_by_label("Home address").fill(address)
        page.get_by_label("Postcode").fill(postcode.lower())
        if donor == TRUSTEES[0][0]:
            check_page(page, "declaration-form")
        follow(page.get_by_role("button", name="Record declaration"))
        assert page.get_by_text(f"Gift Aid declaration from {donor} recorded.").is_visible()
        assert postcode in page.locator(".govuk-summary-list").inner_text()
        follow(page.get_by_role("link", name="Gift Aid", exact=True).first)
    assert page.get_by_test_id("claimable-count").inner_text() == "2"

    follow(page.get_by_role("button", name="Prepare a claim"))
    table = page.locator("table", has=page.locator("caption", has_text="Donations in the claim"))
    text = table.inner_text()
    assert "Trustee: Mrs H. Pemberton" in text
    assert "Trustee: Mr R. Okonjo" in text
    assert "Carter" not in text
    assert "£5,000.00" in page.locator("main").inner_text()  # 25% of £20,000
    check_page(page, "claim-check")
    follow(page.get_by_role("button", name="Prepare claim"))
    claim = GiftAidClaim.objects.get()
    assert claim.status == GiftAidClaim.Status.PREPARED
    claimed = set(claim.items.values_list("donation_id", flat=True))
    assert claimed == {trustee_donations[d].pk for d, *_ in TRUSTEES}
    assert trustee_donations["carter"].pk not in claimed
    check_page(page, "claim-prepared")

    data, filename = download_from(page, page.get_by_role("link", name="spreadsheet (.xlsx)"))
    assert filename == f"gift-aid-claim-{claim.pk}.xlsx"
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert rows[0] == SCHEDULE_HEADER
    assert [row[:5] for row in rows[1:]] == [
        ("Mrs", "Helen", "Pemberton", "Old Rectory", "RV2 7PL"),
        ("Mr", "Robert", "Okonjo", "14", "RV1 4QT"),
    ]
    first_date = trustee_donations[TRUSTEES[0][0]].received_on
    assert rows[1][7] == first_date.strftime("%d/%m/%y")
    assert rows[1][8] == 10000

    page.get_by_label("HMRC's reference for the claim").fill("CH12345")
    follow(page.get_by_role("button", name="Mark as submitted"))
    assert page.get_by_test_id("claim-status").inner_text() == "Submitted to HMRC"
    follow(page.get_by_role("button", name="Mark as paid"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Record that HMRC paid claim")
    check_page(page, "claim-paid-check")
    follow(page.get_by_role("button", name="Record payment"))
    assert page.get_by_test_id("claim-status").inner_text() == "Paid by HMRC"
    entry = LedgerEntry.objects.get(category="gift_aid")
    assert (entry.kind, entry.amount_pence, entry.occurred_on) == ("income", 5_000_00, timezone.localdate())

    follow(page.get_by_role("link", name="Gift Aid in the ledger"))
    ledger = page.locator("main").inner_text()
    assert "Gift Aid" in ledger
    assert "£5,000.00" in ledger
    check_page(page, "ledger-gift-aid")
