"""The documentation stays true to the code it describes.

- Every environment variable that config/settings.py, config/gunicorn.conf.py or a script in bin/
  reads is named in docs/configuration.md, so a new setting without documentation fails here. The names are
  found in the code (the ``env_*`` helpers, ``os.environ``, ``${NAME:-default}``), not listed by hand.
- Every relative link in README.md and docs/*.md points at a file that exists, and a link to a
  heading of a Markdown file points at a heading that exists.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIGURATION = ROOT / "docs" / "configuration.md"
ENV_HELPERS = {"env_str", "env_int", "env_bool", "env_list"}

# Files another branch adds (linked from here ahead of the merge). A link to one passes only while
# the file is missing; once it exists, test_it_lists_only_pages_still_missing asks for its removal.
PENDING_PAGES: set[str] = set()


def _first_string(call: ast.Call) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return None


def _is_os_environ(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _reads_environment(func: ast.expr) -> bool:
    """``env_str(...)`` and its siblings, ``os.environ.get(...)`` or ``os.getenv(...)``."""
    if isinstance(func, ast.Name):
        return func.id in ENV_HELPERS
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr == "get":
        return _is_os_environ(func.value)
    return func.attr == "getenv" and isinstance(func.value, ast.Name) and func.value.id == "os"


def variables_read_by_python(path: Path) -> set[str]:
    """Names read with env_str/env_int/env_bool/env_list, os.environ.get, os.environ[...] or os.getenv."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Call) and _reads_environment(node.func):
            name = _first_string(node)
        elif isinstance(node, ast.Subscript) and _is_os_environ(node.value):
            name = node.slice.value if isinstance(node.slice, ast.Constant) else None
        else:
            continue
        if name:
            names.add(name)
    return names


def variables_read_by_shell(path: Path) -> set[str]:
    """Names a shell script takes from the environment with a default: ``${NAME:-...}``."""
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):-", path.read_text()))


def documented_variables() -> set[str]:
    return set(re.findall(r"`([A-Z][A-Z0-9_]*)`", CONFIGURATION.read_text()))


@pytest.mark.parametrize(
    ("source", "read", "must_include"),
    [
        ("config/settings.py", variables_read_by_python, {"DEBUG", "SECRET_KEY", "DATABASE_URL"}),
        ("config/gunicorn.conf.py", variables_read_by_python, {"WEB_CONCURRENCY", "GUNICORN_BIND"}),
        ("bin/prod", variables_read_by_shell, {"PROD_NAME", "CELERY_CONCURRENCY", "SEED_DEMO"}),
        ("bin/system-deps", variables_read_by_shell, {"CHROMIUM_PATH"}),
    ],
)
def test_it_documents_every_environment_variable(source, read, must_include):
    found = read(ROOT / source)
    # The reader itself must work: a parser that finds nothing would pass vacuously.
    assert must_include <= found, f"the reader missed {sorted(must_include - found)} in {source}"
    missing = sorted(found - documented_variables())
    assert not missing, f"{source} reads {missing}: name each in docs/configuration.md, in `backticks`"


def test_it_finds_settings_read_each_way(tmp_path):
    sample = tmp_path / "settings.py"
    sample.write_text(
        "import os\n"
        "from config.env import env_bool, env_int, env_list, env_str\n"
        'A = env_str("ALPHA")\nB = env_int("BRAVO", 1)\nC = env_bool("CHARLIE")\nD = env_list("DELTA", [])\n'
        'E = os.environ.get("ECHO")\nF = os.environ["FOXTROT"]\nG = os.getenv("GOLF")\n'
        'H = os.environ.setdefault("DJANGO_SETTINGS_MODULE", "x")\n'
    )
    assert variables_read_by_python(sample) == set("ALPHA BRAVO CHARLIE DELTA ECHO FOXTROT GOLF".split())


# --- Links ----------------------------------------------------------------------------------------

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)


def markdown_pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def relative_links(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text())  # a link-like string in a code block is not a link
    return [
        target
        for target in LINK.findall(text)
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target)  # https:, mailto: ...
    ]


