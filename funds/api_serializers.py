"""What the finance API reads and writes. Amounts are integer pence; signed figures say so in their name.

Output serializers read attributes the viewsets attach to a page of objects in bounded queries
(``position``, ``source_info``, ``fund_available``); the input serializers only shape a request for a
service, which holds the rules and their messages.
"""

import datetime

from django.utils import timezone
from rest_framework import serializers

from funds.models import (
    Donation,
    Fund,
    GiftAidClaim,
    GiftAidClaimItem,
    GiftAidDeclaration,
    LedgerEntry,
    Pledge,
    SpendRequest,
)
from funds.selectors import funds_visible_to, pledges_visible_to
from funds.selectors.gift_aid import gift_aid_state
from funds.selectors.ledger import kind_label
from funds.services.ledger import REVERSIBLE, SPEND_CATEGORIES, category_label
from funds.services.pledges import pledge_status
from support.api.fields import BoundedDateField, PenceField
from support.api.visibility import VisibleFieldsMixin

PURPOSES = [("", "Unrestricted"), *((key, category_label(key)) for key in SPEND_CATEGORIES)]


def _user_field(source: str) -> serializers.CharField:
    return serializers.CharField(
        source=f"{source}.username", read_only=True, allow_null=True, default=None, help_text="Username"
    )


# --- Funds and their positions --------------------------------------------------------------------


class PositionSerializer(serializers.Serializer):
    """A fund's position (``funds.selectors.positions.FundPosition``): balance = income − spent; available =
    balance − committed."""

    income_pence = serializers.IntegerField()
    spent_pence = serializers.IntegerField()
    committed_pence = serializers.IntegerField()
    balance_pence = serializers.IntegerField()
    available_pence = serializers.IntegerField()


class FundSerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    school_name = serializers.CharField(source="school.name", read_only=True, allow_null=True, default=None)
    position = PositionSerializer(read_only=True, help_text="Now, over the fund's whole ledger")

    class Meta:
        model = Fund
        fields = ["id", "name", "school", "school_name", "is_active", "created_at", "position"]
        read_only_fields = fields


# --- Ledger entries -------------------------------------------------------------------------------


class SourceFactSerializer(serializers.Serializer):
    label = serializers.CharField()
    value = serializers.CharField()


class SourceSerializer(serializers.Serializer):
    """What is behind an entry or a request, as the owning app describes it for finance."""

    type = serializers.CharField(help_text='"app_label.model", e.g. "vouchers.voucher"')
    id = serializers.CharField()
    title = serializers.CharField()
    facts = SourceFactSerializer(many=True)


class LedgerEntrySerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=LedgerEntry.Kind.choices, read_only=True)
    fund_name = serializers.CharField(source="fund.name", read_only=True)
    kind_label = serializers.SerializerMethodField()
    balance_effect_pence = serializers.IntegerField(
        source="amount", read_only=True, help_text="Signed: what the entry does to the balance"
    )
    committed_effect_pence = serializers.IntegerField(
        source="committed", read_only=True, help_text="Signed: what the entry does to the money committed"
    )
    category_label = serializers.SerializerMethodField()
    school_name = serializers.CharField(source="school.name", read_only=True, allow_null=True, default=None)
    created_by = _user_field("created_by")
    reverses_kind = serializers.CharField(
        read_only=True, allow_null=True, help_text="For a reversal, the kind of the entry it reverses"
    )
    reversed_by = serializers.IntegerField(
        source="reversal_id", read_only=True, allow_null=True, help_text="The reversal that undid it"
    )
    reversible = serializers.SerializerMethodField()
    source = SourceSerializer(source="source_info", read_only=True, allow_null=True)
    back_dated = serializers.BooleanField(
        source="is_back_dated", read_only=True, help_text="Recorded in a later month than it happened"
    )

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "fund",
            "fund_name",
            "kind",
            "kind_label",
            "amount_pence",
            "balance_effect_pence",
            "committed_effect_pence",
            "category",
            "category_label",
            "school",
            "school_name",
            "note",
            "override_reason",
            "occurred_on",
            "back_dated",
            "created_at",
            "created_by",
            "reverses",
            "reverses_kind",
            "reversed_by",
            "reversible",
            "source",
        ]
        read_only_fields = fields

    def get_kind_label(self, entry: LedgerEntry) -> str:
        return kind_label(entry.kind, entry.reverses_kind)

    def get_category_label(self, entry: LedgerEntry) -> str:
        return category_label(entry.category) if entry.category else ""

    def get_reversible(self, entry: LedgerEntry) -> bool:
        """Income or spend not yet reversed: finance may reverse it."""
        return entry.kind in REVERSIBLE and entry.reversal_id is None


class ReverseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, allow_blank=True, help_text="Recorded on the reversal")


# --- Donations and pledges ------------------------------------------------------------------------


class DonationSerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    fund_name = serializers.CharField(source="fund.name", read_only=True)
    restricted_purpose_label = serializers.SerializerMethodField()
    recorded_by = _user_field("recorded_by")
    entry = serializers.IntegerField(
        source="entry_id", read_only=True, allow_null=True, help_text="The donation's income ledger entry"
    )
    is_reversed = serializers.BooleanField(
        read_only=True, help_text="Its income entry was reversed (recorded in error): left out of totals"
    )
    gift_aid_state = serializers.SerializerMethodField(
        help_text="not_asked; no_declaration (asked, but no declaration covers it); claimable; claimed"
    )

    class Meta:
        model = Donation
        fields = [
            "id",
            "fund",
            "fund_name",
            "donor",
            "amount_pence",
            "received_on",
            "gift_aid",
            "gift_aid_state",
            "sponsored",
            "restricted_purpose",
            "restricted_purpose_label",
            "pledge",
            "recorded_by",
            "created_at",
            "entry",
            "is_reversed",
        ]
        read_only_fields = fields

    def get_restricted_purpose_label(self, donation: Donation) -> str:
        return category_label(donation.restricted_purpose) if donation.restricted_purpose else ""

    def get_gift_aid_state(self, donation: Donation) -> str:
        return gift_aid_state(donation)


class _ScopedFundMixin(serializers.Serializer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")  # absent while the OpenAPI schema is generated
        self.fields["fund"].queryset = funds_visible_to(request.user if request is not None else None)


class DonationCreateSerializer(_ScopedFundMixin):
    fund = serializers.PrimaryKeyRelatedField(queryset=Fund.objects.none())
    donor = serializers.CharField(max_length=200, allow_blank=True)
    amount_pence = PenceField(help_text="Positive, in pence")
    received_on = BoundedDateField()
    gift_aid = serializers.BooleanField(
        default=False,
        help_text="Claim Gift Aid on it (the donor's own money, nothing in return): claimed while a "
        "declaration from the donor covers the day it was received",
    )
    sponsored = serializers.BooleanField(default=False, help_text="Sponsorship of a charity event")
    restricted_purpose = serializers.ChoiceField(
        choices=PURPOSES,
        allow_blank=True,
        default="",
        help_text="What the donor asked it to pay for, if anything",
    )
    pledge = serializers.PrimaryKeyRelatedField(
        queryset=Pledge.objects.none(),
        required=False,
        allow_null=True,
        default=None,
        help_text="The pledge this payment is for: its next due date moves on",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        self.fields["pledge"].queryset = pledges_visible_to(request.user if request is not None else None)


class PledgeSerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    fund_name = serializers.CharField(source="fund.name", read_only=True)
    last_received = serializers.DateField(
        read_only=True, allow_null=True, help_text="The latest donation recorded against it"
    )
    status = serializers.SerializerMethodField(
        help_text="stopped, overdue, due_soon, received (this period) or upcoming"
    )

    class Meta:
        model = Pledge
        fields = [
            "id",
            "fund",
            "fund_name",
            "donor",
            "amount_pence",
            "frequency",
            "next_due",
            "gift_aid",
            "restricted_purpose",
            "is_active",
            "last_received",
            "status",
            "created_at",
        ]
        read_only_fields = fields

    def get_status(self, pledge: Pledge) -> str:
        today: datetime.date = self.context.get("today") or timezone.localdate()
        return pledge_status(pledge, today=today).key


class PledgeCreateSerializer(_ScopedFundMixin):
    fund = serializers.PrimaryKeyRelatedField(queryset=Fund.objects.none())
    donor = serializers.CharField(max_length=200, allow_blank=True)
    amount_pence = PenceField(help_text="Each payment, in pence")
    frequency = serializers.ChoiceField(choices=Pledge.Frequency.choices)
    next_due = BoundedDateField(help_text="When the first (or next) payment is expected")
    gift_aid = serializers.BooleanField(default=False)
    restricted_purpose = serializers.ChoiceField(choices=PURPOSES, allow_blank=True, default="")


# --- Spend requests -------------------------------------------------------------------------------


class SpendRequestSerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    fund_name = serializers.CharField(source="fund.name", read_only=True)
    school_name = serializers.CharField(source="school.name", read_only=True, allow_null=True, default=None)
    category_label = serializers.SerializerMethodField()
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    requested_by = _user_field("requested_by")
    first_approved_by = _user_field("first_approved_by")
    decided_by = _user_field("decided_by")
    waiting_for_second_approval = serializers.SerializerMethodField()
    fund_available_pence = serializers.IntegerField(
        source="fund_available", read_only=True, help_text="What the fund has available now"
    )
    available_after_pence = serializers.SerializerMethodField(
        help_text="What the fund would have available once this is approved (waiting requests only)"
    )
    source = SourceSerializer(source="source_info", read_only=True, allow_null=True)

    class Meta:
        model = SpendRequest
        fields = [
            "id",
            "fund",
            "fund_name",
            "school",
            "school_name",
            "category",
            "category_label",
            "amount_pence",
            "summary",
            "reason",
            "status",
            "status_label",
            "requested_by",
            "requested_at",
            "approvals_needed",
            "first_approved_by",
            "first_approved_at",
            "waiting_for_second_approval",
            "decided_by",
            "decided_at",
            "decision_note",
            "override_reason",
            "commitment",
            "fund_available_pence",
            "available_after_pence",
            "source",
        ]
        read_only_fields = fields

    def get_category_label(self, spend_request: SpendRequest) -> str:
        return category_label(spend_request.category)

    def get_waiting_for_second_approval(self, spend_request: SpendRequest) -> bool:
        return (
            spend_request.status == SpendRequest.Status.PENDING
            and spend_request.approvals_needed == 2
            and spend_request.first_approved_by_id is not None
        )

    def get_available_after_pence(self, spend_request: SpendRequest) -> int | None:
        if spend_request.status != SpendRequest.Status.PENDING:
            return None
        return spend_request.fund_available - spend_request.amount_pence


class ApproveSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    override_reason = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        default="",
        help_text="Only when the fund does not have enough available: recorded on the ledger",
    )


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=1000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required: the school reads it",
    )


