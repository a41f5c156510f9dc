from asks.api import router

urlpatterns = [*router.urls]
