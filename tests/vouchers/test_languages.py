"""What a family receives is in English and its own language (issue 19): the printed voucher (each language
rendered and read back with pypdf: the words extract, in the font that carries the script, with no glyph
missing), the e-voucher page (Urdu and Arabic right to left), the e-mail and the text message; and the
counter sees the family's language, nothing more."""

import io
import re
import subprocess
import unicodedata
from functools import cache

import pytest
from django.core import mail
from django.utils import translation
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from rest_framework.test import APIClient

from support.languages import LANGUAGES
from vouchers import pdf
from vouchers.models import Fulfilment
from vouchers.services import voucher_cancel
from vouchers.sms import LocMemSMSBackend

# What the printed page says in the family's language (with the code, date and names as placeholders).
PRINTED = (
    "Voucher code",
    "Use by",
    "Collect from",
    "People in the household",
    "Bring this voucher to the counter, printed or on your phone. It can be used once, until the date "
    "above. Staff will scan the QR code or type in the code.",
    "Questions? Contact %(school)s.",
)
SCRIPT_FONTS = {"ur": "NotoNaskhArabic", "ar": "NotoNaskhArabic", "pa": "NotoSansGurmukhi"}


@pytest.fixture(autouse=True)
def texts(settings, eager):
    settings.SMS_BACKEND = "vouchers.sms.LocMemSMSBackend"
    LocMemSMSBackend.outbox = []
    return LocMemSMSBackend.outbox


@pytest.fixture
def speaks(family_a):
    def set_language(code: str):
        family_a.language = code
        family_a.save(update_fields=["language"])
        return family_a

    return set_language


def translated(code: str, message: str, **values: str) -> str:
    with translation.override(code):
        return translation.gettext(message) % values if values else translation.gettext(message)


def letters(text: str) -> str:
    """Text as pypdf can be trusted to give it back: compatibility forms folded (Arabic's presentation
    forms), and no marks, punctuation, spaces or controls (a shaped cluster's vowel signs may come back
    out of order, and right-to-left lines move a full stop to the other end)."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(c for c in text if unicodedata.category(c)[0] not in "MZCP" and not c.isspace())


def pdf_words(data: bytes) -> tuple[str, set[str]]:
    """The page's text (as ``letters``) and the fonts embedded in it, without their subset prefix."""
    reader = PdfReader(io.BytesIO(data))
    text = "".join(page.extract_text() for page in reader.pages)
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1].replace("-", ""))
    return letters(text), fonts


@cache
def font_cmap(family: str) -> set[int]:
    """Every character the installed font ``family`` (as fontconfig finds it) has a glyph for."""
    path = subprocess.run(
        ["fc-match", "-f", "%{file}", family], capture_output=True, text=True, check=True
    ).stdout
    return set(TTFont(path, fontNumber=0).getBestCmap())


@pytest.mark.parametrize("code", sorted(LANGUAGES))
def test_it_prints_the_voucher_in_english_and_the_familys_language_with_every_glyph(speaks, voucher, code):
    speaks(code)
    voucher.refresh_from_db()
    data = pdf.render_voucher_pdf(voucher)
    text, fonts = pdf_words(data)

    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    assert letters("Bring this voucher to the counter") in text  # the English stays
    assert letters(voucher.display_code) in text
    for message in PRINTED:
        words = translated(code, message, school="Alpha Primary Academy")
        assert words != message or code == "en"  # translated, not left in English
        for word in words.split():
            assert letters(word) in text, (code, word)
    language = LANGUAGES[code]
    # The script's own font is embedded (subset: only a few hundred glyphs), and it has a glyph for every
    # character of the translation, so nothing falls back to an empty box.
    if code in SCRIPT_FONTS:
        assert SCRIPT_FONTS[code] in "".join(fonts)
        assert language.pdf_fonts
        needed = {
            ord(c)
            for message in PRINTED
            for c in translated(code, message, school="")
            if unicodedata.category(c)[0] in "LMP" and ord(c) > 0x2FF
        }
        assert needed - font_cmap(language.pdf_fonts[0]) == set()
    else:
        assert all(font.startswith("DejaVu") for font in fonts)


