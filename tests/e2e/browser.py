"""Helpers for the browser tests: signing in, following a link or a form, files the pages send, and the
axe-core check."""

import functools
import io
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS") or ROOT / "e2e-artifacts")
AXE_JS = Path(__file__).parent / "vendor" / "axe.min.js"
PASSWORD = "correct-horse-battery"  # what tests.factories.make_user gives everyone
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def sign_in(page, user, *, next_path: str = "/") -> None:
    """Sign in through the sign-in form, as a person does."""
    page.goto(f"/accounts/login/?next={next_path}")
    fill_sign_in(page, user)


def fill_sign_in(page, user) -> None:
    """On the sign-in page (however the user got there): fill it in and send it."""
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(PASSWORD)
    follow(page.get_by_role("button", name="Sign in"))
    assert "/accounts/login/" not in page.url, f"sign-in failed for {user}"


def follow(target) -> None:
    """Click a link, or a button that sends a form, and return once the page it loads has loaded.

    Playwright's click returns, at best, once the navigation it starts has committed: the new page may be
    half built (only its first bytes have arrived), and ``wait_for_load_state()`` before the commit answers
    for the page being left. Until the new page has loaded, a read that does not retry (``count()``,
    ``is_visible()``, ``is_checked()``, ``all_inner_texts()``) sees too little, and one the old page can
    answer (``page.url``, a heading both pages have) may see the old page. Not for a click that stays on the
    page (a script's, an error summary's link, a download): it would wait in vain.
    """
    with target.page.expect_navigation():
        target.click()


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    assert data.startswith(b"%PDF"), f"not a PDF: {data[:60]!r}"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def download_from(page, link) -> tuple[bytes, str]:
    """Follow a link that answers with a file: the bytes and the file name.

    Chromium may show a PDF inline or save it; either way the response is read through the page's own
    session (Playwright's request context shares the browser context's cookies).
    """
    href = link.get_attribute("href")
    assert href, "the link has no href"
    response = page.request.get(href)
    assert response.ok, f"{href} answered {response.status}"
    disposition = response.headers.get("content-disposition", "")
    match = re.search(r'filename="?([^";]+)"?', disposition)
    return response.body(), match.group(1) if match else ""


@functools.cache
def _axe_source() -> str:
    # axe's UMD wrapper assigns window.axe when there is no module system.
    return AXE_JS.read_text(encoding="utf-8")


def axe_check(page, *, context: str = "", every_impact: bool = False) -> list[dict]:
    """Run axe-core (vendored, see vendor/) on the page: its serious and critical WCAG 2.2 AA violations
    (with ``every_impact``, the moderate and minor ones too)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, not as a <script> tag: the site's Content Security
        # Policy (no inline scripts) stays on, so the test still sees any CSP violation of the app's own.
        page.evaluate(f"() => {{ {_axe_source()}\n }}")
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {
                runOnly: {type: "tag", values: tags},
                resultTypes: ["violations"],
                elementRef: true,
            });
            // govuk-frontend's conditional reveal puts aria-expanded on a radio or checkbox on purpose
            // (alphagov/govuk-frontend#979: screen readers announce it, user research found it helps);
            // ARIA does not list it for those roles, so axe flags it. Only that exact case is let through.
            const reveal = ":is(.govuk-radios__input, .govuk-checkboxes__input)[aria-controls]";
            const onlyExpanded = (summary) => summary.trim().split("\\n").length === 2
                && /ARIA attribute is not allowed: aria-expanded="\\w+"$/.test(summary.trim());
            const knownReveal = (v, n) => v.id === "aria-allowed-attr" && n.element
                && n.element.matches(reveal) && onlyExpanded(n.failureSummary);
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.filter(n => !knownReveal(v, n))
                    .map(n => ({target: n.target.join(" "), summary: n.failureSummary})),
            })).filter(v => v.nodes.length > 0);
        }""",
        WCAG_TAGS,
    )
    for violation in result:
        violation["page"] = context or page.url
    if every_impact:
        return result
    return [v for v in result if v["impact"] in ("serious", "critical")]


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['page']}: {v['id']} ({v['impact']}) {v['help']}")
        for node in v["nodes"][:5]:
            lines.append(f"    {node['target']}: {node['summary']}".replace("\n", " "))
    return "\n".join(lines)
