"""What cannot be undone is asked on a confirmation page (support.confirm), never in a browser pop-up:
no template or script of the app's own asks with ``data-confirm``, ``confirm(`` or an ``onclick``."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POPUP = re.compile(r"data-confirm|\bconfirm\(|\bonclick\s*=", re.IGNORECASE)


def _own_files():
    yield from (ROOT / "templates").rglob("*.html")
    yield from (path for path in (ROOT / "static").rglob("*.js") if not path.name.endswith(".min.js"))


def test_no_page_asks_in_a_browser_pop_up():
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _own_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if POPUP.search(line)
    ]
    assert found == [], "ask on a confirmation page (support.confirm.confirm_page) instead: " + ", ".join(
        found
    )
