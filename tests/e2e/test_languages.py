"""A family that reads Urdu gets its e-voucher in English and Urdu, the Urdu right to left (issue 19).

Staff set the family's language on its page; the voucher goes by text message; the family opens the link
on a phone and sees the voucher again in Urdu, laid out right to left. The printed voucher says it in Urdu
too. axe-core checks the e-voucher page in every language. Screenshots (and the PDF) go to e2e-artifacts/.
"""

import pytest

from support.languages import LANGUAGES
from tests.e2e.browser import ARTIFACTS, PHONE, download_from, follow, pdf_text, sign_in
from vouchers.sms import LocMemSMSBackend

pytestmark = pytest.mark.e2e

URDU = {
    "heading": "آپ کا واؤچر",
    "valid until": "آخری تاریخ",
    "show": "یہ واؤچر First Food Bank پر دکھائیں۔",
}


@pytest.fixture
def texts(settings, eager):
    settings.SMS_BACKEND = "vouchers.sms.LocMemSMSBackend"
    LocMemSMSBackend.outbox = []
    return LocMemSMSBackend.outbox


def test_a_family_gets_its_e_voucher_in_urdu_right_to_left(
    new_page, consented_family, food, pastoral_a, school_a, texts, shot
):
    from vouchers.services import voucher_issue

    # Staff record that the family reads Urdu (the family's page, as they would).
    staff = new_page()
    sign_in(staff, pastoral_a, next_path=f"/families/{consented_family.pk}/edit/")
    staff.get_by_label("Preferred language").select_option("ur")
    follow(staff.get_by_role("button", name="Save"))
    assert "Urdu" in staff.locator(".govuk-summary-list").first.inner_text()

    voucher = voucher_issue(
        family=consented_family,
        voucher_type=food,
        school=school_a,
        issued_by=pastoral_a,
        referral_reason="income_drop",
        delivery="sms",
    )
    (message,) = texts
    assert URDU["heading"] in message["body"]
    link = next(word for word in message["body"].split() if "/v/" in word)

    # The family opens the link on a phone.
    phone = new_page(PHONE)
    phone.goto(link)
    block = phone.locator("#in-your-language")
    assert block.get_attribute("dir") == "rtl"
    assert block.get_attribute("lang") == "ur"
    assert (
        phone.evaluate("() => getComputedStyle(document.querySelector('#in-your-language')).direction")
        == "rtl"
    )
    text = block.inner_text()
    for words in URDU.values():
        assert words in text
    assert voucher.display_code in text
    # Right to left: the Urdu heading starts at the right-hand edge of its column, not the left.
    box = phone.locator("#in-your-language h2").bounding_box()
    column = block.bounding_box()
    assert abs((box["x"] + box["width"]) - (column["x"] + column["width"])) < 2
    block.scroll_into_view_if_needed()
    shot(phone, "e-voucher-urdu-phone")
    shot(phone, "e-voucher-urdu-in-view", full_page=False)

    # The printed voucher says it in Urdu too.
    staff.goto(f"/vouchers/{voucher.pk}/")
    pdf, _ = download_from(staff, staff.get_by_role("button", name="Print voucher (PDF)"))
    (ARTIFACTS / "test_languages").mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "test_languages" / "voucher-urdu.pdf").write_bytes(pdf)
    assert "واؤچر کوڈ" in pdf_text(pdf)


def test_the_e_voucher_page_is_accessible_in_every_language(new_page, issued_voucher, check_page):
    page = new_page(PHONE)
    family = issued_voucher.family
    for code in ["", *sorted(LANGUAGES)]:
        family.language = code
        family.save(update_fields=["language"])
        page.goto(f"/v/{issued_voucher.public_token}/")
        if code:
            assert page.locator("#in-your-language").get_attribute("lang") == code
        check_page(page, f"e-voucher-{code or 'en'}")
