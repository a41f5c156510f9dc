"""The apps' directions (docs/architecture.md): read from every module's imports, not trusted.

``support`` (the core) imports no feature app; ``funds`` imports only the core; ``vouchers`` and
``uniform`` may import ``funds`` and the core but never each other; no app imports ``config``. Imports
inside functions count too; migrations and tests are left out. The core's templates neither load a
feature app's tag library nor name a feature app's URL: the core learns about features only through
``support.registry``.
"""

import ast
import re
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

ROOT = Path(__file__).resolve().parent.parent
APPS = ("support", "funds", "vouchers", "uniform", "signposting", "asks", "deliveries", "impact")
FEATURES = ("funds", "vouchers", "uniform", "signposting", "asks", "deliveries", "impact")

# app -> the project packages it must never import. Nothing imports ``impact`` (the report reads the
# others; another app adds a kind of support through its AppConfig, see impact/registry.py).
FORBIDDEN = {
    "support": {"funds", "vouchers", "uniform", "signposting", "asks", "deliveries", "impact", "config"},
    "funds": {"vouchers", "uniform", "signposting", "asks", "deliveries", "impact", "config"},
    "vouchers": {"uniform", "signposting", "asks", "deliveries", "impact", "config"},
    "uniform": {"vouchers", "signposting", "asks", "deliveries", "impact", "config"},
    # Signposting uses only the core.
    "signposting": {"funds", "vouchers", "uniform", "asks", "deliveries", "impact", "config"},
    # asks may use the core, uniform's, vouchers' and signposting's services; nothing imports asks.
    "asks": {"funds", "deliveries", "impact", "config"},
    # Delivered services build on vouchers, funds and the core; nothing imports them.
    "deliveries": {"uniform", "signposting", "asks", "impact", "config"},
    # The impact report reads every app's aggregates; nothing imports it.
    "impact": {"asks", "config"},
}

# What ``impact`` may import of each feature app: its reads (selectors), its models (for their
# choices) and the finance dashboard's chart palette. Never a service, a door or a task.
IMPACT_MAY_IMPORT = ("selectors", "models", "charts")

CORE_TEMPLATES = ["base.html", "403.html", "404.html", "500.html", "support", "includes", "registration"]


def _modules(app: str) -> list[Path]:
    return sorted(
        path
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts and "tests" not in path.relative_to(ROOT).parts
    )


def _package_of(path: Path) -> list[str]:
    return list(path.relative_to(ROOT).with_suffix("").parts[:-1])


def imported_packages(path: Path) -> set[str]:
    """The top-level packages a module imports, anywhere in it (``import x``, ``from x import y``,
    relative imports resolved, and ``import_module("x...")`` / ``import_string("x...")`` with a literal)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = _package_of(path)
                base = package[: len(package) - node.level + 1]
                found.add(base[0] if base else "")
            elif node.module:
                found.add(node.module.partition(".")[0])
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "import_string")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value.partition(".")[0])
    return found


def test_the_parser_sees_every_kind_of_import(monkeypatch):
    module = ROOT / "support" / "_architecture_probe.py"
    source = (
        "import vouchers.models\n"
        "def later():\n"
        "    from uniform import services\n"
        "    from . import selectors\n"
        "    import_module('funds.tasks')\n"
    )
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: source)
    assert imported_packages(module) == {"vouchers", "uniform", "support", "funds"}


@pytest.mark.parametrize("app", APPS)
def test_an_app_imports_only_in_the_allowed_directions(app):
    wrong = []
    for path in _modules(app):
        for package in sorted(imported_packages(path) & FORBIDDEN[app]):
            wrong.append(f"{path.relative_to(ROOT)} imports {package}")
    assert not wrong, "Imports against the apps' directions (docs/architecture.md):\n" + "\n".join(wrong)


def _feature_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(pattern.name)

    for app in FEATURES:
        for module in (f"{app}.urls", f"{app}.api_urls"):
            walk(get_resolver(module).url_patterns)
    return names


def _core_templates() -> list[Path]:
    found = []
    for name in CORE_TEMPLATES:
        path = ROOT / "templates" / name
        found.extend(sorted(path.rglob("*.html")) if path.is_dir() else [path])
    return found


def _feature_tag_libraries() -> set[str]:
    return {path.stem for app in FEATURES for path in (ROOT / app).glob("templatetags/*.py")} - {"__init__"}


def test_the_core_templates_name_no_feature_url_or_tag_library():
    feature_urls = _feature_url_names()
    libraries = _feature_tag_libraries()
    assert "voucher_detail" in feature_urls  # the walk found the features' names
    wrong = []
    for path in _core_templates():
        text = path.read_text()
        for name in re.findall(r"{%\s*url\s+['\"]([\w:]+)['\"]", text):
            if name in feature_urls:
                wrong.append(f"{path.relative_to(ROOT)} names the feature URL {name!r}")
        for loaded in re.findall(r"{%\s*load\s+([^%]+)%}", text):
            for library in loaded.split():
                if library in libraries:
                    wrong.append(f"{path.relative_to(ROOT)} loads the feature tag library {library!r}")
    assert not wrong, "\n".join(wrong)


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_impact_reads_the_feature_apps_through_their_selectors_only():
    wrong = []
    for path in _modules("impact"):
        for module in sorted(_imported_modules(path)):
            app, _, rest = module.partition(".")
            if app in ("funds", "vouchers", "uniform") and rest.partition(".")[0] not in IMPACT_MAY_IMPORT:
                wrong.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not wrong, "\n".join(wrong)
