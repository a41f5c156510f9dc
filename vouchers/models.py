"""Voucher types, vouchers and their redemption."""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from support.models import Family, PartnerCharity, School, Service
from vouchers import codes


class VoucherType(models.Model):
    """What a voucher buys at which partner: a service, its face value and how long it is valid."""

    partner = models.ForeignKey(PartnerCharity, on_delete=models.PROTECT, related_name="voucher_types")
    service = models.CharField(max_length=20, choices=Service.choices)
    name = models.CharField(max_length=100, help_text="As printed, e.g. 'Food parcel'.")
    face_value_pence = models.PositiveIntegerField(help_text="What the fund pays the partner, in pence.")
    validity_days = models.PositiveSmallIntegerField(default=28)
    fund = models.ForeignKey(
        "funds.Fund",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The fund that pays for these vouchers: issuing commits the face value, redeeming spends "
        "it. Blank when no fund pays (the charity gives it from its own stock).",
    )
    limit_count = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Vouchers per family in the window; blank uses the trust policy."
    )
    limit_window_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The rolling window in days; blank uses the trust policy."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["partner__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "service"], name="voucher_type_per_service")
        ]

    def __str__(self) -> str:
        return f"{self.name} at {self.partner}"


class ReferralReason(models.TextChoices):
    INCOME_DROP = "income_drop", "Sudden drop in income"
    BENEFITS = "benefits", "Benefit delay or change"
    DEBT = "debt", "Debt"
    LOW_INCOME = "low_income", "Low income"
    HOUSING = "housing", "Housing problem or homelessness"
    HEALTH = "health", "Illness or disability"
    DOMESTIC_ABUSE = "domestic_abuse", "Domestic abuse"
    BEREAVEMENT = "bereavement", "Bereavement"
    OTHER = "other", "Other"


# Decided with the partners (issue 13): a voucher the trust has given a family is honoured for what it
# says until its use-by date, even if the charity stops offering the service meanwhile; only new vouchers
# stop. Printed on every voucher (templates/vouchers/pdf/voucher.html) and told at the counter.
SERVICE_STOPPED_RULE = "It is honoured until that date even if the charity stops offering this service."


class Fulfilment(models.TextChoices):
    COLLECTION = "collection", "Collection from the charity"
    DELIVERY = "delivery", "Delivery to the family"


class Delivery(models.TextChoices):
    """How the family gets its voucher, chosen by staff at issue."""

    PRINT = "print", "Printed, for staff to hand over"
    EMAIL = "email", "E-mail"
    SMS = "sms", "Text message"


def new_public_token() -> str:
    return secrets.token_urlsafe(24)


