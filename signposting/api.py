"""The signposting API: the agency directory (read-only), and signposts within scope, recorded and
given their outcome through the services. A safeguarding service is refused with its guidance."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from signposting import services
from signposting.filters import SignpostFilter
from signposting.models import Agency, Signpost
from signposting.selectors import agencies_visible_to, signposts_visible_to
from support import safeguarding
from support.api.fields import BoundedDateField
from support.api.visibility import VisibleFieldsMixin
from support.models.consents import RECORDABLE_METHODS, ConsentMethod
from support.selectors import families_visible_to, schools_visible_to


class AgencySerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    # Either may be blank, so not documented as an e-mail or a URI format (which "" is not).
    email = serializers.CharField(read_only=True)
    website = serializers.CharField(read_only=True)

    class Meta:
        model = Agency
        fields = [
            "id", "name", "helps_with", "who_can_use", "how_to_contact", "how_to_refer", "phone", "email",
            "website", "areas", "schools", "safeguarding", "is_active",
        ]  # fmt: skip
        read_only_fields = fields


class AgencyViewSet(viewsets.ReadOnlyModelViewSet):
    """The trust's directory of agencies. A ``safeguarding`` one is never referred to here: tell the
    school's designated safeguarding lead."""

    permission = "signposting.view"
    serializer_class = AgencySerializer
    ordering_fields = ["name", "id"]

    def get_queryset(self):
        return agencies_visible_to(self.request.user).prefetch_related("schools").order_by("name")


class SignpostSerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    agency_name = serializers.CharField(source="agency.name", read_only=True, allow_null=True, default=None)
    school_name = serializers.CharField(source="school.name", read_only=True)
    # "" until there is one (no consent: not a referral; no outcome: not recorded yet).
    consent_method = serializers.ChoiceField(choices=ConsentMethod.choices, allow_blank=True, read_only=True)
    outcome = serializers.ChoiceField(choices=Signpost.Outcome.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Signpost
        fields = [
            "id", "family", "school", "school_name", "agency", "agency_name", "kind", "given_on",
            "lead_professional", "note", "follow_up_on", "consent_given_on", "consent_method",
            "consent_recorded_by", "consent_recorded_at", "outcome", "outcome_on", "outcome_by",
            "recorded_by", "recorded_at",
        ]  # fmt: skip
        read_only_fields = fields


class SignpostCreateSerializer(serializers.Serializer):
    family = serializers.PrimaryKeyRelatedField(queryset=families_visible_to(None))
    kind = serializers.ChoiceField(choices=Signpost.Kind.choices)
    agency = serializers.PrimaryKeyRelatedField(
        queryset=agencies_visible_to(None),
        required=False,
        allow_null=True,
        default=None,
        help_text="Required for a signpost or a referral. A safeguarding service is refused (400): tell the "
        "school's designated safeguarding lead instead.",
    )
    school = serializers.PrimaryKeyRelatedField(
        queryset=schools_visible_to(None),
        required=False,
        allow_null=True,
        default=None,
        help_text="One of your schools with a pupil of the family; may be left out when there is one.",
    )
    given_on = BoundedDateField(required=False, allow_null=True, default=None)
    follow_up_on = BoundedDateField(required=False, allow_null=True, default=None)
    lead_professional = serializers.CharField(
        max_length=120, required=False, allow_blank=True, default="",
        help_text="Required for an Early Help assessment or a team around the family.",
    )  # fmt: skip
    consent_method = serializers.ChoiceField(
        choices=RECORDABLE_METHODS, required=False, allow_blank=True, default="",
        help_text="A referral only, and required for one: how the carer agreed to share with that agency.",
    )  # fmt: skip
    consent_given_on = BoundedDateField(required=False, allow_null=True, default=None)
    note = serializers.CharField(
        max_length=safeguarding.NOTE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        help_text=safeguarding.guidance(seen_by=safeguarding.SEEN_BY_SCHOOL),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = request.user if request is not None else None
        self.fields["family"].queryset = families_visible_to(user)
        self.fields["agency"].queryset = agencies_visible_to(user)
        self.fields["school"].queryset = schools_visible_to(user)


class OutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Signpost.Outcome.choices)
    follow_up_on = BoundedDateField(
        required=False, allow_null=True, default=None, help_text="Waiting only: when to follow up again."
    )


class SignpostViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Signposts, referrals, Early Help assessments and teams around the family, at your schools."""

    permissions = {
        "list": "signposting.view",
        "retrieve": "signposting.view",
        "create": "signposting.record",
        "outcome": "signposting.record",
    }
    serializer_class = SignpostSerializer
    filterset_class = SignpostFilter
    ordering_fields = ["given_on", "follow_up_on", "id"]

    def get_queryset(self):
        return (
            signposts_visible_to(self.request.user)
            .select_related("agency", "school")
            .order_by("-given_on", "-pk")
        )

    @extend_schema(request=SignpostCreateSerializer, responses={201: SignpostSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        body = SignpostCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        created = services.signpost_record(actor=request.user, **body.validated_data)
        return Response(self.get_serializer(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=OutcomeSerializer, responses={200: SignpostSerializer})
    @action(detail=True, methods=["post"])
    def outcome(self, request: Request, pk: str | None = None) -> Response:
        """Record what came of it: engaged, declined or not reached close it; waiting keeps it open."""
        signpost = self.get_object()  # out of scope is a 404 before the body is read
        body = OutcomeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        moved = services.signpost_outcome_record(signpost=signpost, actor=request.user, **body.validated_data)
        return Response(self.get_serializer(moved).data)


router = SimpleRouter()
router.register("agencies", AgencyViewSet, basename="agency")
router.register("signposts", SignpostViewSet, basename="signpost")

urlpatterns = [*router.urls]
