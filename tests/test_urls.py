"""config/urls.py puts the counter's API first (Django tries the patterns in order on every request): safe
only while no two apps' API paths can match the same address."""

import re
from importlib import import_module

from django.urls import URLPattern, URLResolver, resolve

from config.urls import API_APPS, APPS
from vouchers import api


def _first_segments(patterns) -> set[str]:
    """Each pattern's leading literal (``schools`` of ``^schools\\.(?P<format>…)$`` too)."""
    found = set()
    for pattern in patterns:
        assert isinstance(pattern, URLPattern | URLResolver)
        if str(pattern.pattern) in ("", "^$", "<drf_format_suffix:format>"):  # /api/v1/ itself
            continue
        literal = re.match(r"[A-Za-z0-9_-]*", str(pattern.pattern).lstrip("^")).group()
        assert literal, f"{pattern.pattern} starts with a parameter: it could match any app's path"
        found.add(literal)
    return found


def test_no_two_apps_api_paths_start_alike():
    seen: dict[str, str] = {}
    for app in APPS:
        for segment in _first_segments(import_module(f"{app}.api_urls").urlpatterns):
            assert seen.setdefault(segment, app) == app, f"{app} and {seen[segment]} both route {segment}/"
    assert sorted(API_APPS) == sorted(APPS)


def test_the_counter_paths_resolve_to_the_counter_views():
    assert resolve("/api/v1/redeem/ABCD-EFGH-JKMN/").func.view_class is api.VoucherCheckView
    assert resolve("/api/v1/redeem/ABCD-EFGH-JKMN/redeem/").func.view_class is api.VoucherRedeemView
