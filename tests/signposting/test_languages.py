"""The agency sheet a family takes away is in English and its own language (issue 19), as a voucher is: the
PDF (each language rendered and read back with pypdf: the words extract, in the font that carries the
script, with no glyph missing; Urdu and Arabic right to left) and the e-mail (subject and text); the
agency's own details stay as the trust entered them."""

import io
import re
import unicodedata
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from pypdf import PdfReader

from signposting.demo import AGENCIES
from signposting.models import Agency
from signposting.services import agency_sheet_email
from signposting.sheet import agency_sheet_pdf, agency_sheet_text, sheet_html
from support.languages import LANGUAGES
from tests.vouchers.test_languages import SCRIPT_FONTS, font_cmap, letters, pdf_words, translated

# What the sheet says in the family's language (the agency's name as a placeholder).
SHEET = (
    "Help from %(agency)s",
    "Your school thinks %(agency)s may be able to help. You can contact them yourself: their details are "
    "below. It is free to ask.",
    "Their details are in English, as the agency gave them.",
    "What they help with",
    "Who can use them",
    "How to contact them",
    "Phone",
    "If you need help contacting them, ask the school. You do not have to use this service.",
)
# Said only where the agency has the detail (the college fixture has none of these).
DETAILS = ("E-mail", "Website", "Areas they cover")
ENGLISH = "Your school thinks"


@pytest.fixture
def speaks(family_a):
    def set_language(code: str, noted: str = ""):
        family_a.language, family_a.language_noted = code, noted
        family_a.save(update_fields=["language", "language_noted"])
        return family_a

    return set_language


@pytest.fixture
def longest(db):
    """The demo directory's longest entry, every detail filled in."""
    fields = ("helps_with", "who_can_use", "how_to_contact", "how_to_refer")
    fields += ("phone", "email", "website", "areas")
    name, *values, _ = max(AGENCIES, key=lambda row: sum(len(str(value)) for value in row))
    return Agency.objects.create(name=name, **dict(zip(fields, values, strict=True)))


@pytest.mark.parametrize("code", sorted(LANGUAGES))
def test_it_prints_the_sheet_in_english_and_the_familys_language_with_every_glyph(speaks, college, code):
    family = speaks(code)
    data = agency_sheet_pdf(family=family, agency=college)
    text, fonts = pdf_words(data)

    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    assert letters(ENGLISH) in text  # the English stays, first
    for message in SHEET:
        words = translated(code, message, agency=college.name)
        assert words != message % {"agency": college.name}, (code, message)  # translated, not left in English
        for word in words.split():
            assert letters(word) in text, (code, word)
    # The agency's details as entered, in both parts.
    assert text.count(letters(college.phone)) == 2
    assert text.count(letters(college.how_to_contact)) == 2
    language = LANGUAGES[code]
    if code in SCRIPT_FONTS:
        assert SCRIPT_FONTS[code] in "".join(fonts)
        needed = {
            ord(c)
            for message in SHEET + DETAILS
            for c in translated(code, message, agency="")
            if unicodedata.category(c)[0] in "LMP" and ord(c) > 0x2FF
        }
        assert needed - font_cmap(language.pdf_fonts[0]) == set()
    else:
        assert all(font.startswith("DejaVu") for font in fonts)


@pytest.mark.parametrize("code", ["", "other"])
def test_it_prints_english_only_for_a_family_with_no_other_language(speaks, college, code):
    family = speaks(code, "Somali" if code else "")
    text, fonts = pdf_words(agency_sheet_pdf(family=family, agency=college))
    assert letters(ENGLISH) in text
    assert text.count(letters(college.phone)) == 1
    assert not any(font.startswith("Noto") for font in fonts)
    assert "translated" not in sheet_html(family=family, agency=college).split("<body", 1)[1]


def test_it_sets_urdu_and_arabic_right_to_left_with_the_details_left_to_right(speaks, college):
    for code, direction in (("ur", "rtl"), ("ar", "rtl"), ("pa", "ltr"), ("ro", "ltr")):
        html = sheet_html(family=speaks(code), agency=college)
        assert '<html lang="en-GB">' in html
        assert f'<div class="translated" lang="{code}" dir="{direction}">' in html
        # The agency's details as the trust entered them, reading left to right inside the block.
        block = html.split('class="translated"', 1)[1]
        assert f'<bdi dir="ltr">{college.phone}</bdi>' in block
        assert html.index(ENGLISH) < html.index('class="translated"')


