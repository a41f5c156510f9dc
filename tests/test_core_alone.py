"""The core's pages work with every feature app taken out (issue 17: the core learns of features only
through ``support.registry``).

``funds``, ``vouchers``, ``uniform``, ``signposting``, ``asks``, ``deliveries`` and ``impact`` leave
``INSTALLED_APPS`` and the URL conf (this module's ``urlpatterns``: config/urls.py without them); the
database stays as it is. Every core page renders for every role that may open it, names no feature, and a
feature's registrations (navigation, panels, timeline kinds) fall away with it.
"""

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.test import override_settings
from django.urls import clear_url_caches, include, path, reverse

from support import health, registry, services
from support.timeline import family_timeline

pytestmark = pytest.mark.django_db

FEATURES = ("funds", "vouchers", "uniform", "signposting", "asks", "deliveries", "impact")
CORE_APPS = [app for app in settings.INSTALLED_APPS if app not in FEATURES]

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("api/v1/", include("support.api_urls")),
    path("api/v1/docs/", health.healthz, name="api_docs"),  # the nav's API link needs a name only
    path("", include("support.urls")),
]

# Words only a feature puts on a core page (its navigation, its panels, its timeline kinds).
FEATURE_WORDS = (
    "Finance</a>",
    ">Vouchers</a>",
    ">Uniform</a>",
    "Check a voucher",
    ">Requests</a>",
    "Issue a voucher",
    "The standby fund",
    "Welcome packs",
    "Request a coat",
    "Signpost or refer",
    "Signposting and referrals",
)


@pytest.fixture
def core_only():
    # A process without the features would never have imported their admin modules (the admin's
    # autodiscovery reads INSTALLED_APPS): leave their ModelAdmins out of the site while the test runs.
    every = admin.site._registry
    admin.site._registry = {
        model: kept for model, kept in every.items() if model._meta.app_label not in FEATURES
    }
    try:
        with override_settings(INSTALLED_APPS=CORE_APPS, ROOT_URLCONF=__name__):
            clear_url_caches()
            yield
    finally:
        admin.site._registry = every
        clear_url_caches()


@pytest.fixture
def world(school_a, lead_a, pastoral_a, family_a):
    pupil = family_a.pupils.get()
    services.pupil_set_in_need(pupil=pupil, actor=pastoral_a, in_need=True, reason="Parent lost their job")
    return family_a


def _pages(family) -> list[str]:
    return [
        reverse("family_list"),
        reverse("family_detail", args=[family.pk]),
        reverse("import_list"),
        reverse("duplicate_list"),
    ]


def test_the_features_registrations_fall_away_with_them(core_only):
    assert {entry.app for entry in registry.nav_entries()} == {"support"}
    assert {source.kind for source in registry.timeline_sources()} == {"in_need", "consent", "merges"}
    assert registry.section_navs() == []


@pytest.mark.parametrize("persona", ["pastoral_a", "lead_a", "finance", "charity_staff", "admin", "no_role"])
def test_home_renders_for_every_role_without_the_features(core_only, client_for, request, persona):
    user = request.getfixturevalue(persona)
    response = client_for(user).get(reverse("home"))
    assert response.status_code == 200
    page = response.content.decode()
    assert not [word for word in FEATURE_WORDS if word in page]


@pytest.mark.parametrize("persona", ["pastoral_a", "lead_a", "admin"])
def test_the_core_pages_render_without_the_features(core_only, client_for, request, world, persona):
    user = request.getfixturevalue(persona)
    client = client_for(user)
    for url in _pages(world):
        response = client.get(url)
        expected = 403 if persona == "pastoral_a" and url in ("/imports/", "/duplicates/") else 200
        assert response.status_code == expected, url
        page = response.content.decode()
        assert not [word for word in FEATURE_WORDS if word in page], url


def test_the_family_page_keeps_the_cores_timeline_without_the_features(core_only, client_for, lead_a, world):
    page = client_for(lead_a).get(reverse("family_detail", args=[world.pk])).content.decode()
    assert "Alfie Able marked in need" in page
    assert "Parent lost their job" in page
    timeline = family_timeline(user=lead_a, family=world)
    assert [label for _, label in timeline.kinds] == ["In-need notes", "Consent to share", "Merges"]


def test_the_admin_index_renders_without_the_features(core_only, client_for, admin):
    response = client_for(admin).get(reverse("admin:index"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Voucher types" not in page
    assert "Families" in page
