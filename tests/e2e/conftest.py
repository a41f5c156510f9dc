"""End-to-end tests: each user's journey in headless Chromium (Debian's, driven by Playwright) against a
real server thread (pytest-django's ``live_server``), and an axe-core accessibility check of every page.

Every test here is marked ``e2e`` and uses a transactional database, so data made in the test is what the
server thread sees. Screenshots go to ``e2e-artifacts/`` (or ``$E2E_ARTIFACTS``), which git ignores.

The browser is Debian's ``chromium`` (``bin/system-deps`` installs it; ``$CHROMIUM_PATH`` overrides).
Playwright never downloads a browser of its own here.
"""

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from tests.e2e.browser import ARTIFACTS, DESKTOP

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

    Confirmation dialogs (``data-confirm``) are accepted, as a user who meant it would. At the end, no
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
