"""The public ask-for-help page of a school: no account, the asker's language, not indexed.

``/ask/<code>/`` (English) and ``/ask/<code>/<lang>/``; the confirmation and the privacy notice beside.
The confirmation is the same page whatever was typed, and is reached by a redirect so a reload sends
nothing twice.
"""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import get_language_info
from django.views.decorators.cache import never_cache

from asks.abuse import MAX_BODY_BYTES, ask_allowed
from asks.forms import AskForm
from asks.models import AskLink
from asks.selectors import ask_link_by_code
from asks.services import ask_submit
from support.errors import SupportError
from support.forms import form_error_from
from support.http import client_ip
from support.languages import LANGUAGES

# The page's languages: English, then each one a family may receive (settings.LANGUAGES), named in itself.
LANGUAGE_NAMES = {"en": "English", **{code: language.own_name for code, language in LANGUAGES.items()}}
LANGUAGE_CODES = list(LANGUAGE_NAMES)


def public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Resolve the link and language, render in that language, and tell search engines to stay away."""

    @wraps(view)
    def wrapped(request: HttpRequest, code: str, lang: str = "en") -> HttpResponse:
        link = ask_link_by_code(code)
        if link is None or lang not in LANGUAGE_CODES:
            raise Http404
        with translation.override(lang):
            response = view(request, link, lang)
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return never_cache(wrapped)


def _context(link: AskLink, lang: str, page: str, **extra) -> dict:
    info = get_language_info(lang)
    languages = [
        {
            "code": code,
            "name": name,
            "url": reverse(page, args=[link.code, code]),
            "current": code == lang,
            "rtl": get_language_info(code)["bidi"],
        }
        for code, name in LANGUAGE_NAMES.items()
    ]
    return {
        "link": link,
        "school": link.school.name,
        "lang": lang,
        "rtl": info["bidi"],
        "languages": languages,
        "days": settings.ASKS_REPLY_SCHOOL_DAYS,
        "retention_days": settings.ASKS_RETENTION_DAYS,
        **extra,
    }


def _refused(request: HttpRequest, link: AskLink, lang: str, *, status: int) -> HttpResponse:
    context = _context(link, lang, "ask_public_lang", status=status)
    return render(request, "asks/public/refused.html", context, status=status)


@public_page
def ask_public(request: HttpRequest, link: AskLink, lang: str) -> HttpResponse:
    if request.method == "POST":
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES:
            return _refused(request, link, lang, status=413)
        if not ask_allowed(address=client_ip(request), school_id=link.school_id):
            return _refused(request, link, lang, status=429)
        form = AskForm(request.POST)
        if form.is_bot:
            # The same answer as a real ask, so a bot learns nothing; nothing is stored.
            return redirect("ask_thanks", link.code, lang)
        if form.is_valid():
            data = form.cleaned_data
            try:
                ask_submit(
                    link=link,
                    kind=data["kind"],
                    asker_name=data["asker_name"],
                    child_name=data["child_name"],
                    child_year=data["child_year"],
                    contact_way=data["contact_way"],
                    message=data["message"],
                    language=lang,
                )
            except SupportError as exc:
                form_error_from(form, exc)
            else:
                return redirect("ask_thanks", link.code, lang)
    else:
        form = AskForm()
    return render(request, "asks/public/ask.html", _context(link, lang, "ask_public_lang", form=form))


@public_page
def ask_thanks(request: HttpRequest, link: AskLink, lang: str) -> HttpResponse:
    return render(request, "asks/public/thanks.html", _context(link, lang, "ask_thanks"))


@public_page
def ask_privacy(request: HttpRequest, link: AskLink, lang: str) -> HttpResponse:
    return render(request, "asks/public/privacy.html", _context(link, lang, "ask_privacy"))


urlpatterns = [
    path("ask/<slug:code>/", ask_public, name="ask_public"),
    path("ask/<slug:code>/<slug:lang>/", ask_public, name="ask_public_lang"),
    path("ask/<slug:code>/<slug:lang>/thanks/", ask_thanks, name="ask_thanks"),
    path("ask/<slug:code>/<slug:lang>/privacy/", ask_privacy, name="ask_privacy"),
]
