from django.urls import path

from support.finance import approval_views as views

urlpatterns = [
    path("approvals/", views.approval_queue, name="finance_approvals"),
    path("approvals/<int:pk>/", views.approval_detail, name="finance_approval"),
    path("approvals/<int:pk>/<slug:decision>/", views.approval_decide, name="finance_approval_decide"),
]
