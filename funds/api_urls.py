from rest_framework.routers import SimpleRouter

from funds import api

router = SimpleRouter()
router.register("funds", api.FundViewSet, basename="fund")
router.register("ledger-entries", api.LedgerEntryViewSet, basename="ledger-entry")
router.register("donations", api.DonationViewSet, basename="donation")
router.register("pledges", api.PledgeViewSet, basename="pledge")
router.register("spend-requests", api.SpendRequestViewSet, basename="spend-request")
router.register("gift-aid/declarations", api.GiftAidDeclarationViewSet, basename="gift-aid-declaration")
router.register("gift-aid/claims", api.GiftAidClaimViewSet, basename="gift-aid-claim")

urlpatterns = router.urls
