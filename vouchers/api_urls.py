from django.urls import path
from rest_framework.routers import SimpleRouter

from vouchers import api

router = SimpleRouter()
router.register("vouchers", api.VoucherViewSet, basename="voucher")

urlpatterns = [
    *router.urls,
    path("redeem/<str:code>/", api.VoucherCheckView.as_view(), name="api_redeem_check"),
    path("redeem/<str:code>/redeem/", api.VoucherRedeemView.as_view(), name="api_redeem"),
]
