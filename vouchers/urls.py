from vouchers.web import charity, pastoral, printing, public

urlpatterns = [*pastoral.urlpatterns, *charity.urlpatterns, *public.urlpatterns, *printing.urlpatterns]
