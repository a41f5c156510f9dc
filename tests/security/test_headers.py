"""Security headers: a Content Security Policy that allows no inline script, pages that need none, and
the cookie and session settings production runs with (read from a real production settings import)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import consent_to

BASE_DIR = Path(__file__).resolve().parents[2]

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


def _directives(header: str) -> dict[str, list[str]]:
    parts = (p.strip().split() for p in header.split(";") if p.strip())
    return {p[0]: p[1:] for p in parts}


@pytest.fixture
def pages(client_for, pastoral_a, finance, family_a):
    consent_to(family_a, pastoral_a)
    return [
        (client_for(None), "/accounts/login/"),
        (client_for(pastoral_a), "/"),
        (client_for(pastoral_a), f"/families/{family_a.pk}/"),
        (client_for(pastoral_a), f"/families/{family_a.pk}/vouchers/new/"),
        (client_for(finance), "/"),
        (client_for(finance), "/finance/"),
    ]


@pytest.mark.django_db
def test_it_serves_every_sample_page_with_a_policy_that_forbids_inline_script(pages):
    for client, url in pages:
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        policy = _directives(response.headers["Content-Security-Policy"])
        script_src = policy.get("script-src", policy.get("default-src"))
        assert script_src == ["'self'"], (url, script_src)
        sources = {source for values in policy.values() for source in values}
        assert "*" not in sources
        assert "'unsafe-inline'" not in sources
        assert "'unsafe-eval'" not in sources
        assert policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["base-uri"] == ["'self'"]


@pytest.mark.django_db
def test_it_has_no_inline_script_or_event_handler_in_the_sample_pages(pages):
    for client, url in pages:
        response = client.get(url, follow=True)
        html = response.content.decode()
        assert "<script" in html or url == "/accounts/login/", (
            url
        )  # the pages do load their (external) scripts
        assert INLINE_SCRIPT.findall(html) == [], url
        assert EVENT_HANDLER.findall(html) == [], url
        assert JAVASCRIPT_URL.findall(html) == [], url
        assert (
            "style=" not in html.lower() or "style-src" not in response.headers["Content-Security-Policy"]
        ), url


def test_it_finds_inline_script_when_there_is_some():
    """The scanners above would see what they look for."""
    assert INLINE_SCRIPT.findall('<p>x</p><script>alert(1)</script><script src="/a.js"></script>') == [
        "<script>"
    ]
    assert EVENT_HANDLER.findall('<img src="x" onerror="alert(1)">')
    assert JAVASCRIPT_URL.findall('<a href="javascript:alert(1)">')


def test_it_runs_production_with_secure_cookies_and_expiring_sessions():
    """Import the settings as production does (DEBUG off, from the environment) in a fresh process."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SESSION_", "SECURE_", "CSRF_"))
    }
    env.update(
        DEBUG="false",
        SECRET_KEY="test-" + "x" * 50,
        ALLOWED_HOSTS="trust.example",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    names = [
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "SESSION_COOKIE_AGE",
        "SESSION_EXPIRE_AT_BROWSER_CLOSE",
        "SESSION_SAVE_EVERY_REQUEST",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_CONTENT_TYPE_NOSNIFF",
        "X_FRAME_OPTIONS",
        "DEBUG",
        "MIDDLEWARE",
    ]
    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {names!r}}}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True, check=True
    )
    prod = json.loads(out.stdout.strip().splitlines()[-1])
    assert prod["DEBUG"] is False
    assert prod["SESSION_COOKIE_SECURE"] is True
    assert prod["CSRF_COOKIE_SECURE"] is True
    assert prod["SESSION_COOKIE_HTTPONLY"] is True
    assert prod["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")
    # An idle session ends within the hour, and with the browser.
    assert 0 < prod["SESSION_COOKIE_AGE"] <= 60 * 60
    assert prod["SESSION_SAVE_EVERY_REQUEST"] is True
    assert prod["SESSION_EXPIRE_AT_BROWSER_CLOSE"] is True
    assert prod["SECURE_SSL_REDIRECT"] is True
    assert prod["SECURE_HSTS_SECONDS"] >= 31536000
    assert prod["X_FRAME_OPTIONS"] == "DENY"
    assert "support.middleware.ContentSecurityPolicyMiddleware" in prod["MIDDLEWARE"]
    assert "django.middleware.csrf.CsrfViewMiddleware" in prod["MIDDLEWARE"]


@pytest.mark.django_db
def test_it_signs_out_an_idle_session(client_for, pastoral_a, settings):
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    client = client_for(pastoral_a)
    assert client.get("/").status_code == 200
    Session.objects.update(expire_date=timezone.now() - timezone.timedelta(seconds=1))
    response = client.get("/")
    assert response.status_code == 302
    assert "/accounts/login/" in response.headers["Location"]


def _callbacks(resolver=None, prefix=""):
    from django.urls import URLPattern, URLResolver, get_resolver

    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from _callbacks(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def test_csrf_protects_every_form_that_posts():
    """Django's CSRF middleware guards every POST unless a view opts out: only the health check (GET,
    for load balancers) does. DRF's views are exempt from the middleware, but its session
    authentication enforces CSRF itself (tested below)."""
    exempt = sorted(
        route
        for route, callback in _callbacks()
        if getattr(callback, "csrf_exempt", False) and not hasattr(callback, "cls")  # DRF views: below
    )
    assert exempt == ["healthz"]


def test_the_api_refuses_a_session_post_without_the_csrf_token(db, pastoral_a, family_a):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(pastoral_a)
    response = client.post(
        f"/api/v1/families/{family_a.pk}/consent/",
        {"partner": 1, "given": True, "method": "phone"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not family_a.consents.exists()


@pytest.fixture
def gift_aid_declaration(finance):
    import datetime

    from funds.services.gift_aid import gift_aid_declaration_record

    return gift_aid_declaration_record(
        donor="Trustee: Mrs H. Pemberton", first_name="Helen", last_name="Pemberton", house="12",
        address="12 Mill Lane", postcode="RV1 2AB", declared_on=datetime.date(2026, 9, 1), covers_past=True,
        covers_future=True, actor=finance,
    )  # fmt: skip


@pytest.mark.django_db
def test_no_page_or_answer_with_personal_data_may_be_kept_by_a_browser_or_proxy(
    client_for, pastoral_a, finance, family_a, gift_aid_declaration
):
    """A shared staff-room computer's back button, or a proxy, must not keep a donor's home address or a
    family's page after sign-out: every signed-in page and API answer says ``no-store``."""
    consent_to(family_a, pastoral_a)
    answers = [
        client_for(pastoral_a).get(f"/families/{family_a.pk}/"),
        client_for(pastoral_a).get(f"/api/v1/families/{family_a.pk}/"),
        client_for(finance).get(f"/finance/gift-aid/declarations/{gift_aid_declaration.pk}/"),
        client_for(finance).get("/api/v1/gift-aid/declarations/"),
    ]
    for response in answers:
        assert response.status_code == 200, response.request["PATH_INFO"]
        assert "no-store" in response.get("Cache-Control", ""), response.request["PATH_INFO"]
        assert "private" in response["Cache-Control"], response.request["PATH_INFO"]
