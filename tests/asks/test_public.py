"""The public ask-for-help page: languages, the same confirmation whatever was typed, abuse limits."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from asks.models import Ask
from support.models import AuditEvent
from tests.factories import FamilyFactory, PupilFactory

pytestmark = pytest.mark.django_db

ASK = {
    "kind": "coat",
    "asker_name": "Jo Parent",
    "child_name": "Sam Example",
    "child_year": "Year 4",
    "contact_way": "text",
    "message": "",
    "website": "",
}


def _post(client: Client, link, lang: str = "pl", **changes):
    return client.post(reverse("ask_public_lang", args=[link.code, lang]), {**ASK, **changes})


def test_it_shows_the_page_without_an_account_and_asks_search_engines_to_stay_away(link_a):
    response = Client().get(reverse("ask_public", args=[link_a.code]))
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    html = response.content.decode()
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert "csrfmiddlewaretoken" in html
    assert link_a.school.name in html


@pytest.mark.parametrize(
    ("lang", "words", "direction"),
    [
        ("en", "What would help?", "ltr"),
        ("pl", "Co by pomogło?", "ltr"),
        ("ro", "Ce v-ar ajuta?", "ltr"),
        ("pa", "ਕਿਸ ਚੀਜ਼ ਨਾਲ ਮਦਦ ਮਿਲੇਗੀ?", "ltr"),
        ("ur", "کس چیز سے مدد ملے گی؟", "rtl"),
        ("ar", "ما الذي قد يساعد؟", "rtl"),
    ],
)
def test_it_speaks_each_language_and_runs_urdu_and_arabic_right_to_left(link_a, lang, words, direction):
    html = Client().get(reverse("ask_public_lang", args=[link_a.code, lang])).content.decode()
    assert f'<html lang="{lang}" dir="{direction}"' in html
    assert words in html
    # The language switch offers every language, each marked with its own direction.
    for code in ("en", "pl", "ur", "pa", "ro", "ar"):
        assert reverse("ask_public_lang", args=[link_a.code, code]) in html


def test_an_unknown_link_or_language_is_a_404(link_a):
    assert Client().get(reverse("ask_public", args=["nosuch"])).status_code == 404
    assert Client().get(reverse("ask_public_lang", args=[link_a.code, "xx"])).status_code == 404
    link_a.is_active = False
    link_a.save()
    assert Client().get(reverse("ask_public", args=[link_a.code])).status_code == 404


def test_it_stores_the_ask_for_the_school_and_confirms_in_the_askers_language(link_a):
    client = Client()
    response = _post(client, link_a)
    assert response.status_code == 302
    assert response["Location"] == reverse("ask_thanks", args=[link_a.code, "pl"])
    ask = Ask.objects.get()
    assert (ask.school, ask.kind, ask.child_name, ask.language) == (
        link_a.school,
        "coat",
        "Sam Example",
        "pl",
    )
    assert (ask.status, ask.family) == (Ask.Status.WAITING, None)
    thanks = client.get(response["Location"])
    assert "Otrzymaliśmy Twoją wiadomość." in thanks.content.decode()
    event = AuditEvent.objects.get(action="ask.received")
    assert "Sam Example" not in str(event.after)
    assert "Jo Parent" not in str(event.after)


def test_it_gives_the_same_answer_whether_or_not_the_child_is_at_the_school(link_a, school_a):
    family = FamilyFactory(lead_carer_name="Jo Parent")
    PupilFactory(family=family, school=school_a, legal_forename="Sam", surname="Example")
    client = Client()
    real = _post(client, link_a)
    made_up = _post(client, link_a, child_name="Nobody Atall", asker_name="Someone Else")
    assert real.status_code == made_up.status_code == 302
    assert real["Location"] == made_up["Location"]
    assert client.get(real["Location"]).content == client.get(made_up["Location"]).content


def test_it_looks_nothing_up_when_an_ask_arrives(link_a):
    with CaptureQueriesContext(connection) as queries:
        assert _post(Client(), link_a).status_code == 302
    read = " ".join(q["sql"] for q in queries.captured_queries)
    for table in ("support_family", "support_pupil", "support_contact", "support_enrolment"):
        assert table not in read


def test_a_bot_filling_the_honeypot_gets_the_same_answer_and_stores_nothing(link_a):
    response = _post(Client(), link_a, website="http://spam.example")
    assert response.status_code == 302
    assert response["Location"] == reverse("ask_thanks", args=[link_a.code, "pl"])
    assert not Ask.objects.exists()


def test_it_refuses_missing_and_overlong_fields_in_the_askers_language(link_a):
    response = _post(Client(), link_a, asker_name="", child_name="x" * 101, kind="pony")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Wystąpił problem" in html
    assert "To pole jest wymagane." in html
    assert "Maksymalnie 100 znaków." in html
    assert "Wybierz, co by pomogło." in html
    assert not Ask.objects.exists()


def test_it_refuses_a_body_too_large_to_be_an_ask(link_a):
    response = _post(Client(), link_a, message="x" * 9000)
    assert response.status_code == 413
    assert not Ask.objects.exists()


def test_it_limits_asks_per_address(link_a, settings):
    settings.ASKS_PER_ADDRESS_PER_HOUR = 2
    client = Client(REMOTE_ADDR="203.0.113.9")
    assert _post(client, link_a).status_code == 302
    assert _post(client, link_a).status_code == 302
    refused = _post(client, link_a)
    assert refused.status_code == 429
    assert "Spróbuj ponownie później" in refused.content.decode()
    assert Ask.objects.count() == 2
    # Another address is not held back by the first one's limit.
    assert _post(Client(REMOTE_ADDR="203.0.113.10"), link_a).status_code == 302
    assert Ask.objects.count() == 3


def test_an_ipv6_home_cannot_slip_the_limit_by_changing_address(link_a, settings):
    # A home or phone gets a whole /64 (2^64 addresses): counted per address, one sender could flood
    # the school's queue and use up its hourly limit, so parents asking for real get "try later".
    settings.ASKS_PER_ADDRESS_PER_HOUR = 2
    for host in (1, 2):
        assert _post(Client(REMOTE_ADDR=f"2001:db8:1:2::{host}"), link_a).status_code == 302
    assert _post(Client(REMOTE_ADDR="2001:db8:1:2:aaaa::3"), link_a).status_code == 429
    # Another household's /64 is not held back.
    assert _post(Client(REMOTE_ADDR="2001:db8:1:3::1"), link_a).status_code == 302
    assert Ask.objects.count() == 3


def test_it_limits_asks_per_school(link_a, link_b, settings):
    settings.ASKS_PER_SCHOOL_PER_HOUR = 1
    assert _post(Client(REMOTE_ADDR="203.0.113.1"), link_a).status_code == 302
    assert _post(Client(REMOTE_ADDR="203.0.113.2"), link_a).status_code == 429
    assert _post(Client(REMOTE_ADDR="203.0.113.3"), link_b).status_code == 302


def test_a_bots_posts_count_toward_the_limit_too(link_a, settings):
    settings.ASKS_PER_ADDRESS_PER_HOUR = 1
    client = Client(REMOTE_ADDR="203.0.113.20")
    assert _post(client, link_a, website="spam").status_code == 302
    assert _post(client, link_a).status_code == 429
    assert not Ask.objects.exists()


def test_it_needs_the_csrf_token(link_a):
    client = Client(enforce_csrf_checks=True)
    assert _post(client, link_a).status_code == 403
    assert not Ask.objects.exists()


def test_the_privacy_notice_says_what_is_done_and_for_how_long(link_a, settings):
    settings.ASKS_RETENTION_DAYS = 45
    response = Client().get(reverse("ask_privacy", args=[link_a.code, "en"]))
    html = response.content.decode()
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "Only the school's pastoral leads read what you send." in html
    assert "We delete it 45 days after you send it." in html
