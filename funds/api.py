"""The finance API: funds and their year summaries, the ledger (read only), donations, pledges and the
approvals queue. Finance and trust admins only; every write goes through a service of
``funds.services.ledger``, ``funds.services.pledges`` or ``funds.services.approvals``.

A service's "only finance can ..." refusal (a trust admin may read everything, but the decisions and
reversals are finance's) is a 403 here, not the 400 other business rules get."""

from collections.abc import Sequence

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    CharField,
    Exists,
    F,
    OuterRef,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Cast
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from funds import api_serializers as s
from funds.filters import DonationFilter, LedgerEntryFilter, PledgeFilter, SpendRequestFilter
from funds.models import Donation, Fund, GiftAidClaim, GiftAidDeclaration, LedgerEntry, Pledge, SpendRequest
from funds.selectors import (
    donations_visible_to,
    funds_visible_to,
    gift_aid_claims_visible_to,
    gift_aid_declarations_visible_to,
    ledger_entries_visible_to,
    spend_requests_visible_to,
)
from funds.selectors.gift_aid import with_gift_aid_state
from funds.selectors.ledger import source_title
from funds.selectors.positions import balance_effect, committed_effect, fund_positions
from funds.selectors.reports import current_year, fund_year_summary
from funds.services import approvals, gift_aid
from funds.services.ledger import (
    describe_sources,
    fund_donation_record,
    fund_entry_reverse,
)
from funds.services.pledges import pledge_create, pledge_list
from funds.transitions import GIFT_AID_CLAIM_FLOW, SPEND_FLOW
from support.api.idempotency import HEADER, idempotent
from support.errors import SupportError

Kind = LedgerEntry.Kind

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Retries with the same key within 24 hours get the first answer, not a second record",
)
FINANCE_ONLY = OpenApiResponse(description="Not finance (trust admins read, but do not decide or reverse)")


# --- Reading a page in bounded queries ------------------------------------------------------------


def _attach_sources(objects: Sequence[LedgerEntry | SpendRequest]) -> None:
    """Set ``source_info`` on ledger entries or spend requests: what the app that owns each source says is
    behind it (``funds.services.ledger.describe_sources``, one call for the page)."""
    facts = describe_sources(objects)  # type: ignore[arg-type]  # anything with source_type_id, source_id
    for obj in objects:
        if not obj.source_type_id or not obj.source_id:
            obj.source_info = None
            continue
        content_type = ContentType.objects.get_for_id(obj.source_type_id)
        found = facts.get((obj.source_type_id, obj.source_id))
        obj.source_info = {
            "type": f"{content_type.app_label}.{content_type.model}",
            "id": obj.source_id,
            "title": source_title(facts, obj.source_type_id, obj.source_id),
            "facts": [{"label": label, "value": value} for label, value in (found.facts if found else [])],
        }


class _FinanceViewSet(viewsets.GenericViewSet):
    """Decorates each page (and a retrieved object) in bounded queries; a service's "only finance"
    refusal becomes a 403."""

    permission = "fund.view"

    def decorate(self, objects: list) -> None:
        """Add per-page facts to ``objects`` (a subclass's hook); nothing to add by default."""

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None:
            self.decorate(page)
        return page

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return Response(self.fresh(self.get_object().pk))

    def fresh(self, pk: int) -> dict:
        """One object re-read through the scoped queryset, decorated and serialized."""
        obj = self.get_queryset().get(pk=pk)
        self.decorate([obj])
        return self.get_serializer(obj).data

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, SupportError) and exc.code == "forbidden":
            exc = PermissionDenied(exc.message)
        return super().handle_exception(exc)


# --- Funds ----------------------------------------------------------------------------------------