def heading_anchors(page: Path) -> set[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    anchors = set()
    for line in FENCE.sub("", page.read_text()).splitlines():
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            title = match.group(1).lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


def test_it_finds_pages_and_links():
    pages = markdown_pages()
    assert ROOT / "docs" / "configuration.md" in pages
    assert "docs/configuration.md" in relative_links(ROOT / "README.md")


@pytest.mark.parametrize("page", markdown_pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_it_links_only_to_files_that_exist(page):
    broken = []
    for target in relative_links(page):
        path_part, _, anchor = target.partition("#")
        path_part = path_part.split("?")[0]
        file = (page.parent / path_part).resolve() if path_part else page
        relative = file.relative_to(ROOT).as_posix() if file.is_relative_to(ROOT) else str(file)
        if not file.exists():
            if relative not in PENDING_PAGES:
                broken.append(f"{target}: no such file")
            continue
        if anchor and file.suffix == ".md" and anchor not in heading_anchors(file):
            broken.append(f"{target}: no heading #{anchor} in {relative}")
    assert not broken, f"{page.relative_to(ROOT)} has broken links: {broken}"


def test_it_lists_only_pages_still_missing():
    arrived = sorted(page for page in PENDING_PAGES if (ROOT / page).exists())
    assert not arrived, f"{arrived} exist now: remove them from PENDING_PAGES so their links are checked"


def test_the_import_column_table_is_the_one_the_importer_reads():
    from support.management.commands.import_columns import columns_markdown

    text = (Path(__file__).resolve().parent.parent / "docs" / "import.md").read_text()
    documented = text.split("<!-- columns:start -->\n", 1)[1].split("<!-- columns:end -->", 1)[0]
    assert documented == columns_markdown(), "docs/import.md is stale: paste `manage.py import_columns` in"


# --- Task guides (docs/guides/, served by support.guides) ------------------------------------------

GUIDE_LINK = re.compile(r'\{% guide_link "([a-z0-9-]+)" %\}')


def _linked_guides() -> dict[str, list[str]]:
    linked: dict[str, list[str]] = {}
    for template in sorted((ROOT / "templates").rglob("*.html")):
        for slug in GUIDE_LINK.findall(template.read_text()):
            linked.setdefault(slug, []).append(str(template.relative_to(ROOT)))
    return linked


def test_every_guide_a_page_links_is_registered_and_written():
    from support import registry

    linked = _linked_guides()
    assert len(linked) >= 8
    registered = {guide.slug for guide in registry.guides()}
    for slug, templates in linked.items():
        assert slug in registered, f"{templates} link an unregistered guide {slug!r}"
        assert (ROOT / "docs" / "guides" / f"{slug}.md").is_file(), f"{templates} link a missing guide"


def test_every_guide_written_is_registered_and_linked_from_a_page():
    from support import registry

    written = {path.stem for path in (ROOT / "docs" / "guides").glob("*.md")}
    assert written == {guide.slug for guide in registry.guides()}
    assert written == set(_linked_guides())


@pytest.mark.django_db
def test_a_page_links_its_guide_and_the_guide_is_served_to_who_does_the_task(
    client_for, lead_a, pastoral_a, finance
):
    lead = client_for(lead_a)
    page = lead.get("/imports/").content.decode()
    assert 'href="/help/imports/">Help with this page' in page
    guide = lead.get("/help/imports/")
    assert guide.status_code == 200
    html = guide.content.decode()
    assert '<h1 class="govuk-heading-l">Importing pupils</h1>' in html
    assert '<p class="govuk-body">' in html
    assert client_for(pastoral_a).get("/help/imports/").status_code == 404
    assert lead.get("/help/no-such-task/").status_code == 404
    # A page shows the link only to a user who may read the guide: finance reads the statements, but the
    # counter's guide is the charity's.
    statements = client_for(finance).get("/statements/")
    assert statements.status_code == 200
    assert "Help with this page" not in statements.content.decode()
