"""The welcome-uniform API: items, packs and gifts within scope; sizes, packing and hand-over as actions."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from support.api.visibility import VisibleFieldsMixin
from support.bounds import ID_MAX
from support.errors import SupportError
from uniform import selectors
from uniform.filters import GiftFilter
from uniform.models import Condition, Gift, GiftLine, UniformItem, WelcomePack, WelcomePackItem
from uniform.services import gifts as services


class UniformItemSerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    sizes = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = UniformItem
        fields = [
            "id",
            "school",
            "name",
            "kind",
            "sizes",
            "unit_cost_pence",
            "supplier",
            "track_stock",
            "is_active",
            "branded",
            "required",
            "is_tie",
        ]
        read_only_fields = fields


class WelcomePackItemSerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    item_name = serializers.CharField(source="item.name", read_only=True)

    class Meta:
        model = WelcomePackItem
        fields = ["item", "item_name", "quantity"]
        read_only_fields = fields


class WelcomePackSerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    items = WelcomePackItemSerializer(many=True, read_only=True)

    class Meta:
        model = WelcomePack
        fields = ["id", "school", "year_group", "promise_new", "items"]
        read_only_fields = fields


class GiftLineSerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    item_name = serializers.CharField(source="item.name", read_only=True)
    sizes = serializers.ListField(source="item.sizes", child=serializers.CharField(), read_only=True)

    class Meta:
        model = GiftLine
        fields = ["id", "item", "item_name", "quantity", "size", "sizes", "condition"]
        read_only_fields = fields


class GiftSerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    pupil_name = serializers.SerializerMethodField(help_text="Not for finance, who see costs, not names.")
    lines = GiftLineSerializer(many=True, read_only=True)

    def get_pupil_name(self, gift: Gift) -> str:
        return str(gift.pupil)

    class Meta:
        model = Gift
        fields = [
            "id",
            "pupil",
            "pupil_name",
            "school",
            "academic_year",
            "year_group",
            "status",
            "packed_at",
            "packed_by",
            "handed_over_at",
            "handed_over_by",
            "cost_pence",
            "lines",
        ]
        read_only_fields = fields


class SizeSerializer(serializers.Serializer):
    item = serializers.IntegerField(
        min_value=1, max_value=ID_MAX, help_text="The uniform item's id (one of the gift's lines)"
    )
    size = serializers.CharField(
        allow_blank=True, max_length=30, help_text="One of the item's sizes; '' clears it"
    )


class SizesSerializer(serializers.Serializer):
    sizes = SizeSerializer(many=True)


class LineConditionSerializer(serializers.Serializer):
    item = serializers.IntegerField(
        min_value=1, max_value=ID_MAX, help_text="The uniform item's id (one of the gift's lines)"
    )
    condition = serializers.ChoiceField(
        choices=Condition.choices, help_text="new, or the condition of donated second-hand stock to give"
    )


class SecondhandChoiceSerializer(serializers.Serializer):
    lines = LineConditionSerializer(many=True)


class UniformItemViewSet(viewsets.ReadOnlyModelViewSet):
    permission = "uniform.view"
    serializer_class = UniformItemSerializer
    filterset_fields = ["school", "kind", "is_active"]
    search_fields = ["name", "supplier"]
    ordering_fields = ["name", "id"]

    def get_queryset(self):
        return selectors.uniform_items_visible_to(self.request.user).order_by("school_id", "name")


class WelcomePackViewSet(viewsets.ReadOnlyModelViewSet):
    permission = "uniform.view"
    serializer_class = WelcomePackSerializer
    filterset_fields = ["school", "year_group"]
    search_fields: list[str] = []
    ordering_fields = ["id"]

    def get_queryset(self):
        return (
            selectors.welcome_packs_visible_to(self.request.user)
            .prefetch_related("items__item")
            .order_by("school_id", "year_group")
        )


class GiftViewSet(viewsets.ReadOnlyModelViewSet):
    permissions = {
        "list": "uniform.view",
        "retrieve": "uniform.view",
        "sizes": "uniform.record_sizes",
        "packed": "uniform.hand_over",
        "handed_over": "uniform.hand_over",
        "second_hand": "uniform.hand_over",
    }
    serializer_class = GiftSerializer
    filterset_class = GiftFilter
    search_fields = ["pupil__surname", "pupil__legal_forename", "pupil__preferred_forename"]
    ordering_fields = ["id", "created_at", "status"]

    def get_queryset(self):
        return (
            selectors.gifts_visible_to(self.request.user)
            .select_related("pupil", "school")
            .prefetch_related("lines__item")
            .order_by("school_id", "pupil__surname", "pk")
        )

    def _fresh(self, gift: Gift) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=gift.pk)).data)

    @extend_schema(request=SizesSerializer, responses={200: GiftSerializer})
    @action(detail=True, methods=["post"])
    def sizes(self, request: Request, pk: str | None = None) -> Response:
        """Record sizes for the gift's lines, by item."""
        gift = self.get_object()
        body = SizesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        lines = {line.item_id: line.pk for line in gift.lines.all()}
        wanted = {}
        for entry in body.validated_data["sizes"]:
            if entry["item"] not in lines:
                raise SupportError("This item is not in the pack.", field="sizes")
            wanted[lines[entry["item"]]] = entry["size"]
        services.gift_sizes_record(school=gift.school, sizes=wanted, actor=request.user)
        return self._fresh(gift)

    @extend_schema(request=None, responses={200: GiftSerializer})
    @action(detail=True, methods=["post"])
    def packed(self, request: Request, pk: str | None = None) -> Response:
        """Mark a gift whose sizes are all recorded as packed."""
        gift = services.gift_pack(gift=self.get_object(), actor=request.user)
        return self._fresh(gift)

    @extend_schema(request=None, responses={200: GiftSerializer})
    @action(detail=True, methods=["post"], url_path="handed-over")
    def handed_over(self, request: Request, pk: str | None = None) -> Response:
        """Hand a packed gift over: refused (409) when tracked stock is too low."""
        gift = services.gift_hand_over(gift=self.get_object(), actor=request.user)
        return self._fresh(gift)

    @extend_schema(request=SecondhandChoiceSerializer, responses={200: GiftSerializer})
    @action(detail=True, methods=["post"], url_path="second-hand")
    def second_hand(self, request: Request, pk: str | None = None) -> Response:
        """Choose, by item, donated second-hand stock instead of new (never for a pack promised new): the
        fund is charged only for what is given new at hand-over."""
        gift = self.get_object()
        body = SecondhandChoiceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        lines = {line.item_id: line.pk for line in gift.lines.all()}
        wanted = {}
        for entry in body.validated_data["lines"]:
            if entry["item"] not in lines:
                raise SupportError("This item is not in the pack.", field="lines")
            wanted[lines[entry["item"]]] = entry["condition"]
        services.gift_secondhand_choose(gift=gift, conditions=wanted, actor=request.user)
        return self._fresh(gift)


router = SimpleRouter()
router.register("uniform-items", UniformItemViewSet, basename="uniform-item")
router.register("welcome-packs", WelcomePackViewSet, basename="welcome-pack")
router.register("gifts", GiftViewSet, basename="gift")

urlpatterns = router.urls
