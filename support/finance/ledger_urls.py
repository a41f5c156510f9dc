from django.urls import path

from support.finance import ledger_views

urlpatterns = [
    path("ledger/", ledger_views.ledger, name="finance_ledger"),
    path("ledger.csv", ledger_views.ledger_csv, name="finance_ledger_csv"),
    path("ledger.xlsx", ledger_views.ledger_xlsx, name="finance_ledger_xlsx"),
    path("ledger/<int:pk>/", ledger_views.entry_detail, name="finance_entry"),
    path("ledger/<int:pk>/reverse/", ledger_views.entry_reverse, name="finance_entry_reverse"),
]
