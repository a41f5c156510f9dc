from uniform.web import gifts, requests, secondhand

urlpatterns = [*gifts.urlpatterns, *requests.urlpatterns, *secondhand.urlpatterns]
