from django.urls import path

from support import guides, views

urlpatterns = [
    path("", views.home, name="home"),
    path("families/", views.family_list, name="family_list"),
    path("families/export.csv", views.family_export, name="family_export"),
    path("families/<int:pk>/", views.family_detail, name="family_detail"),
    path("families/<int:pk>/edit/", views.family_edit, name="family_edit"),
    path("families/<int:pk>/subject-access/", views.family_subject_access, name="family_subject_access"),
    path("families/<int:pk>/consent/", views.family_consent, name="family_consent"),
    path(
        "families/<int:pk>/consents/<int:consent_pk>/confirm/",
        views.family_consent_confirm,
        name="family_consent_confirm",
    ),
    path("families/<int:pk>/contacts/add/", views.contact_add, name="contact_add"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("pupils/<int:pk>/need/", views.pupil_need, name="pupil_need"),
    path("pupils/<int:pk>/safeguarding/", views.pupil_safeguarding, name="pupil_safeguarding"),
    path(
        "schools/<int:pk>/safeguarding-leads/",
        views.school_safeguarding_leads,
        name="school_safeguarding_leads",
    ),
    path("pupils/<int:pk>/leave/", views.pupil_leave, name="pupil_leave"),
    path("free-school-meals/", views.fsm_check, name="fsm_check"),
    path("families/<int:pk>/free-school-meals-letter.pdf", views.fsm_letter, name="fsm_letter"),
    path("duplicates/", views.duplicate_list, name="duplicate_list"),
    path("duplicates/<int:pk>/decide/", views.duplicate_decide, name="duplicate_decide"),
    path("imports/", views.import_list, name="import_list"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/apply/", views.import_confirm, name="import_confirm"),
    path("help/<slug:slug>/", guides.guide_view, name="guide"),
]
