from funds.web import approvals, dashboard, donations, ledger

urlpatterns = [
    *dashboard.urlpatterns,
    *ledger.urlpatterns,
    *approvals.urlpatterns,
    *donations.urlpatterns,
]
