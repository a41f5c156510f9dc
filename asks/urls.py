from asks.web import public, queue

urlpatterns = [*public.urlpatterns, *queue.urlpatterns]
