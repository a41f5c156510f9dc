"""The asks API: the pastoral leads' queue, read-only (matching and turning an ask into help are the
page's, where the lead sees the family and its allowed contacts)."""

from rest_framework import serializers, viewsets
from rest_framework.routers import SimpleRouter

from asks.filters import AskFilter
from asks.models import Ask
from asks.selectors import asks_visible_to
from support.api.visibility import VisibleFieldsMixin


class AskSerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Ask
        fields = [
            "id", "school", "kind", "asker_name", "child_name", "child_year", "contact_way", "message",
            "language", "status", "family", "pupil", "matched_at", "outcome", "outcome_note", "decided_at",
            "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class AskViewSet(viewsets.ReadOnlyModelViewSet):
    """Asks for help from the public pages of the schools the caller leads, oldest first."""

    permissions = {"list": "asks.decide", "retrieve": "asks.decide"}
    serializer_class = AskSerializer
    filterset_class = AskFilter
    ordering_fields = ["created_at", "id"]

    def get_queryset(self):
        return asks_visible_to(self.request.user).order_by("created_at", "pk")


router = SimpleRouter()
router.register("asks", AskViewSet, basename="ask")
