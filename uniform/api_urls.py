from uniform import api_gifts, api_requests, api_secondhand

urlpatterns = [*api_gifts.urlpatterns, *api_requests.urlpatterns, *api_secondhand.urlpatterns]