class FundViewSet(mixins.ListModelMixin, _FinanceViewSet):
    """The trust's funds, each with its position now."""

    serializer_class = s.FundSerializer
    filterset_fields = ["is_active", "school"]
    search_fields = ["name"]
    ordering_fields = ["name", "created_at", "id"]

    def get_queryset(self) -> QuerySet[Fund]:
        return funds_visible_to(self.request.user).select_related("school").order_by("name", "pk")

    def decorate(self, objects: list[Fund]) -> None:
        positions = fund_positions(fund.pk for fund in objects)
        for fund in objects:
            fund.position = positions[fund.pk]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "year",
                int,
                description="The financial year's start year (2026: 1 September 2026 to 31 August 2027); "
                "default the current one",
            )
        ],
        responses={200: s.FundYearSummarySerializer},
    )
    @action(detail=True, methods=["get"])
    def summary(self, request: Request, pk: str | None = None) -> Response:
        """The dashboard's figures for one financial year: totals, months, schools, categories."""
        fund = self.get_object()
        query = s.YearQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        year = query.validated_data.get("year", current_year())
        return Response(s.FundYearSummarySerializer(fund_year_summary(fund=fund, year=year)).data)


# --- The ledger -----------------------------------------------------------------------------------


class LedgerEntryViewSet(mixins.ListModelMixin, _FinanceViewSet):
    """The append-only ledger. Nothing here writes an entry except ``reverse``; the other entries come
    from the services (donations, spend committed, made actual, released)."""

    permissions = {"reverse": "fund.reverse"}
    serializer_class = s.LedgerEntrySerializer
    filterset_class = LedgerEntryFilter
    ordering_fields = ["occurred_on", "created_at", "id", "amount_pence"]
    ordering = ["-occurred_on", "-id"]

    def get_queryset(self) -> QuerySet[LedgerEntry]:
        return (
            ledger_entries_visible_to(self.request.user)
            .select_related("fund", "school", "created_by")
            .annotate(
                amount=balance_effect(),
                committed=committed_effect(),
                reverses_kind=F("reverses__kind"),
                reversal_id=F("reversed_by__id"),
            )
            .order_by("-occurred_on", "-pk")
        )

    def decorate(self, objects: list[LedgerEntry]) -> None:
        _attach_sources(objects)

    @extend_schema(
        request=s.ReverseSerializer,
        responses={
            201: s.LedgerEntrySerializer,
            400: OpenApiResponse(description="No reason given"),
            403: FINANCE_ONLY,
            409: OpenApiResponse(description="A commitment or a reversal, or already reversed"),
        },
    )
    @action(detail=True, methods=["post"])
    def reverse(self, request: Request, pk: str | None = None) -> Response:
        """Correct a mistaken income or spend entry with a reversing entry; the entry never changes."""
        entry = self.get_object()
        body = s.ReverseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reversal = fund_entry_reverse(entry=entry, actor=request.user, reason=body.validated_data["reason"])
        return Response(self.fresh(reversal.pk), status=status.HTTP_201_CREATED)


# --- Donations and pledges ------------------------------------------------------------------------


class DonationViewSet(mixins.ListModelMixin, _FinanceViewSet):
    """Donations to the funds. Recording one writes its income entry on the ledger."""

    permissions = {"create": "fund.record_donation"}
    serializer_class = s.DonationSerializer
    filterset_class = DonationFilter
    search_fields = ["donor"]
    ordering_fields = ["received_on", "amount_pence", "id"]
    ordering = ["-received_on", "-id"]

    def get_queryset(self) -> QuerySet[Donation]:
        if getattr(self, "swagger_fake_view", False):  # the schema is made without a database
            return Donation.objects.none()
        of_this_donation = LedgerEntry.objects.filter(
            source_type=ContentType.objects.get_for_model(Donation),
            source_id=Cast(OuterRef("pk"), output_field=CharField()),
        )
        donations = (
            donations_visible_to(self.request.user)
            .select_related("fund", "recorded_by")
            .annotate(
                entry_id=Subquery(of_this_donation.filter(kind=Kind.INCOME).order_by("pk").values("pk")[:1]),
                is_reversed=Exists(of_this_donation.filter(kind=Kind.REVERSAL)),
            )
        )
        return with_gift_aid_state(donations).order_by("-received_on", "-pk")

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=s.DonationCreateSerializer,
        responses={
            201: s.DonationSerializer,
            409: OpenApiResponse(description="The fund or pledge is closed"),
        },
    )
    @idempotent
    def create(self, request: Request, *args, **kwargs) -> Response:
        """Record a donation (against a pledge, if it pays one)."""
        body = s.DonationCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        donation = fund_donation_record(actor=request.user, **body.validated_data)
        return Response(self.fresh(donation.pk), status=status.HTTP_201_CREATED)


