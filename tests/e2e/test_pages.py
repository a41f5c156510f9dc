"""Every page, as the role that uses it, at 360 px and at desktop width: axe-core's WCAG 2.2 AA check (no
serious or critical violation) and no sideways scrolling on a phone. The journeys check the pages they pass
through, including the ones only a POST reaches (errors, confirmations); this sweeps the rest, with data on
them (a redeemed voucher, welcome packs, an approved request, a pledge, a refused import)."""

import datetime

import pytest
from django.urls import reverse

from funds.models import LedgerEntry, Pledge, SpendRequest
from funds.services.approvals import spend_request_approve
from funds.services.pledges import pledge_create
from support.pupil_import import pupil_import_upload
from tests.e2e.browser import sign_in
from tests.uniform.test_gifts_fixtures import this_year
from uniform.models import Gift
from uniform.services.gifts import gifts_generate
from vouchers.services import voucher_issue, voucher_redeem

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(
    issued_voucher, food, consented_family, school_a, pastoral_a, lead_a, charity_staff, partner_1,
    finance, funded, blazer_request, reception,
):  # fmt: skip
    """One of everything the pages list, so no page is only seen empty."""
    redeemed = voucher_issue(
        family=consented_family,
        voucher_type=food,
        school=school_a,
        issued_by=pastoral_a,
        referral_reason="debt",
    )
    voucher_redeem(voucher=redeemed, partner=partner_1, redeemed_by=charity_staff, items_given="Parcel")
    gifts_generate(school=school_a, academic_year=this_year(), actor=lead_a)
    spend_request_approve(spend_request=SpendRequest.objects.get(), actor=finance, note="Agreed.")
    pledge_create(
        fund=funded,
        donor="Riverside Rotary",
        amount_pence=50_00,
        frequency=Pledge.Frequency.MONTHLY,
        next_due=datetime.date.today() + datetime.timedelta(days=20),
        gift_aid=False,
        actor=finance,
    )
    refused = pupil_import_upload(
        school=school_a, actor=lead_a, filename="broken.csv", data=b"UPN,Surname\nnot-a-upn,Smith\n"
    )
    return {
        "voucher": issued_voucher,
        "redeemed": redeemed,
        "family": consented_family,
        "school": school_a,
        "pupil": blazer_request.pupil,
        "request": blazer_request,
        "gift": Gift.objects.order_by("pk").first(),
        "import": refused,
        "entry": LedgerEntry.objects.order_by("-pk").first(),
        "spend": SpendRequest.objects.get(),
    }


def school_pages(w) -> list[tuple[str, str]]:
    school, family, voucher = w["school"].pk, w["family"].pk, w["voucher"].pk
    return [
        ("home", reverse("home")),
        ("families", reverse("family_list")),
        ("family-search-empty", reverse("family_list") + "?q=nobody-by-this-name"),
        ("family", reverse("family_detail", args=[family])),
        ("family-edit", reverse("family_edit", args=[family])),
        ("voucher-issue", reverse("voucher_issue", args=[family])),
        ("vouchers", reverse("voucher_list")),
        ("voucher", reverse("voucher_detail", args=[voucher])),
        ("voucher-redeemed", reverse("voucher_detail", args=[w["redeemed"].pk])),
        ("uniform", reverse("uniform_overview")),
        ("uniform-class", reverse("uniform_class", args=[school, 0])),
        ("uniform-items", reverse("uniform_items", args=[school])),
        ("uniform-item-new", reverse("uniform_item_add", args=[school])),
        ("uniform-pack", reverse("welcome_pack_edit", args=[school, 0])),
        ("uniform-stock", reverse("uniform_stock", args=[school])),
        ("requests", reverse("support_request_list")),
        ("requests-queue", reverse("support_request_queue")),
        ("requests-winter-drive", reverse("support_request_winter_drive")),
        ("request", reverse("support_request_detail", args=[w["request"].pk])),
        ("request-new", reverse("support_request_create", args=[w["pupil"].pk])),
        ("imports", reverse("import_list")),
        ("import-refused", reverse("import_detail", args=[w["import"].pk])),
        ("duplicates", reverse("duplicate_list")),
        ("not-found", "/families/999999/"),
    ]


