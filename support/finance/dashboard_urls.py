from django.urls import path

from support.finance import dashboard_views as views

urlpatterns = [
    path("", views.dashboard, name="finance_dashboard"),
    path("summary.csv", views.summary_csv, name="finance_summary_csv"),
    path("summary.xlsx", views.summary_xlsx, name="finance_summary_xlsx"),
    path("year-end.pdf", views.year_end_pdf, name="finance_year_end_pdf"),
]