class PledgeViewSet(mixins.ListModelMixin, _FinanceViewSet):
    """Recurring pledges; active ones first, by next due date."""

    permissions = {"create": "fund.record_donation"}
    serializer_class = s.PledgeSerializer
    filterset_class = PledgeFilter
    search_fields = ["donor"]
    ordering_fields = ["next_due", "amount_pence", "id"]

    def get_queryset(self) -> QuerySet[Pledge]:
        return pledge_list(user=self.request.user)

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=s.PledgeCreateSerializer,
        responses={201: s.PledgeSerializer, 409: OpenApiResponse(description="The fund is closed")},
    )
    @idempotent
    def create(self, request: Request, *args, **kwargs) -> Response:
        """Record a promise of regular giving."""
        body = s.PledgeCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        pledge = pledge_create(actor=request.user, **body.validated_data)
        return Response(self.fresh(pledge.pk), status=status.HTTP_201_CREATED)


# --- Approvals ------------------------------------------------------------------------------------


DECISION_REFUSALS = {
    403: FINANCE_ONLY,
    409: OpenApiResponse(description="Already decided, or the same approver twice (same_approver)"),
}


class SpendRequestViewSet(mixins.ListModelMixin, _FinanceViewSet):
    """Spend above the policy threshold waiting for finance (``?status=pending``: the queue, oldest
    first) and the decisions made. Above the second threshold two different finance users approve."""

    permissions = SPEND_FLOW.action_permissions("approve", "reject", "send-back")
    serializer_class = s.SpendRequestSerializer
    filterset_class = SpendRequestFilter
    search_fields = ["summary"]
    ordering_fields = ["requested_at", "decided_at", "amount_pence", "id"]

    def get_queryset(self) -> QuerySet[SpendRequest]:
        return spend_requests_visible_to(self.request.user).order_by("requested_at", "pk")

    def decorate(self, objects: list[SpendRequest]) -> None:
        positions = fund_positions(r.fund_id for r in objects)
        for spend_request in objects:
            spend_request.fund_available = positions[spend_request.fund_id].available_pence
        _attach_sources(objects)

    @extend_schema(
        request=s.ApproveSerializer,
        responses={
            200: s.SpendRequestSerializer,
            400: OpenApiResponse(description="The fund is short and no override_reason was given"),
            **DECISION_REFUSALS,
        },
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve. The first of two approvals only records itself (the request stays pending); the last
        commits the money, refused when the fund is short unless ``override_reason`` is given."""
        spend_request = self.get_object()
        body = s.ApproveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            approvals.spend_request_approve(
                spend_request=spend_request, actor=request.user, **body.validated_data
            )
        except SupportError as exc:
            if exc.code == "insufficient_funds":
                exc.field = "override_reason"  # what the caller must add to go ahead
            raise
        return Response(self.fresh(spend_request.pk))

    @extend_schema(request=s.NoteSerializer, responses={200: s.SpendRequestSerializer, **DECISION_REFUSALS})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Reject, with a note the requester reads."""
        return self._close(request, approvals.spend_request_reject)

    @extend_schema(request=s.NoteSerializer, responses={200: s.SpendRequestSerializer, **DECISION_REFUSALS})
    @action(detail=True, methods=["post"], url_path="send-back")
    def send_back(self, request: Request, pk: str | None = None) -> Response:
        """Send back for changes, with a note the requester reads."""
        return self._close(request, approvals.spend_request_send_back)

    def _close(self, request: Request, service) -> Response:
        spend_request = self.get_object()
        body = s.NoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        service(spend_request=spend_request, actor=request.user, note=body.validated_data["note"])
        return Response(self.fresh(spend_request.pk))


# --- Gift Aid -------------------------------------------------------------------------------------


class GiftAidDeclarationViewSet(mixins.ListModelMixin, _FinanceViewSet):
    """Donors' Gift Aid declarations (names and home addresses: finance only)."""

    permission = "giftaid.view"
    permissions = {"create": "giftaid.manage", "cancel": "giftaid.manage"}
    serializer_class = s.GiftAidDeclarationSerializer
    filterset_fields = ["donor"]
    ordering_fields = ["declared_on", "id"]

    def get_queryset(self) -> QuerySet[GiftAidDeclaration]:
        return (
            gift_aid_declarations_visible_to(self.request.user)
            .filter(anonymised_at__isnull=True)
            .select_related("recorded_by", "cancelled_by")
            .order_by("donor", "-declared_on", "-pk")
        )

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=s.GiftAidDeclarationCreateSerializer,
        responses={201: s.GiftAidDeclarationSerializer},
    )
    @idempotent
    def create(self, request: Request, *args, **kwargs) -> Response:
        """Record a declaration as the donor made it."""
        body = s.GiftAidDeclarationCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        declaration = gift_aid.gift_aid_declaration_record(actor=request.user, **body.validated_data)
        return Response(self.fresh(declaration.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.GiftAidCancelSerializer,
        responses={
            200: s.GiftAidDeclarationSerializer,
            409: OpenApiResponse(description="Already cancelled, or a gift after that day is claimed"),
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """The donor cancelled: gifts from ``cancelled_on`` on are not covered."""
        declaration = self.get_object()
        body = s.GiftAidCancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        gift_aid.gift_aid_declaration_cancel(
            declaration=declaration, actor=request.user, **body.validated_data
        )
        return Response(self.fresh(declaration.pk))


CLAIM_REFUSALS = {
    409: OpenApiResponse(description="Not in a state that allows it, or donations taken meanwhile")
}


class GiftAidClaimViewSet(mixins.ListModelMixin, _FinanceViewSet):
    """Gift Aid claims: prepared (of the claimable donations, each in one claim only), submitted to HMRC,
    paid (the Gift Aid comes into the funds as income on the day paid), or withdrawn."""

    permission = "giftaid.view"
    permissions = {
        "create": "giftaid.manage",
        **GIFT_AID_CLAIM_FLOW.action_permissions("submit", "pay", "withdraw"),
    }
    serializer_class = s.GiftAidClaimSerializer
    filterset_fields = ["status"]
    ordering_fields = ["prepared_on", "id"]

    def get_queryset(self) -> QuerySet[GiftAidClaim]:
        return (
            gift_aid_claims_visible_to(self.request.user)
            .select_related("prepared_by", "submitted_by", "paid_by")
            .prefetch_related("items__donation", "adjustments__donation")
            .order_by("-prepared_on", "-pk")
        )

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=s.GiftAidPrepareSerializer,
        responses={201: s.GiftAidClaimSerializer, **CLAIM_REFUSALS},
    )
    @idempotent
    def create(self, request: Request, *args, **kwargs) -> Response:
        """Prepare a claim."""
        body = s.GiftAidPrepareSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        claim = gift_aid.gift_aid_claim_prepare(actor=request.user, **body.validated_data)
        return Response(self.fresh(claim.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.GiftAidSubmitSerializer, responses={200: s.GiftAidClaimSerializer, **CLAIM_REFUSALS}
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        """The claim went to HMRC: its reference."""
        claim = self.get_object()
        body = s.GiftAidSubmitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        gift_aid.gift_aid_claim_submit(claim=claim, actor=request.user, **body.validated_data)
        return Response(self.fresh(claim.pk))

    @extend_schema(
        request=s.GiftAidPaidSerializer, responses={200: s.GiftAidClaimSerializer, **CLAIM_REFUSALS}
    )
    @action(detail=True, methods=["post"])
    def pay(self, request: Request, pk: str | None = None) -> Response:
        """HMRC paid: the Gift Aid becomes income in each fund on ``paid_on``."""
        claim = self.get_object()
        body = s.GiftAidPaidSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        gift_aid.gift_aid_claim_paid(claim=claim, actor=request.user, **body.validated_data)
        return Response(self.fresh(claim.pk))

    @extend_schema(
        request=s.GiftAidWithdrawSerializer, responses={200: s.GiftAidClaimSerializer, **CLAIM_REFUSALS}
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        """A prepared claim is not going to HMRC: its donations are free again."""
        claim = self.get_object()
        body = s.GiftAidWithdrawSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        gift_aid.gift_aid_claim_withdraw(claim=claim, actor=request.user, **body.validated_data)
        return Response(self.fresh(claim.pk))
