"""One way per job (issue 17): each of these helpers is defined in exactly one module of the apps. A
second definition anywhere else (tests, migrations and bench aside) is a copy waiting for the day the
two disagree, so this scan fails on it."""

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("config", "support", "funds", "vouchers", "uniform")

# name → the one module allowed to define it (a class, function or module-level assignment)
HOMES = {
    "_Echo": "support/csv_safe.py",
    "stream_csv": "support/csv_safe.py",
    "csv_text": "support/csv_safe.py",
    "_form_error": None,  # no home: support.forms.form_error_from replaced every copy
    "form_error_from": "support/forms.py",
    "month_bounds": "support/dates.py",
    "_month_bounds": None,
    "month_instants": "support/dates.py",
    "next_month": "support/dates.py",
    "academic_year_start_for": "support/dates.py",
    "parse_pounds": "support/money.py",
    "parse_pence": "support/money.py",
    "to_pence": None,
    "PoundsField": "support/forms.py",
    "PenceField": "support/api/fields.py",
    "FundPosition": "funds/selectors/positions.py",
    "fund_position": "funds/selectors/positions.py",
    "fund_positions": "funds/selectors/positions.py",
    "balance_effect": "funds/selectors/positions.py",
    "committed_effect": "funds/selectors/positions.py",
}


def _app_sources() -> list[Path]:
    return sorted(
        path for app in APPS for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts
    )


def _defined_names(tree: ast.Module) -> set[str]:
    """Classes and functions defined anywhere in the module, and names assigned at its top level."""
    names = {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
    }
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        names |= {target.id for target in targets if isinstance(target, ast.Name)}
    return names


@functools.cache
def _definitions() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {name: [] for name in HOMES}
    for path in _app_sources():
        defined = _defined_names(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        for name in defined & HOMES.keys():
            found[name].append(path.relative_to(ROOT).as_posix())
    return found


@pytest.mark.parametrize("name", sorted(HOMES))
def test_each_job_is_defined_in_its_one_home(name):
    home = HOMES[name]
    assert _definitions()[name] == ([home] if home else [])


def test_the_scan_sees_a_second_definition():
    """The scan itself: a copy of ``_Echo`` or ``month_bounds`` in a module is found."""
    copy = ast.parse(
        "class _Echo:\n    pass\n\n\ndef month_bounds(month):\n    return month\n\nto_pence = int\n"
    )
    assert {"_Echo", "month_bounds", "to_pence"} <= _defined_names(copy)
    assert len(_app_sources()) > 50
