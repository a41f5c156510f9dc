from django.urls import include, path

urlpatterns = [
    path("", include("support.finance.dashboard_urls")),
    path("", include("support.finance.ledger_urls")),
    path("", include("support.finance.approval_urls")),
    path("", include("support.finance.donation_urls")),
]
