"""Helpers for the browser tests: signing in, files the pages send, and the axe-core check."""

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
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url, f"sign-in failed for {user}"


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


def axe_check(page, *, context: str = "") -> list[dict]:
    """Run axe-core (vendored, see vendor/) on the page; the serious and critical WCAG 2.2 AA violations."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {
                runOnly: {type: "tag", values: tags},
                resultTypes: ["violations"],
            });
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary})),
            }));
        }""",
        WCAG_TAGS,
    )
    found = [v for v in result if v["impact"] in ("serious", "critical")]
    for violation in found:
        violation["page"] = context or page.url
    return found


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['page']}: {v['id']} ({v['impact']}) {v['help']}")
        for node in v["nodes"][:5]:
            lines.append(f"    {node['target']}: {node['summary']}".replace("\n", " "))
    return "\n".join(lines)