def charity_pages(w) -> list[tuple[str, str]]:
    return [
        ("home", reverse("home")),
        ("redeem", reverse("redeem_start")),
        ("redeem-code", reverse("redeem_code", args=[w["voucher"].code])),
        ("redemptions", reverse("redemption_list")),
        ("statements", reverse("statement_list")),
    ]


def finance_pages(w) -> list[tuple[str, str]]:
    return [
        ("home", reverse("home")),
        ("approvals", reverse("finance_approvals")),
        ("approval-decided", reverse("finance_approval", args=[w["spend"].pk])),
        ("ledger", reverse("finance_ledger")),
        ("ledger-entry", reverse("finance_entry", args=[w["entry"].pk])),
        ("ledger-entry-reverse", reverse("finance_entry_reverse", args=[w["entry"].pk])),
        ("donations", reverse("finance_donations")),
        ("donation-new", reverse("finance_donation_new")),
        ("pledges", reverse("finance_pledges")),
        ("pledge-new", reverse("finance_pledge_new")),
        ("vouchers", reverse("voucher_list")),
        ("requests", reverse("support_request_list")),
        ("uniform", reverse("uniform_overview")),
        ("redemptions", reverse("redemption_list")),
        ("statements", reverse("statement_list")),
    ]


def signed_out_pages(w) -> list[tuple[str, str]]:
    return [
        ("sign-in", reverse("login")),
        ("e-voucher", reverse("evoucher", args=[w["voucher"].public_token])),
    ]


ROLES = {
    "lead_a": school_pages,
    "charity_staff": charity_pages,
    "finance": finance_pages,
    None: signed_out_pages,
}


def _text(expected: str):
    return lambda page: expected in page.locator("main").inner_text()


def _asks_on_a_page(button: str):
    """The button is there, and asks on a confirmation page (the GOV.UK pattern), not in a pop-up."""
    return lambda page: (
        page.locator(f"button:has-text('{button}')").count() == 1
        and page.locator(f"button[data-confirm]:has-text('{button}')").count() == 0
    )


def _finance_nav_at(label: str):
    return lambda page: (
        page.locator(".govuk-service-navigation a[aria-current='page']").inner_text().strip() == label
    )


# What some pages must also show: empty states that say what to do next, questions before destructive
# buttons, the finance pages' own navigation.
EXPECT = {
    ("lead_a", "family-search-empty"): _text("Check the spelling"),
    ("lead_a", "requests-queue"): _text("Nothing is waiting for a decision"),
    ("lead_a", "duplicates"): _text("Nothing to decide"),
    ("lead_a", "request"): _asks_on_a_page("Reject"),
    ("lead_a", "voucher"): _asks_on_a_page("Cancel voucher"),
    ("charity_staff", "home"): _text("Not recorded yet: families see no opening times on their vouchers."),
    ("finance", "ledger"): _finance_nav_at("Ledger"),
    ("finance", "donations"): _finance_nav_at("Donations"),
    ("finance", "pledges"): _finance_nav_at("Pledges"),
}


@pytest.mark.parametrize("persona", ROLES, ids=lambda persona: persona or "signed_out")
def test_every_page_passes_axe_and_fits_a_phone(request, page, check_page, world, persona):
    if persona:
        sign_in(page, request.getfixturevalue(persona))
    for name, url in ROLES[persona](world):
        response = page.goto(url)
        expected = 404 if name == "not-found" else 200
        assert response.status == expected, f"{name}: {url} answered {response.status}"
        check_page(page, name)
        expectation = EXPECT.get((persona, name))
        assert expectation is None or expectation(page), f"{name}: {url} does not show what it should"