class Voucher(models.Model):
    """A voucher a school gave a family for a partner's service.

    State moves only issued → redeemed | cancelled | expired, always by a conditional update in a
    service (never read-modify-write), so a voucher is redeemed exactly once. The family details a
    voucher shows are copied at issue: lead carer's name, household size, dietary needs. Nothing else.
    """

    class State(models.TextChoices):
        ISSUED = "issued", "Issued"
        REDEEMED = "redeemed", "Redeemed"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    code = models.CharField(max_length=codes.CODE_LENGTH, unique=True, editable=False)
    # The family's e-voucher link: unguessable, and not the code, so the link alone cannot be typed in.
    public_token = models.CharField(max_length=40, unique=True, default=new_public_token, editable=False)
    voucher_type = models.ForeignKey(VoucherType, on_delete=models.PROTECT, related_name="vouchers")
    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="vouchers")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="vouchers")
    state = models.CharField(max_length=10, choices=State.choices, default=State.ISSUED, db_index=True)
    face_value_pence = models.PositiveIntegerField()
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(auto_now_add=True, db_index=True)
    expires_on = models.DateField(db_index=True)
    referral_reason = models.CharField(max_length=20, choices=ReferralReason.choices)
    referral_other = models.CharField(max_length=200, blank=True)
    lead_carer_name = models.CharField(max_length=120)
    household_size = models.PositiveSmallIntegerField()
    dietary_needs = models.CharField(max_length=200, blank=True)
    fulfilment = models.CharField(max_length=12, choices=Fulfilment.choices, default=Fulfilment.COLLECTION)
    delivery = models.CharField(
        max_length=5,
        choices=Delivery.choices,
        default=Delivery.PRINT,
        help_text="How staff chose that the family gets it. Only e-mail and text send anything.",
    )
    note_for_charity = models.CharField(max_length=300, blank=True)
    limit_override_reason = models.CharField(max_length=300, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancel_reason = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-issued_at", "-pk"]
        indexes = [
            models.Index(fields=["family", "voucher_type", "issued_at"], name="voucher_limit_window"),
            # A year's vouchers read from the index alone (PostgreSQL; elsewhere a plain index on
            # issued_at): the impact report's support events and voucher figures (bench/impact.py).
            models.Index(
                fields=["issued_at"],
                include=["state", "school", "family", "voucher_type", "id"],
                name="voucher_issued_covering",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(household_size__gte=1), name="voucher_household_size"),
            models.CheckConstraint(
                condition=Q(state="cancelled", cancelled_at__isnull=False) | ~Q(state="cancelled"),
                name="voucher_cancel_dated",
            ),
        ]

    def __str__(self) -> str:
        return codes.display(self.code)

    @property
    def display_code(self) -> str:
        return codes.display(self.code)

    @property
    def is_valid(self) -> bool:
        from django.utils import timezone

        return self.state == self.State.ISSUED and self.expires_on >= timezone.localdate()


class VoucherSend(models.Model):
    """One message to a family about a voucher: the voucher itself, or word that it was cancelled.

    Made in the transaction that asks for it (queued). The task that sends it first claims it by its key
    with a conditional update (queued → sending), so a redelivered task never sends the same message
    twice; one that died mid-send stays "sending" and is never retried by itself.
    """

    class Kind(models.TextChoices):
        VOUCHER = "voucher", "The voucher"
        CANCELLED = "cancelled", "Cancelled: it can no longer be used"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to send"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Not sent"

    CHANNELS = [(Delivery.EMAIL.value, "E-mail"), (Delivery.SMS.value, "Text message")]

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="sends")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.VOUCHER)
    channel = models.CharField(max_length=5, choices=CHANNELS)
    address = models.CharField(max_length=254, help_text="The e-mail address or phone number, as sent to.")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    sent_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True, help_text="Why it was not sent, when it was not.")

    class Meta:
        ordering = ["requested_at", "pk"]

    def __str__(self) -> str:
        how = self.get_channel_display().lower()
        return f"{self.get_kind_display()} by {how} ({self.get_status_display()})"


# The most a charity may record as the value given at one redemption: the web and the API alike.
MAX_VALUE_GIVEN_PENCE = 100_000_00


class Redemption(models.Model):
    """The one redemption of a voucher (the one-to-one is the database's guarantee of 'exactly once')."""

    voucher = models.OneToOneField(Voucher, on_delete=models.PROTECT, related_name="redemption")
    partner = models.ForeignKey(PartnerCharity, on_delete=models.PROTECT, related_name="redemptions")
    redeemed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    redeemed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    items_given = models.CharField(max_length=300, blank=True)
    value_pence = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-redeemed_at", "-pk"]
        indexes = [models.Index(fields=["partner", "redeemed_at"], name="redemption_partner_month")]

    def __str__(self) -> str:
        return f"{self.voucher} redeemed {self.redeemed_at:%Y-%m-%d}"


class PartnerStatement(models.Model):
    """One partner's statement for one calendar month, made once the month is over and then final.

    The PDF is kept as it was made (what the charity was sent is what finance sees later), with its
    totals beside it for lists. The current month is only ever previewed, never stored.
    """

    partner = models.ForeignKey(PartnerCharity, on_delete=models.PROTECT, related_name="statements")
    month = models.DateField(help_text="The first day of the month the statement covers.")
    voucher_count = models.PositiveIntegerField()
    face_value_pence = models.PositiveBigIntegerField()
    value_given_pence = models.PositiveBigIntegerField(
        help_text="What the charity recorded giving, where it recorded it."
    )
    expired_count = models.PositiveIntegerField()
    cancelled_count = models.PositiveIntegerField()
    pdf = models.BinaryField(editable=False)
    generated_at = models.DateTimeField()
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-month", "partner__name"]
        constraints = [models.UniqueConstraint(fields=["partner", "month"], name="statement_once_a_month")]

    def __str__(self) -> str:
        return f"{self.partner} statement for {self.month:%B %Y}"
