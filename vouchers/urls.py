from vouchers.web import charity, pastoral, public

urlpatterns = [*pastoral.urlpatterns, *charity.urlpatterns, *public.urlpatterns]