# --- The year summary -----------------------------------------------------------------------------


class FlowsSerializer(serializers.Serializer):
    income_pence = serializers.IntegerField()
    spent_pence = serializers.IntegerField()
    committed_pence = serializers.IntegerField(help_text="Commitments made")
    released_pence = serializers.IntegerField(help_text="Commitments given back: released, or made actual")


class MonthSerializer(serializers.Serializer):
    month = serializers.CharField(source="key", help_text='"2026-09"')
    flows = FlowsSerializer()
    closing = PositionSerializer(allow_null=True, help_text="At the month's end; null before it starts")


class SchoolFiguresSerializer(serializers.Serializer):
    school = serializers.IntegerField(source="school_id", allow_null=True, help_text="null: trust-wide")
    name = serializers.CharField()
    spent_pence = serializers.IntegerField()
    committed_pence = serializers.IntegerField()
    total_pence = serializers.IntegerField()
    allocation_pence = serializers.IntegerField(allow_null=True)
    remaining_pence = serializers.IntegerField(allow_null=True)
    over_allocation = serializers.BooleanField()


class CategoryFiguresSerializer(serializers.Serializer):
    key = serializers.CharField(help_text='e.g. "coat", "voucher:food_parcel"')
    label = serializers.CharField()
    spent_pence = serializers.IntegerField()
    committed_pence = serializers.IntegerField()
    total_pence = serializers.IntegerField()


class CategoryGroupSerializer(CategoryFiguresSerializer):
    rows = CategoryFiguresSerializer(many=True)


class RestrictedSerializer(serializers.Serializer):
    purpose = serializers.CharField()
    label = serializers.CharField()
    received_pence = serializers.IntegerField()
    spent_pence = serializers.IntegerField()
    committed_pence = serializers.IntegerField()
    unspent_pence = serializers.IntegerField()


class OverduePledgeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    donor = serializers.CharField()
    amount_pence = serializers.IntegerField()
    next_due = serializers.DateField()


class FundYearSummarySerializer(serializers.Serializer):
    """``funds.selectors.reports.fund_year_summary``: the dashboard's figures for one financial year."""

    fund = serializers.IntegerField(source="fund.pk")
    fund_name = serializers.CharField(source="fund.name")
    year = serializers.IntegerField(help_text="The start year: 2026 is 1 September 2026 to 31 August 2027")
    label = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    as_at = serializers.DateField(help_text="The end of the year, or today while it runs")
    flows = FlowsSerializer(help_text="The year's money moved")
    opening = PositionSerializer(help_text="At the start of 1 September")
    closing = PositionSerializer(help_text="At the end of as_at")
    position = PositionSerializer(source="now", help_text="Now, over the whole ledger")
    months = MonthSerializer(many=True)
    schools = SchoolFiguresSerializer(many=True)
    categories = CategoryGroupSerializer(many=True)
    restricted = RestrictedSerializer(many=True)
    overdue_pledges = OverduePledgeSerializer(many=True)


class YearQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100, required=False)


# --- Gift Aid -------------------------------------------------------------------------------------


class GiftAidDeclarationSerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    recorded_by = _user_field("recorded_by")
    cancelled_by = _user_field("cancelled_by")

    class Meta:
        model = GiftAidDeclaration
        fields = [
            "id",
            "donor",
            "title",
            "first_name",
            "last_name",
            "house",
            "address",
            "postcode",
            "declared_on",
            "covers_past",
            "covers_future",
            "covers_from",
            "covers_to",
            "cancelled_on",
            "cancel_reason",
            "cancelled_by",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = fields


class GiftAidDeclarationCreateSerializer(serializers.Serializer):
    donor = serializers.CharField(
        max_length=200, help_text="The name the donor's donations are recorded under"
    )
    title = serializers.CharField(max_length=4, allow_blank=True, default="")
    first_name = serializers.CharField(max_length=35, allow_blank=True)
    last_name = serializers.CharField(max_length=35, allow_blank=True)
    house = serializers.CharField(max_length=40, allow_blank=True, help_text="House name or number")
    address = serializers.CharField(max_length=500, allow_blank=True, help_text="Home address")
    postcode = serializers.CharField(max_length=10, allow_blank=True)
    declared_on = BoundedDateField()
    covers_past = serializers.BooleanField(help_text="Covers gifts in the four years before declared_on")
    covers_future = serializers.BooleanField(help_text="Covers gifts from declared_on on, until cancelled")


class GiftAidCancelSerializer(serializers.Serializer):
    cancelled_on = BoundedDateField(help_text="Gifts received on or after this day are not covered")
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class GiftAidClaimItemSerializer(serializers.ModelSerializer):
    donor = serializers.CharField(source="donation.donor", read_only=True)
    received_on = serializers.DateField(source="donation.received_on", read_only=True)
    fund = serializers.IntegerField(source="donation.fund_id", read_only=True)

    class Meta:
        model = GiftAidClaimItem
        fields = [
            "id",
            "claim",
            "donation",
            "declaration",
            "donor",
            "received_on",
            "fund",
            "amount_pence",
            "gift_aid_pence",
        ]
        read_only_fields = fields


class GiftAidClaimSerializer(VisibleFieldsMixin, serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    prepared_by = _user_field("prepared_by")
    submitted_by = _user_field("submitted_by")
    paid_by = _user_field("paid_by")
    items = GiftAidClaimItemSerializer(many=True, read_only=True)
    net_pence = serializers.IntegerField(
        read_only=True, help_text="What HMRC pays: the Gift Aid less the adjustment"
    )
    adjustments = GiftAidClaimItemSerializer(
        many=True,
        read_only=True,
        help_text="Rows of earlier claims, their gifts since reversed, whose Gift Aid this claim gives back",
    )

    class Meta:
        model = GiftAidClaim
        fields = [
            "id",
            "status",
            "status_label",
            "prepared_on",
            "prepared_by",
            "donations_pence",
            "gift_aid_pence",
            "adjustment_pence",
            "net_pence",
            "adjustments",
            "submitted_on",
            "submitted_by",
            "hmrc_reference",
            "paid_on",
            "paid_by",
            "withdrawn_reason",
            "created_at",
            "items",
        ]
        read_only_fields = fields


class GiftAidPrepareSerializer(serializers.Serializer):
    donation_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
        required=False,
        allow_null=True,
        default=None,
        max_length=1000,
        help_text="Exactly these donations (refused whole if any is no longer claimable); "
        "left out: every claimable donation, oldest first, up to 1,000",
    )


class GiftAidSubmitSerializer(serializers.Serializer):
    hmrc_reference = serializers.CharField(max_length=40, allow_blank=True)
    submitted_on = BoundedDateField(required=False, allow_null=True, default=None)


class GiftAidPaidSerializer(serializers.Serializer):
    paid_on = BoundedDateField(help_text="The day HMRC's payment reached the trust's account")


class GiftAidWithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, allow_blank=True)