def test_it_prints_english_only_for_a_family_with_no_other_language(voucher):
    text, fonts = pdf_words(pdf.render_voucher_pdf(voucher))
    assert letters("Bring this voucher to the counter") in text
    assert not any(font.startswith("Noto") for font in fonts)
    assert "lang=" not in pdf.vouchers_html([voucher]).split("<body>", 1)[1]


def test_it_sets_urdu_and_arabic_right_to_left_in_the_pdf(speaks, voucher):
    for code, direction in (("ur", "rtl"), ("ar", "rtl"), ("pa", "ltr"), ("pl", "ltr")):
        speaks(code)
        voucher.refresh_from_db()
        html = pdf.vouchers_html([voucher])
        assert f'<div class="translated" lang="{code}" dir="{direction}">' in html
        # The code reads left to right inside the right-to-left block.
        assert f'<bdi class="t-code" dir="ltr">{voucher.display_code}</bdi>' in html


def test_it_prints_a_delivery_in_the_familys_language(speaks, voucher):
    speaks("pl")
    voucher.refresh_from_db()
    voucher.fulfilment = Fulfilment.DELIVERY
    text, _ = pdf_words(pdf.render_vouchers_pdf([voucher]))
    assert letters("Organizacja charytatywna dostarczy zamówienie do domu") in text


def test_it_renders_again_when_the_familys_language_changes(speaks, voucher, pdf_renders):
    pdf.render_voucher_pdf(voucher)
    speaks("ro")
    voucher.refresh_from_db()
    text, _ = pdf_words(pdf.render_voucher_pdf(voucher))
    assert len(pdf_renders) == 2
    assert letters("Codul voucherului") in text


# --- The e-voucher page ------------------------------------------------------------------------------


def section(page: str) -> str:
    found = re.search(r'<section class="app-translation".*?</section>', page, flags=re.S)
    return found.group(0) if found else ""


@pytest.mark.parametrize(("code", "direction"), [("ur", "rtl"), ("ar", "rtl"), ("pa", "ltr"), ("pl", "ltr")])
def test_it_shows_the_e_voucher_in_the_familys_language_too(client, speaks, voucher, code, direction):
    speaks(code)
    page = client.get(f"/v/{voucher.public_token}/").content.decode()
    block = section(page)
    assert f'lang="{code}" dir="{direction}"' in block
    assert translated(code, "Your voucher") in block
    assert translated(code, "Valid until") in block
    assert f'<bdi dir="ltr">{voucher.display_code}</bdi>' in block
    assert "Show this at" in page  # and in English, first
    assert page.index("Show this at") < page.index("app-translation")


def test_it_shows_the_e_voucher_in_english_only_for_a_family_with_no_other_language(
    client, voucher, family_a
):
    for code in ("", "other"):
        family_a.language = code
        family_a.save()
        page = client.get(f"/v/{voucher.public_token}/").content.decode()
        assert section(page) == ""
        assert "Show this at" in page


def test_it_says_in_the_familys_language_that_a_cancelled_e_voucher_cannot_be_used(
    client, speaks, voucher, pastoral_a
):
    speaks("ar")
    voucher_cancel(voucher=voucher, actor=pastoral_a, reason="Issued in error")
    block = section(client.get(f"/v/{voucher.public_token}/").content.decode())
    assert translated("ar", "This voucher can no longer be used") in block
    assert 'dir="rtl"' in block


def test_it_keeps_staff_pages_in_english_whatever_the_browser_asks(client, pastoral_a, family_a):
    client.force_login(pastoral_a)
    page = client.get(f"/families/{family_a.pk}/", HTTP_ACCEPT_LANGUAGE="pl,ur;q=0.8").content.decode()
    assert 'lang="en-GB"' in page
    assert "Preferred language" in page
    assert translation.get_language() in ("en-gb", None)


# --- E-mail and text message --------------------------------------------------------------------------