@pytest.mark.parametrize("code", sorted(LANGUAGES))
def test_the_demos_longest_entry_stays_on_one_page_in_every_language(speaks, longest, code):
    data = agency_sheet_pdf(family=speaks(code), agency=longest)
    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    text, _ = pdf_words(data)
    assert text.count(letters(longest.website)) == 2


def test_the_sheet_page_prints_in_the_familys_language(client_for, pastoral_a, speaks, college):
    speaks("ar")
    response = client_for(pastoral_a).get(reverse("agency_sheet", args=[speaks("ar").pk, college.pk]))
    assert response.status_code == 200
    text, fonts = pdf_words(response.content)
    assert letters(translated("ar", "Help from %(agency)s", agency="")) in text
    assert "NotoNaskhArabic" in "".join(fonts)


def test_the_fonts_the_pdfs_name_are_the_language_tables():
    css = (Path(settings.BASE_DIR) / "templates" / "pdf" / "languages.css").read_text()
    for code, language in LANGUAGES.items():
        rule = re.search(rf'\.translated:lang\({code}\) {{ font-family: "([^"]+)"', css)
        if language.pdf_fonts:
            assert rule, code
            assert rule.group(1) == language.pdf_fonts[0], code
        else:
            assert rule is None, code


# --- The e-mail ----------------------------------------------------------------------------------------


def test_it_emails_the_sheet_in_english_and_then_polish(
    speaks, pastoral_a, college, eager, mailoutbox, django_capture_on_commit_callbacks
):
    family = speaks("pl")
    family.email = "anna@example.org"
    family.save()
    with django_capture_on_commit_callbacks(execute=True):
        agency_sheet_email(family=family, agency=college, actor=pastoral_a)
    (message,) = mailoutbox
    assert message.subject == f"Help from {college.name} / Pomoc od organizacji {college.name}"
    english, polish = message.body.split("\n\nDzień dobry, Anna Able,\n\n", 1)
    assert english.startswith("Dear Anna Able,\n\nYour school thinks Riverton College")
    assert "Phone: 01632 960100" in english
    assert "Drop in to the advice centre" in english
    assert "Dane organizacji podajemy po angielsku" in polish
    assert "Telefon: 01632 960100" in polish
    assert "Jak się z nimi skontaktować: Drop in to the advice centre" in polish  # as entered
    assert polish.endswith(f"Nie musisz korzystać z tej pomocy.\n\n{settings.TRUST_NAME}")
    assert "Phone" not in polish


@pytest.mark.parametrize("code", sorted(LANGUAGES))
def test_the_email_says_every_line_in_the_familys_language(speaks, college, code):
    subject, body = agency_sheet_text(family=speaks(code), agency=college, name="Sana Khan")
    english_subject, own_subject = subject.split(" / ")
    assert english_subject == f"Help from {college.name}"
    assert own_subject == translated(code, "Help from %(agency)s", agency=college.name)
    at = body.index(translated(code, "Dear %(name)s,", name="Sana Khan"))
    english, own = body[:at], body[at:]
    assert "Dear Sana Khan," in english
    assert ENGLISH in english
    for message in SHEET[1:]:
        line = translated(code, message, agency=college.name)
        assert line in own, (code, message)
        assert line not in english
    assert f"{translated(code, 'Phone')}: {college.phone}" in own


@pytest.mark.parametrize("code", ["", "other"])
def test_it_emails_english_only_to_a_family_with_no_other_language(speaks, college, code):
    subject, body = agency_sheet_text(family=speaks(code, "Somali" if code else ""), agency=college)
    assert subject == f"Help from {college.name}"
    assert body.count("Dear ") == 1
    assert body.count(college.phone) == 1
    assert body.startswith("Dear Anna Able,")


def test_the_agency_page_tells_staff_which_language_the_sheet_comes_in(
    client_for, pastoral_a, speaks, college
):
    url = reverse("signpost_create", args=[speaks("ur").pk, college.pk])
    page = client_for(pastoral_a).get(url).content.decode()
    assert 'id="sheet-language">Printed or e-mailed, their details come in English and in Urdu' in page
    assert '<bdi lang="ur">اردو</bdi>' in page
    speaks("other", "Somali")
    assert 'id="sheet-language"' not in client_for(pastoral_a).get(url).content.decode()
