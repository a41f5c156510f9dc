from vouchers.web import charity, pastoral, printing, public, statements

urlpatterns = [
    *pastoral.urlpatterns,
    *charity.urlpatterns,
    *public.urlpatterns,
    *printing.urlpatterns,
    *statements.urlpatterns,
]
