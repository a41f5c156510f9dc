"""The requests API: coat, shoe and uniform requests within scope, created and moved on by the services."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from support import safeguarding
from support.api.visibility import VisibleFieldsMixin
from support.selectors import pupils_visible_to
from uniform.filters import SupportRequestFilter
from uniform.models import SECONDHAND, Condition, ItemKind, SupportRequest
from uniform.selectors import support_requests_visible_to, uniform_items_visible_to
from uniform.services import requests as services
from uniform.transitions import REQUEST_FLOW


class SupportRequestSerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    school_name = serializers.CharField(source="school.name", read_only=True)
    item_name = serializers.CharField(source="item.name", read_only=True, allow_null=True, default=None)

    class Meta:
        model = SupportRequest
        fields = [
            "id",
            "pupil",
            "school",
            "school_name",
            "kind",
            "item",
            "item_name",
            "size",
            "quantity",
            "reason",
            "urgency",
            "period",
            "status",
            "beyond_policy",
            "cost_pence",
            "no_cost_reason",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_reason",
            "handed_over_by",
            "handed_over_at",
        ]
        read_only_fields = fields


class SupportRequestCreateSerializer(serializers.Serializer):
    pupil = serializers.PrimaryKeyRelatedField(queryset=pupils_visible_to(None))
    kind = serializers.ChoiceField(
        choices=ItemKind.choices, required=False, help_text="Defaults to the item's kind."
    )
    item = serializers.PrimaryKeyRelatedField(
        queryset=uniform_items_visible_to(None),
        help_text="One of the pupil's school's active items (a coat, shoes, uniform): the request costs its "
        "unit cost × quantity.",
    )
    size = serializers.CharField(
        max_length=30,
        allow_blank=True,
        default="",
        help_text="One of the item's sizes ('' for a one-size item); 'Age 11-12' is read as '11-12'.",
    )
    quantity = serializers.IntegerField(min_value=1, max_value=services.MAX_QUANTITY, default=1)
    reason = serializers.CharField(
        max_length=safeguarding.NOTE_MAX_LENGTH,
        help_text=safeguarding.guidance(seen_by=safeguarding.SEEN_BY_SCHOOL),
    )
    urgency = serializers.ChoiceField(
        choices=SupportRequest.Urgency.choices, default=SupportRequest.Urgency.ROUTINE
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")  # absent while the OpenAPI schema is generated
        user = request.user if request is not None else None
        # Only the caller's pupils and items can be named: anything else is "does not exist".
        self.fields["pupil"].queryset = pupils_visible_to(user)
        self.fields["item"].queryset = uniform_items_visible_to(user)


class DecisionSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=safeguarding.NOTE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        help_text=safeguarding.guidance(seen_by=safeguarding.SEEN_BY_SCHOOL),
    )


class ApprovalSerializer(DecisionSerializer):
    no_cost_reason = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required to approve a request that costs £0: why it costs nothing (donated, second-hand).",
    )


class SecondhandSerializer(serializers.Serializer):
    condition = serializers.ChoiceField(
        choices=[(c, Condition(c).label) for c in SECONDHAND],
        required=False,
        default="",
        help_text="Which second-hand stock to take; default the best condition that has enough.",
    )


class SupportRequestViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Requests for coats, shoes and uniform for pupils in need. Approve and reject are for leads."""

    permissions = {
        "list": "requests.view",
        "retrieve": "requests.view",
        "create": "requests.create",
        # The moves the API offers, each with the permission the transitions table gives it.
        **REQUEST_FLOW.action_permissions(
            "approve", "reject", "ordered", "from-stock", "from-secondhand", "handed-over"
        ),
    }
    serializer_class = SupportRequestSerializer
    filterset_class = SupportRequestFilter
    ordering_fields = ["requested_at", "id"]

    def get_queryset(self):
        return support_requests_visible_to(self.request.user).select_related("school", "item")

    @extend_schema(request=SupportRequestCreateSerializer, responses={201: SupportRequestSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        body = SupportRequestCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        data.setdefault("kind", data["item"].kind)
        created = services.request_create(actor=request.user, **data)
        return Response(self.get_serializer(created).data, status=status.HTTP_201_CREATED)

    def _decide(self, request: Request, service, serializer=DecisionSerializer) -> Response:
        body = serializer(data=request.data)
        body.is_valid(raise_exception=True)
        moved = service(request=self.get_object(), actor=request.user, **body.validated_data)
        return Response(self.get_serializer(moved).data)

    def _fulfil(self, service) -> Response:
        moved = service(request=self.get_object(), actor=self.request.user)
        return Response(self.get_serializer(moved).data)

    @extend_schema(request=ApprovalSerializer, responses={200: SupportRequestSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve a waiting request; a beyond-policy one needs a reason, one at £0 a no-cost reason."""
        return self._decide(request, services.request_approve, ApprovalSerializer)

    @extend_schema(request=DecisionSerializer, responses={200: SupportRequestSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Reject a waiting or approved request, with a reason."""
        return self._decide(request, services.request_reject)

    @extend_schema(request=None, responses={200: SupportRequestSerializer})
    @action(detail=True, methods=["post"])
    def ordered(self, request: Request, pk: str | None = None) -> Response:
        return self._fulfil(services.request_mark_ordered)

    @extend_schema(request=None, responses={200: SupportRequestSerializer})
    @action(detail=True, methods=["post"], url_path="from-stock")
    def from_stock(self, request: Request, pk: str | None = None) -> Response:
        return self._fulfil(services.request_mark_from_stock)

    @extend_schema(request=SecondhandSerializer, responses={200: SupportRequestSerializer})
    @action(detail=True, methods=["post"], url_path="from-secondhand")
    def from_secondhand(self, request: Request, pk: str | None = None) -> Response:
        """Meet an approved request from donated second-hand stock: it costs the fund nothing (the money
        committed is given back); 409 when there is not enough in the size."""
        body = SecondhandSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        moved = services.request_mark_from_secondhand(
            request=self.get_object(), actor=request.user, **body.validated_data
        )
        return Response(self.get_serializer(moved).data)

    @extend_schema(request=None, responses={200: SupportRequestSerializer})
    @action(detail=True, methods=["post"], url_path="handed-over")
    def handed_over(self, request: Request, pk: str | None = None) -> Response:
        return self._fulfil(services.request_hand_over)


router = SimpleRouter()
router.register("support-requests", SupportRequestViewSet, basename="support-request")

urlpatterns = [*router.urls]
