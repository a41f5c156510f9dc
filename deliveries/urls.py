from deliveries.web import pages

urlpatterns = [*pages.urlpatterns]