def test_it_emails_the_voucher_in_english_and_the_familys_language(
    issue, family_a, food_type, django_capture_on_commit_callbacks
):
    family_a.email = "anna@example.org"
    family_a.language = "pl"
    family_a.save()
    with django_capture_on_commit_callbacks(execute=True):
        voucher = issue(family_a, food_type, delivery="email")
    (message,) = mail.outbox
    partner = food_type.partner.name
    assert message.subject == f"Your voucher for {partner} / Twój bon do organizacji {partner}"
    english, polish = message.body.split("\n\nTwój bon", 1)
    assert english.startswith("Your ")
    assert voucher.display_code in english
    assert "The voucher is attached" in english
    assert voucher.display_code in polish
    assert f"/v/{voucher.public_token}/" in polish
    assert "Bon jest w załączniku" in polish
    text, _ = pdf_words(message.attachments[0][1])
    assert letters("Kod bonu") in text


def test_it_texts_the_voucher_in_english_and_urdu(
    issue, family_a, food_type, texts, django_capture_on_commit_callbacks
):
    family_a.language = "ur"
    family_a.save()
    with django_capture_on_commit_callbacks(execute=True):
        voucher = issue(family_a, food_type, delivery="sms")
    (sent,) = texts
    english, urdu = sent["body"].split("\n\n")
    assert english.startswith("Your ")
    assert voucher.display_code in english
    assert "آپ کا واؤچر" in urdu
    assert voucher.display_code in urdu
    assert "جنوری" in urdu or re.search(r"[\u0600-\u06ff]+ \d{4}", urdu)  # the month in Urdu


def test_it_tells_the_family_of_a_cancellation_in_their_language(
    issue, family_a, food_type, texts, pastoral_a, django_capture_on_commit_callbacks
):
    family_a.language = "ro"
    family_a.save()
    with django_capture_on_commit_callbacks(execute=True):
        voucher = issue(family_a, food_type, delivery="sms")
    with django_capture_on_commit_callbacks(execute=True):
        voucher_cancel(voucher=voucher, actor=pastoral_a, reason="Issued in error")
    body = texts[-1]["body"]
    assert "has been cancelled" in body
    assert f"Voucherul dumneavoastră {voucher.display_code}" in body
    assert "a fost anulat" in body


def test_it_sends_english_only_to_a_family_with_no_other_language(
    issue, family_a, food_type, texts, django_capture_on_commit_callbacks
):
    family_a.language = "other"
    family_a.language_noted = "Somali"
    family_a.save()
    with django_capture_on_commit_callbacks(execute=True):
        issue(family_a, food_type, delivery="sms")
    assert "\n\n" not in texts[0]["body"]


# --- The counter ---------------------------------------------------------------------------------------


def test_the_counter_sees_the_familys_language_and_nothing_more(client, speaks, voucher, charity_staff):
    speaks("ur")
    client.force_login(charity_staff)
    page = client.get(f"/redeem/{voucher.code}/").content.decode()
    assert re.search(r'id="family-language">Urdu \(اردو\)</dd>', page)
    api = APIClient()
    api.force_authenticate(charity_staff)
    body = api.get(f"/api/v1/redeem/{voucher.code}/").json()
    assert body["family_language"] == "Urdu (اردو)"
    # Only the language: no address, phone or e-mail of the family came with it.
    family = voucher.family
    for private in (family.phone, family.email, family.postcode):
        if private:
            assert private not in page
            assert private not in str(body)


def test_the_counter_sees_an_untranslated_language_as_the_school_recorded_it(
    client, voucher, family_a, charity_staff
):
    family_a.language, family_a.language_noted = "other", "Somali"
    family_a.save()
    client.force_login(charity_staff)
    page = client.get(f"/redeem/{voucher.code}/").content.decode()
    assert 'id="family-language">Another language: Somali</dd>' in page


def test_another_partners_counter_cannot_learn_the_language(voucher, other_charity_staff, speaks):
    speaks("pl")
    api = APIClient()
    api.force_authenticate(other_charity_staff)
    response = api.get(f"/api/v1/redeem/{voucher.code}/")
    assert response.status_code == 404
    assert "Polish" not in response.content.decode()


def test_finance_never_sees_the_familys_language(voucher, finance, speaks):
    speaks("pl")
    api = APIClient()
    api.force_authenticate(finance)
    response = api.get(f"/api/v1/vouchers/{voucher.pk}/")
    assert "family_language" not in response.content.decode()
    assert "Polish" not in response.content.decode()
