"""The sheet a family takes away: an agency's details in plain words, printed (PDF) or e-mailed.

Family-facing words are marked for translation and rendered in the family's language when it has one
(``Family.language``, where the project records it); the agency's own details are shown as the trust
entered them.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from signposting.models import Agency
from support.models import Family
from support.pdf import html_to_pdf

STYLESHEET = "signposting/pdf/sheet.css"


def family_language(family: Family) -> str:
    return getattr(family, "language", "") or "en"


def _lines(agency: Agency) -> list[tuple[str, str]]:
    """(label, value) of each detail the agency has, in the family's words."""
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


def _context(*, family: Family, agency: Agency) -> dict:
    return {
        "trust_name": settings.TRUST_NAME,
        "language": family_language(family),
        "agency": agency,
        "title": _("Help from %(agency)s") % {"agency": agency.name},
        "intro": _(
            "Your school thinks %(agency)s may be able to help. You can contact them yourself: "
            "their details are below. It is free to ask."
        )
        % {"agency": agency.name},
        "lines": _lines(agency),
        "closing": _(
            "If you need help contacting them, ask the school. You do not have to use this service."
        ),
    }


def agency_sheet_text(*, family: Family, agency: Agency, name: str = "") -> tuple[str, str]:
    """The sheet as an e-mail to ``name`` (the lead carer when not given): (subject, plain-text body), in
    the family's language."""
    with translation.override(family_language(family)):
        context = _context(family=family, agency=agency)
        body = "\n\n".join(
            [
                _("Dear %(name)s,") % {"name": name or family.lead_carer_name},
                context["intro"],
                "\n".join(f"{label}: {value}" for label, value in context["lines"]),
                context["closing"],
                context["trust_name"],
            ]
        )
        return str(context["title"]), body


def agency_sheet_pdf(*, family: Family, agency: Agency) -> bytes:
    """The printable sheet (A4, one page), in the family's language. It names no pupil."""
    with translation.override(family_language(family)):
        context = _context(family=family, agency=agency)
        html = render_to_string("signposting/pdf/sheet.html", context)
    return html_to_pdf(html, stylesheet=STYLESHEET)
