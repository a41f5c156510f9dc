"""The languages a family may receive its vouchers and messages in, beside English.

One table: each language's code (Django's, as in ``settings.LANGUAGES``), its name in English (what staff
read), its own name (what the family reads), and whether it runs right to left. ``Family.language`` holds
one of these codes, blank for English, or ``other`` when the school's export names a language we have no
translation for (the export's value is kept in ``Family.language_noted`` so staff can see what it said).

``language_from_export`` reads a school information system's home-language column: a name ("Polish",
"Panjabi (Gurmukhi)") or the Department for Education's code ("POL", "PNJG", "URD") or an ISO code.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models
from django.utils import translation


@dataclass(frozen=True)
class Language:
    code: str
    name: str  # in English, for staff
    own_name: str  # in the language itself, for the family
    rtl: bool = False
    # The font that carries its script in PDFs (Debian's fonts-noto-core; templates/vouchers/pdf/voucher.css
    # names it); empty: the PDFs' own DejaVu Sans has it.
    pdf_fonts: tuple[str, ...] = ()


LANGUAGES: dict[str, Language] = {
    language.code: language
    for language in (
        Language("pl", "Polish", "polski"),
        Language("ur", "Urdu", "اردو", rtl=True, pdf_fonts=("Noto Naskh Arabic",)),
        Language("pa", "Punjabi (Gurmukhi)", "ਪੰਜਾਬੀ", pdf_fonts=("Noto Sans Gurmukhi",)),
        Language("ro", "Romanian", "română"),
        Language("ar", "Arabic", "العربية", rtl=True, pdf_fonts=("Noto Naskh Arabic",)),
    )
}
OTHER = "other"


class FamilyLanguage(models.TextChoices):
    ENGLISH = "", "English"
    POLISH = "pl", "Polish"
    URDU = "ur", "Urdu"
    PUNJABI = "pa", "Punjabi (Gurmukhi)"
    ROMANIAN = "ro", "Romanian"
    ARABIC = "ar", "Arabic"
    OTHER = OTHER, "Another language (no translation yet)"


def family_language(code: str) -> Language | None:
    """The language a family receives beside English, or None (English, or one with no translation)."""
    return LANGUAGES.get(code or "")


def in_family_language(code: str, english: str, translated: Callable[[], str], sep: str = "\n\n") -> str:
    """``english``, then ``translated()`` made in the language ``code`` names when we translate into it.

    Family-facing text is in English and the family's language (issue 19): a voucher's messages, the agency
    sheet's e-mail. English only for English, "another language" or a language we have no translation for.
    """
    language = family_language(code)
    if language is None:
        return english
    with translation.override(language.code):
        return f"{english}{sep}{translated()}"


def language_label(code: str, noted: str = "") -> str:
    """How staff see a family's language: "Urdu (اردو)", "Another language: Somali", or "English"."""
    language = family_language(code)
    if language:
        return f"{language.name} ({language.own_name})"
    if code == OTHER:
        return f"Another language: {noted}" if noted else "Another language"
    return "English"


def _key(value: str) -> str:
    return "".join(ch for ch in value.casefold() if ch.isalnum())


# What exports write, keyed without case, spaces or punctuation. DfE codes from the school census's
# language list: PNJ and PNJG are Panjabi in Gurmukhi; Mirpuri (PNJM) and Pothwari (PNJP) speakers more
# often read Urdu's script than Gurmukhi, so those are kept as "other" for staff to decide, not guessed.
_EXPORT_VALUES: dict[str, str] = {
    **dict.fromkeys(["polish", "pol", "pl", "polski"], "pl"),
    **dict.fromkeys(["urdu", "urd", "ur"], "ur"),
    **dict.fromkeys(
        ["punjabi", "panjabi", "pnj", "pnjg", "pa", "pan", "panjabigurmukhi", "punjabigurmukhi"], "pa"
    ),
    **dict.fromkeys(["romanian", "rom", "ron", "rum", "ro", "romana"], "ro"),
    **dict.fromkeys(["arabic", "ara", "ar", "araa", "arag", "arai", "arak", "aram", "aray"], "ar"),
    # English (and "believed to be English"): no second language.
    **dict.fromkeys(["english", "eng", "enb", "en", "engb", "enus"], ""),
}
# Values that say nothing about the language: kept blank, not "other".
_UNKNOWN = {"", "notobtained", "nob", "refused", "ref", "unknown", "notknown", "notprovided"}


def language_from_export(raw: str) -> tuple[str, str]:
    """``(code, noted)`` for a home-language value from a school's export.

    A language we translate into gives its code; English or no information gives ``""``; any other
    language gives ``other`` with the value as the export wrote it (trimmed), so staff can see it.
    """
    value = " ".join((raw or "").split())[:60]
    key = _key(value)
    if key in _EXPORT_VALUES:
        return _EXPORT_VALUES[key], ""
    if key in _UNKNOWN:
        return "", ""
    return OTHER, value
