"""End-to-end tests: each user's journey in headless Chromium (Debian's, driven by Playwright) against a
real server thread (pytest-django's ``live_server``), and an axe-core accessibility check of every page.

Every test here is marked ``e2e`` and uses a transactional database, so data made in the test is what the
server thread sees. Screenshots go to ``e2e-artifacts/`` (or ``$E2E_ARTIFACTS``), which git ignores.

The browser is Debian's ``chromium`` (``bin/system-deps`` installs it; ``$CHROMIUM_PATH`` overrides).
Playwright never downloads a browser of its own here.
"""

import datetime
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from tests.e2e.browser import ARTIFACTS, DESKTOP, PHONE, axe_check, describe_violations

# As the machine's notes advise: no background traffic to Google, no sandbox (root in CI), no GPU.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail(
            "Debian's chromium is not installed: run `make setup` (bin/system-deps installs it) "
            "or set CHROMIUM_PATH. The e2e tests never download a browser."
        )
    return path


@pytest.fixture(scope="package")
def browser() -> Iterator:
    """One Chromium per test process for this package's tests.

    Playwright's sync API keeps an asyncio loop running in the main thread while it is started, and
    Django refuses ORM calls from a thread with a running loop. The tests' own ORM calls are plain
    synchronous code, so the check is lifted only while the browser is up (package scope: it stops
    before any other package's tests run in this process).
    """
    from playwright.sync_api import sync_playwright

    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture(autouse=True)
def _append_only_tables_emptied(transactional_db, django_db_blocker) -> Iterator[None]:
    """Let the transactional test's flush empty the append-only tables on SQLite.

    The audit and ledger tables refuse DELETE through triggers (support migrations 0002, 0005); Django
    empties a SQLite test database with DELETE, which they would refuse. So: drop the triggers, flush,
    and put the same triggers back, before pytest-django's own flush (which then finds empty tables).
    PostgreSQL empties tables with TRUNCATE, which the triggers allow.
    """
    yield
    if connection.vendor != "sqlite":
        return
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            triggers = cursor.fetchall()
            for name, _ in triggers:
                cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
        call_command("flush", verbosity=0, interactive=False, inhibit_post_migrate=True)
        with connection.cursor() as cursor:
            for _, sql in triggers:
                cursor.execute(sql)


@pytest.fixture
def site_url(live_server, settings) -> str:
    """The live server's address, also as SITE_URL (what QR codes and e-mailed links hold)."""
    settings.SITE_URL = live_server.url
    return live_server.url


