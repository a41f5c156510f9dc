"""The vouchers API: vouchers within scope, and the redemption endpoints partner systems call."""

import copy

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from support import safeguarding
from support.api.fields import PenceField, ScopedPrimaryKeyField
from support.api.idempotency import HEADER, answer_for, idempotent
from support.api.throttles import RateThrottle
from support.api.visibility import VisibleFieldsMixin
from support.errors import SupportError
from support.http import client_ip, site_url
from support.money import parse_pence
from support.permissions import has_perm
from support.scopes import scope_for
from support.selectors import (
    families_visible_to,
    family_visible_to,
    school_visible_to,
    schools_visible_to,
)
from vouchers import selectors, services
from vouchers.filters import VoucherFilterSet
from vouchers.lookup_guard import lookup_guard_check, lookup_guard_flags, lookup_guard_miss
from vouchers.models import (
    MAX_VALUE_GIVEN_PENCE,
    Delivery,
    Fulfilment,
    Redemption,
    ReferralReason,
    Voucher,
    VoucherSend,
)
from vouchers.printing import print_job_start
from vouchers.transitions import VOUCHER_FLOW


class VoucherSerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    display_code = serializers.CharField(read_only=True)
    voucher_type_name = serializers.CharField(source="voucher_type.name", read_only=True)
    partner = serializers.IntegerField(source="voucher_type.partner_id", read_only=True)
    school_name = serializers.CharField(source="school.name", read_only=True)

    class Meta:
        model = Voucher
        fields = [
            "id",
            "code",
            "display_code",
            "state",
            "voucher_type",
            "voucher_type_name",
            "partner",
            "family",
            "school",
            "school_name",
            "face_value_pence",
            "issued_at",
            "expires_on",
            "referral_reason",
            "referral_other",
            "household_size",
            "dietary_needs",
            "fulfilment",
            "delivery",
            "note_for_charity",
            "limit_override_reason",
        ]
        read_only_fields = fields


class VoucherSendSerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)

    class Meta:
        model = VoucherSend
        fields = ["kind", "channel", "address", "requested_by", "requested_at", "status", "sent_at", "note"]
        read_only_fields = fields


class VoucherDetailSerializer(VoucherSerializer):
    sends = serializers.SerializerMethodField(
        help_text="What was sent to the family (when, how, to which address, by whom): school staff and "
        "admins only (the field is left out for finance and charities)."
    )

    class Meta(VoucherSerializer.Meta):
        fields = [*VoucherSerializer.Meta.fields, "sends"]
        read_only_fields = fields

    @extend_schema_field(VoucherSendSerializer(many=True, allow_null=True))
    def get_sends(self, voucher: Voucher) -> list[dict] | None:
        request = self.context.get("request")
        if request is None or not has_perm(request.user, "families.view"):
            return None
        sends = voucher.sends.select_related("requested_by")
        return VoucherSendSerializer(sends, many=True, context=self.context).data


class VoucherIssueSerializer(serializers.Serializer):
    # Only the caller's families and schools can be named: anything else is "does not exist". Each is
    # found by SQL compiled once per connection (building and compiling the scoped querysets on every
    # issue was a fifth of its CPU); the selectors stay the definition, and a test holds them equal.
    family = ScopedPrimaryKeyField(find=family_visible_to, scoped=families_visible_to)
    # With its partner (consent names it) and fund (the face value is committed there): no extra reads.
    voucher_type = ScopedPrimaryKeyField(
        find=selectors.voucher_type_active, scoped=lambda user: selectors.voucher_types_active()
    )
    school = ScopedPrimaryKeyField(find=school_visible_to, scoped=schools_visible_to)
    referral_reason = serializers.ChoiceField(choices=ReferralReason.choices)
    referral_other = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        default="",
        help_text=safeguarding.guidance(seen_by=safeguarding.SEEN_BY_SCHOOL),
    )
    household_size = serializers.IntegerField(required=False, min_value=1, max_value=30)
    dietary_needs = serializers.CharField(required=False, allow_blank=True, max_length=200)
    fulfilment = serializers.ChoiceField(choices=Fulfilment.choices, default=Fulfilment.COLLECTION)
    delivery = serializers.ChoiceField(
        choices=Delivery.choices,
        default=Delivery.PRINT,
        help_text="How the family gets it: printed (nothing is sent), or e-mailed or texted to the family's "
        "address on record once issued.",
    )
    note_for_charity = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=safeguarding.NOTE_MAX_LENGTH,
        default="",
        help_text=safeguarding.guidance(seen_by=safeguarding.SEEN_BY_CHARITY),
    )
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=safeguarding.NOTE_MAX_LENGTH,
        default="",
        help_text=safeguarding.guidance(seen_by=safeguarding.SEEN_BY_SCHOOL),
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        # DRF deep-copies each declared field per request, which rebuilds it from its arguments (a scoped
        # field builds its selector's queryset again): a tenth of an issue's CPU. The declared fields are
        # templates never bound themselves, and binding sets attributes of the copy only.
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=safeguarding.NOTE_MAX_LENGTH,
        help_text=safeguarding.guidance(seen_by=safeguarding.SEEN_BY_SCHOOL),
    )


class VoucherResendSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=VoucherSend.CHANNELS)


class VoucherViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    permissions = {
        "list": "vouchers.view",
        "retrieve": "vouchers.view",
        "create": "vouchers.issue",
        **VOUCHER_FLOW.action_permissions("cancel"),
        "pdf": "vouchers.print",
        "send": "vouchers.print",
    }
    serializer_class = VoucherSerializer
    # The web voucher list's filter set too (vouchers.filters): same query, same vouchers.
    filterset_class = VoucherFilterSet
    search_fields = ["code", "lead_carer_name"]
    ordering_fields = ["issued_at", "expires_on", "id"]

    def get_queryset(self):
        return selectors.vouchers_visible_to(self.request.user).select_related("voucher_type", "school")

    def get_serializer_class(self):
        return VoucherDetailSerializer if self.action == "retrieve" else VoucherSerializer

    @extend_schema(request=VoucherIssueSerializer, responses={201: VoucherSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        body = VoucherIssueSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        voucher = services.voucher_issue(issued_by=request.user, site_url=site_url(request), **data)
        # As VoucherSerializer(voucher).data, its fields bound once per role set (a test holds them equal).
        answer = VoucherSerializer.represent_object(voucher, user=request.user)
        return Response(answer, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReasonSerializer, responses={200: VoucherSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        voucher = self.get_object()
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        voucher = services.voucher_cancel(
            voucher=voucher, actor=request.user, reason=body.validated_data["reason"]
        )
        return Response(self.get_serializer(voucher).data)

    @extend_schema(
        request=VoucherResendSerializer,
        responses={201: VoucherSendSerializer},
        parameters=[
            OpenApiParameter(
                HEADER,
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="Retries with the same key within 24 hours get the first answer, and send once",
            )
        ],
        description="Send the voucher to the family again, to its e-mail address or phone on record now.",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def send(self, request: Request, pk: str | None = None) -> Response:
        voucher = self.get_object()
        body = VoucherResendSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        send = services.voucher_send_request(
            voucher=voucher,
            actor=request.user,
            channel=body.validated_data["channel"],
            site_url=site_url(request),
        )
        return Response(
            VoucherSendSerializer(send, context={"request": request}).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The voucher as an A5 PDF, through the print service every door uses (scope, validity, audit)."""
        result = print_job_start(voucher_ids=[pk], actor=request.user, site_url=site_url(request))
        response = HttpResponse(result.pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{result.filename}"'
        return response


# --- Redemption: partner systems and the counter --------------------------------------------


class VoucherCheckSerializer(VisibleFieldsMixin, serializers.Serializer):
    """What the counter sees of a voucher (``check_payload``), read through the visibility table."""

    class Meta:
        model = Voucher

    code = serializers.CharField()
    display_code = serializers.CharField()
    state = serializers.CharField()
    valid = serializers.BooleanField()
    reason = serializers.CharField(allow_null=True, help_text="Why it cannot be redeemed, when it cannot")
    notice = serializers.CharField(
        allow_null=True,
        help_text="What the counter should know, e.g. the service has stopped but this is honoured",
    )
    voucher_type = serializers.CharField()
    service = serializers.CharField()
    expires_on = serializers.DateField()
    lead_carer_name = serializers.CharField()
    household_size = serializers.IntegerField()
    dietary_needs = serializers.CharField()
    fulfilment = serializers.CharField()
    note_for_charity = serializers.CharField()
    school = serializers.CharField()
    family_language = serializers.CharField(
        help_text='The family\'s preferred language, so staff can greet them (e.g. "Urdu (اردو)", "English")'
    )


def check_payload(voucher: Voucher) -> dict:
    return {
        "code": voucher.code,
        "display_code": voucher.display_code,
        "state": voucher.state,
        "valid": voucher.is_valid,
        "reason": None if voucher.is_valid else services.voucher_refusal(voucher).message,
        "notice": services.voucher_service_notice(voucher),
        "voucher_type": voucher.voucher_type.name,
        "service": voucher.voucher_type.service,
        "expires_on": voucher.expires_on,
        "lead_carer_name": voucher.lead_carer_name,
        "household_size": voucher.household_size,
        "dietary_needs": voucher.dietary_needs,
        "fulfilment": voucher.fulfilment,
        "note_for_charity": voucher.note_for_charity,
        "school": voucher.school.name,
        "family_language": selectors.voucher_family_language(voucher),
    }


ITEMS_GIVEN_MAX = 300


class RedeemRequestSerializer(serializers.Serializer):
    items_given = serializers.CharField(
        required=False, allow_blank=True, max_length=ITEMS_GIVEN_MAX, default=""
    )
    value_pence = PenceField(required=False, allow_null=True, minimum=0, maximum=MAX_VALUE_GIVEN_PENCE)

    @classmethod
    def read(cls, data: object) -> dict:
        """``cls(data=data)``'s validated data, or its ValidationError. A JSON body of the usual shapes is
        read here without building a serializer (a sixth of a redeem's Python outside the middleware);
        anything else, and every refusal with its wording, is the serializer's (a test holds them equal)."""
        read = _plain_redeem_body(data)
        if read is not None:
            return read
        body = cls(data=data)
        body.is_valid(raise_exception=True)
        return body.validated_data


def _plain_redeem_body(data: object) -> dict | None:
    """The redeem body as the serializer reads it, if it is plainly valid; None for the serializer to read."""
    if type(data) is not dict or not data.keys() <= {"items_given", "value_pence"}:
        return None
    items = data.get("items_given", "")
    if type(items) is not str:
        return None
    items = items.strip()
    # DRF's CharField also refuses NUL and lone surrogates (a JSON body can carry "\ud800").
    if len(items) > ITEMS_GIVEN_MAX or "\x00" in items or not (items.isascii() or _encodable(items)):
        return None
    read: dict = {"items_given": items}
    if "value_pence" in data:
        value = data["value_pence"]
        if value is not None:
            try:
                value = parse_pence(value, minimum=0, maximum=MAX_VALUE_GIVEN_PENCE)  # as PenceField reads it
            except ValueError:
                return None
        read["value_pence"] = value
    return read


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class RedemptionSerializer(VisibleFieldsMixin, serializers.Serializer):
    class Meta:
        model = Redemption

    code = serializers.CharField(source="voucher.code", read_only=True)
    state = serializers.CharField(source="voucher.state", read_only=True)
    redeemed_at = serializers.DateTimeField(read_only=True)
    redeemed_by = serializers.CharField(source="redeemed_by.username", read_only=True)
    items_given = serializers.CharField(read_only=True)
    value_pence = serializers.IntegerField(allow_null=True, read_only=True)


CODE_PARAMETER = OpenApiParameter(
    "code", str, OpenApiParameter.PATH, description="The voucher code, any case"
)
REFUSALS = {
    400: OpenApiResponse(description="The code is mistyped (its check character does not match)"),
    404: OpenApiResponse(
        description="No voucher with this code for your charity (nor says whether another has one)"
    ),
    429: OpenApiResponse(description="Too many codes that matched nothing: lookups are paused"),
}


class _RedeemBase(APIView):
    permission = "vouchers.redeem"
    throttle_classes = [RateThrottle]
    throttle_scope = "voucher_lookup"

    def ratelimit_flags(self, request: Request) -> list[str]:
        # Read with the throttles' counters: one Redis round trip for all of them.
        return lookup_guard_flags(user_id=request.user.pk, ip=client_ip(request))

    def find(self, request: Request, code: str) -> Voucher:
        ip = client_ip(request)
        lookup_guard_check(user_id=request.user.pk, ip=ip, known=getattr(request, "ratelimit_flags", None))
        try:
            return services.voucher_find_for_partner(
                code=code, partner_ids=scope_for(request.user).partner_ids
            )
        except SupportError as exc:
            lookup_guard_miss(user=request.user, ip=ip, code=code)
            if exc.code == "unknown":
                exc.status_code = status.HTTP_404_NOT_FOUND
            raise


class VoucherCheckView(_RedeemBase):
    @extend_schema(parameters=[CODE_PARAMETER], responses={200: VoucherCheckSerializer, **REFUSALS})
    def get(self, request: Request, code: str) -> Response:
        payload = check_payload(self.find(request, code))
        return Response(VoucherCheckSerializer.represent(payload, user=request.user))


class VoucherRedeemView(_RedeemBase):
    @extend_schema(
        parameters=[
            CODE_PARAMETER,
            OpenApiParameter(
                HEADER,
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="Retries with the same key within 24 hours get the first answer",
            ),
        ],
        request=RedeemRequestSerializer,
        responses={
            201: RedemptionSerializer,
            409: inline_serializer(
                "RedeemRefusal", {"detail": serializers.CharField(), "code": serializers.CharField()}
            ),
            **REFUSALS,
        },
    )
    @idempotent(answer_with_work=True)
    def post(self, request: Request, code: str) -> Response:
        body = RedeemRequestSerializer.read(request.data)
        voucher = self.find(request, code)
        # As RedemptionSerializer(redemption).data, its fields bound once per role set; written with the
        # redemption under an Idempotency-Key (one statement on PostgreSQL, no transaction around it).
        answer = answer_for(
            request,
            status_code=status.HTTP_201_CREATED,
            build=lambda redemption: RedemptionSerializer.represent_object(redemption, user=request.user),
        )
        services.voucher_redeem(
            voucher=voucher,
            partner=voucher.voucher_type.partner,
            redeemed_by=request.user,
            answer=answer,
            **body,
        )
        return Response(answer.body, status=status.HTTP_201_CREATED)
