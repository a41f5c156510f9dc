from django.urls import path

from support.finance import donation_views as views

urlpatterns = [
    path("donations/", views.donation_list_page, name="finance_donations"),
    path("donations/new/", views.donation_new, name="finance_donation_new"),
    path("pledges/", views.pledge_list_page, name="finance_pledges"),
    path("pledges/new/", views.pledge_new, name="finance_pledge_new"),
    path("pledges/<int:pk>/stop/", views.pledge_stop_page, name="finance_pledge_stop"),
]
