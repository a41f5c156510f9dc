from signposting.web import pages

urlpatterns = [*pages.urlpatterns]
