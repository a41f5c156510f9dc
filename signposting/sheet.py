"""The sheet a family takes away: an agency's details in plain words, printed (PDF) or e-mailed.

Family-facing text is in English and, when the family has one we translate into (``Family.language``),
in its own language after it (issue 19), as a voucher is: the PDF says it all again in a block of that
language (right to left for Urdu and Arabic, in its script's font), the e-mail's subject and text follow
the English with the same in that language. The agency's own details (its name and what admins entered)
are shown as the trust entered them, in both parts, left to right.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from signposting.models import Agency
from support.languages import family_language, in_family_language
from support.models import Family
from support.pdf import html_to_pdf

TEMPLATE = "signposting/pdf/sheet.html"
STYLESHEET = "signposting/pdf/sheet.css"


def _lines(agency: Agency) -> list[tuple[str, str]]:
    """(label, value) of each detail the agency has, the labels in the active language."""
    rows = [
        (_("What they help with"), agency.helps_with),
        (_("Who can use them"), agency.who_can_use),
        (_("How to contact them"), agency.how_to_contact),
        (_("Phone"), agency.phone),
        (_("E-mail"), agency.email),
        (_("Website"), agency.website),
        (_("Areas they cover"), agency.areas),
    ]
    return [(label, value) for label, value in rows if value]


def _title(agency: Agency) -> str:
    return _("Help from %(agency)s") % {"agency": agency.name}


def _words(agency: Agency) -> dict:
    """What the sheet says, in the active language (the agency's details as entered)."""
    return {
        "title": _title(agency),
        "intro": _(
            "Your school thinks %(agency)s may be able to help. You can contact them yourself: "
            "their details are below. It is free to ask."
        )
        % {"agency": agency.name},
        # Only in the family's language: why the details that follow are in English.
        "as_given": _("Their details are in English, as the agency gave them."),
        "lines": _lines(agency),
        "closing": _(
            "If you need help contacting them, ask the school. You do not have to use this service."
        ),
    }


def _text(agency: Agency, name: str, *, translated: bool) -> str:
    words = _words(agency)
    return "\n\n".join(
        [
            _("Dear %(name)s,") % {"name": name},
            words["intro"],
            *([words["as_given"]] if translated else []),
            "\n".join(f"{label}: {value}" for label, value in words["lines"]),
            words["closing"],
        ]
    )


def agency_sheet_text(*, family: Family, agency: Agency, name: str = "") -> tuple[str, str]:
    """The sheet as an e-mail to ``name`` (the lead carer when not given): (subject, plain-text body), in
    English and then the family's language when it has one we translate into, signed by the trust."""
    name = name or family.lead_carer_name
    with translation.override("en"):
        subject = in_family_language(family.language, _title(agency), lambda: _title(agency), sep=" / ")
        body = in_family_language(
            family.language,
            _text(agency, name, translated=False),
            lambda: _text(agency, name, translated=True),
        )
    return subject, f"{body}\n\n{settings.TRUST_NAME}"


def sheet_html(*, family: Family, agency: Agency) -> str:
    """The sheet's HTML: English, then the same in the family's language when it has one."""
    language = family_language(family.language)
    with translation.override("en"):
        english = _words(agency)
    translated = None
    if language is not None:
        with translation.override(language.code):
            translated = _words(agency)
    context = {
        "trust_name": settings.TRUST_NAME,
        "agency": agency,
        "english": english,
        "language": language,
        "translated": translated,
    }
    return render_to_string(TEMPLATE, context)


def agency_sheet_pdf(*, family: Family, agency: Agency) -> bytes:
    """The printable sheet (A4, one page for a directory entry of ordinary length). It names no pupil."""
    return html_to_pdf(sheet_html(family=family, agency=agency), stylesheet=STYLESHEET)
