from deliveries import api

urlpatterns = [*api.urlpatterns]
