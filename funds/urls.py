"""The fund's pages, all under /finance/. Every app's web pages are mounted the same way: each module of
``<app>/web/`` holds its own ``urlpatterns``, the app's ``urls.py`` gathers them, and ``config/urls.py``
includes each app's ``urls`` at the site root and its ``api_urls`` under ``/api/v1/``."""

from django.urls import include, path

from funds.web import approvals, dashboard, donations, gift_aid, ledger

urlpatterns = [
    path(
        "finance/",
        include(
            [
                *dashboard.urlpatterns,
                *ledger.urlpatterns,
                *approvals.urlpatterns,
                *donations.urlpatterns,
                *gift_aid.urlpatterns,
            ]
        ),
    ),
]
