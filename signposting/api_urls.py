from signposting import api

urlpatterns = [*api.urlpatterns]
