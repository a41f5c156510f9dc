from uniform import api_gifts, api_requests

urlpatterns = [*api_gifts.urlpatterns, *api_requests.urlpatterns]
