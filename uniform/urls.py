from uniform.web import gifts, requests

urlpatterns = [*gifts.urlpatterns, *requests.urlpatterns]
