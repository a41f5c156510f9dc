"""The core's registries (support.registry): what the feature apps register, and how the core reads it."""

import dataclasses

import pytest
from django.test import RequestFactory
from django.urls import reverse

from support import registry
from support.context_processors import shell
from support.permissions import has_perm
from tests.factories import PupilFactory

pytestmark = pytest.mark.django_db


def _header(user, path="/"):
    request = RequestFactory().get(path)
    request.user = user
    return shell(request)["nav_items"]


def test_the_header_keeps_one_order_across_the_apps_and_folds_an_admins_into_menus(admin):
    items = _header(admin, "/requests/")
    assert [item.label for item in items] == [
        "Home", "Finance", "Families", "Vouchers", "Uniform", "Impact", "Admin",
    ]  # fmt: skip
    menus = {item.label: [link.label for link in item.items] for item in items if item.items}
    assert menus == {
        "Families": ["Families", "Pupil import", "Possible duplicates"],
        "Vouchers": ["Vouchers", "Check a voucher", "Deliveries", "Redeemed", "Statements"],
        "Uniform": ["Uniform", "Requests", "Asks for help"],
        "Admin": ["Admin", "API"],
    }
    uniform = next(item for item in items if item.label == "Uniform")
    assert uniform.current
    assert [link.current for link in uniform.items] == [False, True, False]


def test_a_header_that_fits_one_line_stays_flat(charity_staff, pastoral_a):
    assert [(item.label, item.items) for item in _header(charity_staff)] == [
        ("Home", ()),
        ("Check a voucher", ()),
        ("Deliveries", ()),
        ("Redeemed", ()),
        ("Statements", ()),
    ]
    pastoral = [item.label for item in _header(pastoral_a)]
    assert pastoral == ["Home", "Families", "Vouchers", "Uniform", "Requests"]


def test_a_lead_gets_menus_and_a_group_of_one_stays_a_link(lead_a):
    items = _header(lead_a)
    assert [(item.label, [link.label for link in item.items]) for item in items] == [
        ("Home", []),
        ("Families", ["Families", "Pupil import", "Possible duplicates"]),
        ("Vouchers", ["Vouchers", "Deliveries"]),
        ("Uniform", ["Uniform", "Requests", "Asks for help"]),
    ]


def test_only_admins_get_the_api_link(pastoral_a, lead_a, finance, charity_staff, admin):
    def labels(user):
        return {link.label for item in _header(user) for link in (item.items or (item,))}

    for user in (pastoral_a, lead_a, finance, charity_staff):
        assert "API" not in labels(user)
    assert "API" in labels(admin)


def test_feature_permissions_are_registered_by_their_apps(pastoral_a, lead_a, charity_staff, finance):
    assert has_perm(pastoral_a, "vouchers.issue")
    assert not has_perm(pastoral_a, "requests.decide")
    assert has_perm(lead_a, "requests.decide")
    assert has_perm(charity_staff, "vouchers.redeem")
    assert has_perm(finance, "fund.approve")
    with pytest.raises(KeyError, match="register_permissions"):
        has_perm(finance, "fund.spend_it_all")


def test_a_family_panel_needs_a_known_slot():
    with pytest.raises(ValueError, match="Unknown family-page slot"):
        registry.register_family_panel("nowhere", template="x.html", context=lambda r, f: {}, slot="footer")


def test_a_pupil_panel_is_asked_once_for_all_the_pupils(monkeypatch, pastoral_a, family_a, school_a):
    PupilFactory(family=family_a, school=school_a, legal_forename="Bea", in_need=True)
    calls = []

    def context(request, family, pupils):
        calls.append(len(pupils))
        return {pupil.pk: {"url": "/x/", "pupil": pupil} for pupil in pupils}

    monkeypatch.setattr(registry, "_FAMILY", dict(registry._FAMILY))
    registry.register_family_panel(
        "probe", template="uniform/panels/pupil_request.html", context=context, slot="pupil"
    )
    # Registered from a test module, it would count only while an app called "tests" is installed.
    registry._FAMILY["probe"] = dataclasses.replace(registry._FAMILY["probe"], app="uniform")
    request = RequestFactory().get(reverse("family_detail", args=[family_a.pk]))
    request.user = pastoral_a
    pupils = list(family_a.pupils.all())
    shown = registry.family_panels(request, family_a, pupils)
    assert calls == [2]
    assert all("probe" in [panel.name for panel in pupil.panels] for pupil in pupils)
    assert [panel.name for panel in shown["actions"]] == ["voucher_issue", "signpost_action"]
    assert [panel.name for panel in shown["main"]] == ["vouchers", "signposts"]


def test_the_finance_home_panel_shows_only_to_finance(client_for, finance, pastoral_a):
    assert "The standby fund" in client_for(finance).get(reverse("home")).content.decode()
    assert "The standby fund" not in client_for(pastoral_a).get(reverse("home")).content.decode()