class PageProblems:
    """Console errors the page itself caused: CSP violations and uncaught script errors."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def on_console(self, message) -> None:
        text = message.text
        # A page answered with 400/404 on purpose (a mistyped code) logs "Failed to load resource".
        if message.type == "error" and not text.startswith("Failed to load resource"):
            self.messages.append(text)

    def on_page_error(self, error) -> None:
        self.messages.append(f"uncaught: {error}")


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def new_page(browser, site_url, page_problems) -> Iterator[Callable]:
    """``new_page(viewport=DESKTOP, bypass_csp=False)``: a page in a fresh browser context (no cookies).

    A browser dialog, were one to appear, is accepted (the app asks on confirmation pages). At the end, no
    page may have logged a CSP violation or a script error.
    """
    contexts = []

    def make(viewport: dict | None = None, *, bypass_csp: bool = False):
        context = browser.new_context(
            base_url=site_url,
            viewport=viewport or DESKTOP,
            locale="en-GB",
            timezone_id="Europe/London",
            bypass_csp=bypass_csp,
            accept_downloads=True,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        page.on("console", page_problems.on_console)
        page.on("pageerror", page_problems.on_page_error)
        return page

    yield make
    for context in contexts:
        context.close()
    assert page_problems.messages == [], "the page logged errors (CSP or script)"


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def shot(request) -> Callable:
    """``shot(page, "step")``: a full-page PNG in e2e-artifacts/<module>/<test>/NN-step.png."""
    folder = (
        ARTIFACTS
        / request.node.module.__name__.rsplit(".", 1)[-1]
        / re.sub(r"[^\w.-]+", "_", request.node.name)
    )
    shutil.rmtree(folder, ignore_errors=True)
    counter = iter(range(1, 100))

    def take(page, name: str, *, full_page: bool = True) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{next(counter):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


# How wide the page is, and the outermost elements that stick out past the viewport (not those inside a
# box that scrolls or clips them, such as a wide table in an .app-table-scroll region).
SIDEWAYS_JS = """() => {
    const edge = document.documentElement.clientWidth;
    const clipped = (e) => {
        for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
            if (getComputedStyle(a).overflowX !== "visible") return true;
        }
        return false;
    };
    const out = [...document.body.querySelectorAll("*")].filter(
        (e) => e.getBoundingClientRect().right > edge + 1 && !clipped(e));
    const outermost = out.filter((e) => !out.includes(e.parentElement));
    const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
        + (typeof e.className === "string" && e.className.trim()
            ? "." + e.className.trim().split(/\\s+/).join(".") : "");
    return {width: document.documentElement.scrollWidth, culprits: outermost.slice(0, 4).map(name)};
}"""


@pytest.fixture
def check_page(shot, request) -> Iterator[Callable]:
    """``check_page(page, "step")``: look at the page as it is now at 360 px and at desktop width.

    At each width: a screenshot (``NN-step-phone.png``, ``NN-step-desktop.png``) and axe-core's WCAG 2.2 AA
    check. The viewport is resized, not the page reloaded, so a page reached by a POST (an error summary,
    a confirmation) is checked as the user sees it; the page's own viewport is put back afterwards.
    At the end of the test, no page may have had a serious or critical violation. Everything axe found
    (moderate and minor too) is written to ``e2e-artifacts/axe/<test>.json`` for the notes.
    """
    found: list[dict] = []

    too_wide: list[str] = []

    def check(page, name: str) -> None:
        page.wait_for_load_state()
        original = page.viewport_size
        for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
            page.set_viewport_size(size)
            # Let the page's resize handlers run first (a browser fires resize before the next frame).
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            context = f"{name} at {size['width']}px ({page.url})"
            found.extend(axe_check(page, context=context, every_impact=True))
            if label == "phone":
                wide = page.evaluate(SIDEWAYS_JS)
                if wide["width"] > size["width"]:
                    too_wide.append(f"{context}: {wide['width']}px wide, because of {wide['culprits']}")
            shot(page, f"{name}-{label}")
        page.set_viewport_size(original)

    yield check
    report = ARTIFACTS / "axe" / (re.sub(r"[^\w.-]+", "_", request.node.name) + ".json")
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(found, indent=1))
    assert not too_wide, "at 360 px these pages scroll sideways:\n" + "\n".join(too_wide)
    serious = [v for v in found if v["impact"] in ("serious", "critical")]
    assert not serious, "axe-core found serious or critical WCAG 2.2 AA violations:\n" + describe_violations(
        serious
    )


# --- Data the journeys share (made with the factories and services, not the demo) --------------------


@pytest.fixture
def food(partner_1):
    from vouchers.models import VoucherType

    return VoucherType.objects.create(
        partner=partner_1, service="food_parcel", name="Food parcel", face_value_pence=25_00, validity_days=28
    )


@pytest.fixture
def consented_family(family_a, pastoral_a, school_a, partner_1):
    """Anna Able (RV1 1AA), consent to share recorded; and Arthur Able elsewhere, so searches must pick."""
    from tests.factories import FamilyFactory, PupilFactory, consent_to

    consent_to(family_a, pastoral_a, partner_1)
    other = FamilyFactory(lead_carer_name="Arthur Able", postcode="RV9 9ZZ")
    PupilFactory(family=other, school=school_a, legal_forename="Ada", surname="Able")
    return family_a


@pytest.fixture
def issued_voucher(consented_family, food, pastoral_a, school_a):
    """A food voucher for Anna Able, issued by school A (no e-mail sent)."""
    from vouchers.services import voucher_issue

    return voucher_issue(
        family=consented_family,
        voucher_type=food,
        school=school_a,
        issued_by=pastoral_a,
        referral_reason="income_drop",
        dietary_needs="Vegetarian",
    )


@pytest.fixture
def funded(finance):
    """The standby fund holds £1,000 from a trustee."""
    from funds.services.ledger import fund_donation_record, standby_fund

    fund = standby_fund()
    fund_donation_record(
        fund=fund,
        donor="A trustee",
        amount_pence=1_000_00,
        received_on=datetime.date.today(),
        gift_aid=False,
        actor=finance,
    )
    return fund


@pytest.fixture
def blazer_request(funded, school_a, pastoral_a):
    """A blazer costing £120 (over the £100 threshold) asked for a pupil in need: it waits for finance."""
    from tests.factories import FamilyFactory, PupilFactory
    from tests.uniform.test_gifts_fixtures import make_item
    from uniform.models import ItemKind, SupportRequest
    from uniform.services import requests as request_services

    blazer = make_item(school_a, "Blazer", sizes=("S", "M", "L"), cost=120_00)
    pupil = PupilFactory(
        family=FamilyFactory(lead_carer_name="Dee Dale"), school=school_a, legal_forename="Dan", in_need=True
    )
    request = request_services.request_create(
        pupil=pupil,
        kind=ItemKind.UNIFORM,
        item=blazer,
        size="M",
        reason="Outgrown; family cannot afford one this term.",
        urgency=SupportRequest.Urgency.values[0],
        actor=pastoral_a,
    )
    assert request.status == SupportRequest.Status.AWAITING_FINANCE
    return request


@pytest.fixture
def reception(school_a, lead_a):
    """School A's Reception pack (two jumpers in a size, one book bag), three pupils, and jumpers in stock."""
    from tests.uniform.test_gifts_fixtures import make_intake, make_item, make_pack
    from uniform.services import stock as stock_services

    jumper = make_item(school_a, "Jumper", cost=8_50)
    bag = make_item(school_a, "Book bag", sizes=(), cost=4_00, track=False)
    make_pack(school_a, 0, [(jumper, 2), (bag, 1)])
    pupils = make_intake(school_a, 3, year_group=0, surname="Intake")
    stock_services.stock_receive(item=jumper, size="5-6", quantity=4, actor=lead_a)
    stock_services.stock_receive(item=jumper, size="7-8", quantity=2, actor=lead_a)
    return {"jumper": jumper, "pupils": pupils}
