from rest_framework.routers import DefaultRouter

from support.api import views

router = DefaultRouter()
router.register("schools", views.SchoolViewSet, basename="school")
router.register("partners", views.PartnerViewSet, basename="partner")
router.register("families", views.FamilyViewSet, basename="family")
router.register("pupils", views.PupilViewSet, basename="pupil")

urlpatterns = router.urls
