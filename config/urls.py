from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from support import health
from support.api.schema import UsesTheApi

# The core last: a feature's more specific paths come first.
APPS = ["impact", "funds", "vouchers", "uniform", "signposting", "asks", "deliveries", "support"]
API_APPS = ["vouchers", *(app for app in APPS if app != "vouchers")]

schema_view = SpectacularAPIView.as_view(permission_classes=[UsesTheApi])

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            redirect_authenticated_user=True,
            extra_context={"session_minutes": settings.SESSION_COOKIE_AGE // 60},
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/schema/", schema_view, name="api_schema"),
    path(
        "api/v1/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api_schema", permission_classes=[UsesTheApi]),
        name="api_docs",
    ),
    path(
        "api/v1/redoc/",
        SpectacularRedocView.as_view(url_name="api_schema", permission_classes=[UsesTheApi]),
        name="api_redoc",
    ),
    path("healthz", health.healthz, name="healthz"),
    *([path("api/v1/_bare/", health.BareView.as_view())] if settings.LOAD_TEST_BARE_ENDPOINT else []),
    # Every app the same way: its pages at the root (paths inside say where), its API under /api/v1/.
    # The counter's API first: Django tries every pattern before it in turn, on each request. No two
    # apps' API paths overlap (tests/test_urls.py), so the order changes nothing else.
    *[path("api/v1/", include(f"{app}.api_urls")) for app in API_APPS],
    *[path("", include(f"{app}.urls")) for app in APPS],
]

# Under /api/ an error answers JSON in the API's error shape; elsewhere the site's pages (500 with
# the request id to quote).
handler400 = "support.http.bad_request"
handler403 = "support.http.permission_denied"
handler404 = "support.http.page_not_found"
handler500 = "support.http.server_error"
