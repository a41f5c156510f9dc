"""The referrals API for partners with their own systems (and schools): list and update referrals, scoped
to the caller. Updates are idempotent twice over: by state (repeating a move that already happened with
the same facts answers 200 with the referral unchanged) and by ``Idempotency-Key`` (a retry replays)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from deliveries import services
from deliveries.filters import ReferralFilter
from deliveries.models import Referral
from deliveries.selectors import referrals_visible_to
from deliveries.transitions import REFERRAL_FLOW
from support.api.fields import BoundedDateField
from support.api.idempotency import idempotent
from support.api.visibility import VisibleFieldsMixin


class ReferralSerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    item_name = serializers.CharField(source="item.name", read_only=True)
    school_name = serializers.CharField(source="school.name", read_only=True)

    class Meta:
        model = Referral
        fields = [
            "id", "group", "service", "item", "item_name", "value_pence", "family", "school", "school_name",
            "state", "lead_carer_name", "delivery_address", "delivery_postcode", "delivery_phone",
            "access_notes", "adults", "children_under_5", "children_5_to_11", "children_12_to_17",
            "created_at", "updated_at", "waiting_since", "expected_on", "decline_reason", "delivered_on",
            "delivered_what", "outcome_note", "closed_at",
        ]  # fmt: skip
        read_only_fields = fields


class AcceptSerializer(serializers.Serializer):
    expected_on = BoundedDateField(help_text="When the charity expects to deliver (today or later).")


class DeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, help_text="Why, as the school reads it.")


class DeliverSerializer(serializers.Serializer):
    delivered_on = BoundedDateField()
    delivered_what = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class NotReachedSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=300, help_text="The attempts made, as the school reads it.")


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class ReferralViewSet(viewsets.ReadOnlyModelViewSet):
    """Referrals for delivered services (white goods, furniture). Charity staff see and answer their own
    partner's; school staff see their schools' and may cancel."""

    permissions = {
        "list": "deliveries.view",
        "retrieve": "deliveries.view",
        **REFERRAL_FLOW.action_permissions("accept", "wait", "decline", "deliver", "not-reached", "cancel"),
    }
    serializer_class = ReferralSerializer
    filterset_class = ReferralFilter
    ordering_fields = ["created_at", "id"]

    def get_queryset(self):
        return referrals_visible_to(self.request.user).select_related(
            "item", "school", "service__voucher_type__partner"
        )

    def _move(self, request: Request, serializer, service) -> Response:
        referral = self.get_object()  # out of scope is a 404 before anything about the body is said
        body = serializer(data=request.data) if serializer else None
        if body is not None:
            body.is_valid(raise_exception=True)
        moved = service(referral=referral, actor=request.user, **(body.validated_data if body else {}))
        return Response(self.get_serializer(moved).data)

    @extend_schema(request=AcceptSerializer, responses={200: ReferralSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def accept(self, request: Request, pk: str | None = None) -> Response:
        """Accept (or re-date an accepted referral): commits its value; the family is told the date."""
        return self._move(request, AcceptSerializer, services.referral_accept)

    @extend_schema(request=None, responses={200: ReferralSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def wait(self, request: Request, pk: str | None = None) -> Response:
        """Put a new referral on the waiting list."""
        return self._move(request, None, services.referral_wait)

    @extend_schema(request=DeclineSerializer, responses={200: ReferralSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def decline(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, DeclineSerializer, services.referral_decline)

    @extend_schema(request=DeliverSerializer, responses={200: ReferralSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def deliver(self, request: Request, pk: str | None = None) -> Response:
        """Mark delivered: the value becomes spend on that day; the address and phone are erased."""
        return self._move(request, DeliverSerializer, services.referral_deliver)

    @extend_schema(request=NotReachedSerializer, responses={200: ReferralSerializer})
    @action(detail=True, methods=["post"], url_path="not-reached")
    @idempotent
    def not_reached(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, NotReachedSerializer, services.referral_not_reached)

    @extend_schema(request=CancelSerializer, responses={200: ReferralSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """The school withdraws the referral."""
        return self._move(request, CancelSerializer, services.referral_cancel)


router = SimpleRouter()
router.register("referrals", ReferralViewSet, basename="referral")

urlpatterns = [*router.urls]
