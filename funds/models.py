"""Funds and their append-only ledger.

Sign convention: every ledger amount is a positive number of pence; the entry's ``kind`` gives its
direction. Income adds to the balance and spend takes from it; a commitment adds to what is
committed and a commitment release takes it back off; a reversal undoes exactly the entry it
``reverses`` (same amount, opposite effect). See ``funds.services.ledger`` for the position formulas.
"""

from datetime import date, datetime

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from support.models.schools import School


class LedgerImmutableError(Exception):
    """Raised on any attempt to change or delete a ledger entry or a donation."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):  # type: ignore[override]
        raise LedgerImmutableError(f"{self.model._meta.verbose_name_plural} cannot be changed.")

    def delete(self):  # type: ignore[override]
        raise LedgerImmutableError(f"{self.model._meta.verbose_name_plural} cannot be deleted.")

    def bulk_update(self, *args, **kwargs):  # type: ignore[override]
        raise LedgerImmutableError(f"{self.model._meta.verbose_name_plural} cannot be changed.")


class AppendOnlyModel(models.Model):
    """Rows are inserted once. Database triggers (migration 0005) refuse UPDATE and DELETE as well."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise LedgerImmutableError(f"A {self._meta.verbose_name} cannot be changed once recorded.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[override]
        raise LedgerImmutableError(f"A {self._meta.verbose_name} cannot be deleted.")


class Fund(models.Model):
    """A pot of money: the standby fund, or e.g. one school's hardship budget.

    The row is also the lock that serialises spend against the fund (``select_for_update``).
    """

    name = models.CharField(max_length=120, unique=True)
    school = models.ForeignKey(
        School,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="funds",
        help_text="Set for a school's own budget; empty for a trust-wide fund.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Donation(AppendOnlyModel):
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="donations")
    donor = models.CharField(max_length=200)
    amount_pence = models.BigIntegerField()
    received_on = models.DateField()
    # Gift Aid is asked for on this gift: the donor's own money, nothing in return. It is claimed only
    # while a Gift Aid declaration covers the donor and the day (``funds.services.gift_aid``).
    gift_aid = models.BooleanField(default=False)
    # Sponsorship of a charity event (HMRC's schedule says so per row). Empty on donations recorded
    # before it was asked: read as "no". Nullable so that adding it never rebuilds the append-only table.
    sponsored = models.BooleanField(null=True, blank=True)
    restricted_purpose = models.TextField(blank=True)
    pledge = models.ForeignKey(
        "Pledge", null=True, blank=True, on_delete=models.PROTECT, related_name="donations"
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_pence__gt=0), name="donation_amount_positive"),
        ]

    def __str__(self) -> str:
        from support.money import pounds

        return f"{self.donor} {pounds(self.amount_pence)} on {self.received_on:%Y-%m-%d}"


class LedgerEntry(AppendOnlyModel):
    class Kind(models.TextChoices):
        INCOME = "income", "Income"
        COMMITMENT = "commitment", "Commitment"
        COMMITMENT_RELEASE = "commitment_release", "Commitment released"
        SPEND = "spend", "Spend"
        REVERSAL = "reversal", "Reversal"

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount_pence = models.BigIntegerField(help_text="Always positive; the kind gives the direction.")
    # What the money is for (a donation, a voucher, a gift, a request): generic, so that the core
    # never imports a feature app.
    source_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_id = models.CharField(max_length=64, blank=True)
    school = models.ForeignKey(School, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=60, blank=True, help_text='e.g. "voucher:food_parcel", "coat".')
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    note = models.TextField(blank=True)
    override_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # When the money moved (a donation received, a voucher issued or redeemed, goods handed over, an
    # approval), in the trust's calendar; reports, filters and the running balance go by it.
    # ``created_at`` is when the entry was recorded.
    occurred_on = models.DateField(help_text="The day it happened (the trust's time zone).")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "ledger entries"
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["source_type", "source_id"], name="ledger_source"),
            models.Index(fields=["fund", "kind"], name="ledger_fund_kind"),
            # The ledger in the order money moved: date and month filters, and the running balance's
            # window (ORDER BY occurred_on, id) read from the index instead of sorting the fund's entries.
            models.Index(fields=["fund", "occurred_on", "id"], name="ledger_fund_occurred"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_pence__gt=0), name="ledger_amount_positive"),
            models.CheckConstraint(
                condition=Q(kind="reversal", reverses__isnull=False)
                | (~Q(kind="reversal") & Q(reverses=None)),
                name="ledger_reversal_iff_reverses",
            ),
        ]

    def __str__(self) -> str:
        from support.money import pounds

        return f"#{self.pk} {self.get_kind_display()} {pounds(self.amount_pence)} ({self.fund_id})"

    @property
    def is_back_dated(self) -> bool:
        """Recorded in a later month than it happened (a donation typed in weeks after it arrived)."""
        return is_back_dated(self.occurred_on, self.created_at)


def is_back_dated(occurred_on: date, created_at: datetime) -> bool:
    """True when ``occurred_on`` falls in an earlier month than the local day ``created_at`` was recorded."""
    recorded = timezone.localdate(created_at)
    return (occurred_on.year, occurred_on.month) < (recorded.year, recorded.month)


class FundCheckpoint(AppendOnlyModel):
    """A fund's ledger totals up to and including one entry, so its position sums only the entries since.

    Written by ``funds.services.ledger.fund_checkpoint`` (nightly, Celery beat) for entries old enough that no
    transaction can still be adding one below them; append-only like the ledger it summarises.
    """

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="checkpoints")
    up_to_entry_id = models.BigIntegerField(help_text="The last ledger entry these totals include.")
    income_pence = models.BigIntegerField()
    spent_pence = models.BigIntegerField()
    committed_pence = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["fund", "-up_to_entry_id"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "up_to_entry_id"], name="fund_checkpoint_once"),
        ]

    def __str__(self) -> str:
        return f"{self.fund} to entry #{self.up_to_entry_id}"


class FundCheckpointMonth(AppendOnlyModel):
    """The entries one checkpoint added (those after the fund's previous checkpoint, up to its own entry),
    summed per month they happened in, kind, school and category, so that a period's figures at month
    boundaries are these sums plus the entries after the latest checkpoint (``funds.selectors.positions.
    boundary_sums``), not a pass over the fund's whole ledger. A reversal's row carries the kind of the
    entry it reverses. Written with its checkpoint; append-only like it."""

    checkpoint = models.ForeignKey(FundCheckpoint, on_delete=models.PROTECT, related_name="months")
    month = models.DateField(help_text="The first day of the month the entries happened in.")
    kind = models.CharField(max_length=20, choices=LedgerEntry.Kind.choices)
    reversed_kind = models.CharField(
        max_length=20, blank=True, choices=LedgerEntry.Kind.choices, help_text="A reversal's: what it undoes."
    )
    school = models.ForeignKey(School, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=60, blank=True)
    amount_pence = models.BigIntegerField()

    class Meta:
        ordering = ["checkpoint", "month", "kind", "pk"]

    def __str__(self) -> str:
        return f"{self.checkpoint}: {self.kind} in {self.month:%B %Y}"


class Pledge(models.Model):
    """A promise of regular giving, such as a trustee's £10,000 a year. Donations recorded against it
    move ``next_due`` on; a pledge past due with nothing received reminds finance."""

    class Frequency(models.TextChoices):
        ANNUAL = "annual", "Every year"
        MONTHLY = "monthly", "Every month"

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="pledges")
    donor = models.CharField(max_length=200)
    amount_pence = models.BigIntegerField()
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.ANNUAL)
    next_due = models.DateField(help_text="When the next payment is expected.")
    gift_aid = models.BooleanField(default=False)
    restricted_purpose = models.CharField(max_length=60, blank=True)
    is_active = models.BooleanField(default=True)
    last_reminded_for = models.DateField(
        null=True, blank=True, help_text="The due date finance was last reminded about."
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["next_due", "donor"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_pence__gt=0), name="pledge_amount_positive"),
        ]

    def __str__(self) -> str:
        from support.money import pounds

        return f"{self.donor}: {pounds(self.amount_pence)} {self.get_frequency_display().lower()}"


class FundAllocation(models.Model):
    """How much of a fund a school may spend in one financial year (1 September to 31 August)."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="allocations")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="fund_allocations")
    financial_year = models.PositiveSmallIntegerField(help_text="The year it starts, e.g. 2026 for 2026–27.")
    amount_pence = models.BigIntegerField()

    class Meta:
        ordering = ["fund", "financial_year", "school__name"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "school", "financial_year"], name="allocation_once"),
            models.CheckConstraint(condition=Q(amount_pence__gte=0), name="allocation_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.school} {self.financial_year}: {self.amount_pence}p of {self.fund}"


class SpendRequest(models.Model):
    """Spend above the policy threshold waiting for finance. The thing asked for (a coat request, say)
    is its ``source``; the money is committed only when the last approval is given.

    One approver above ``Policy.approval_threshold_pence``; above ``Policy.second_approval_threshold_pence``
    two different finance approvers.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for finance"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        CHANGES = "changes", "Sent back for changes"
        WITHDRAWN = "withdrawn", "Withdrawn"

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="spend_requests")
    source_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    source_id = models.CharField(max_length=64)
    school = models.ForeignKey(School, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=60)
    amount_pence = models.BigIntegerField()
    summary = models.CharField(max_length=200, help_text="What is asked for.")
    reason = models.TextField(max_length=2000, help_text="Why it is needed.")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    approvals_needed = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    first_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    first_approved_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, max_length=2000)
    override_reason = models.TextField(blank=True, max_length=2000)
    commitment = models.ForeignKey(
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["requested_at", "pk"]
        indexes = [models.Index(fields=["source_type", "source_id"], name="spend_request_source")]
        constraints = [
            models.CheckConstraint(condition=Q(amount_pence__gt=0), name="spend_request_amount_positive"),
            models.CheckConstraint(condition=Q(approvals_needed__in=[1, 2]), name="spend_request_approvals"),
            # Two approvals means two people.
            models.CheckConstraint(
                condition=~Q(status="approved", approvals_needed=2)
                | (Q(first_approved_by__isnull=False) & ~Q(first_approved_by=models.F("decided_by"))),
                name="spend_request_two_approvers",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["rejected", "changes"]) | ~Q(decision_note=""),
                name="spend_request_refusal_has_note",
            ),
            # At most one open request per thing asked for.
            models.UniqueConstraint(
                fields=["source_type", "source_id"],
                condition=Q(status="pending"),
                name="spend_request_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.summary} ({self.get_status_display()})"


# --- Gift Aid --------------------------------------------------------------------------------------


class GiftAidDeclaration(models.Model):
    """A donor's Gift Aid declaration, as HMRC requires it kept: who (name and home address), when, and
    which gifts it covers: the four years before ``declared_on`` (``covers_past``), ``declared_on`` itself,
    and from then on (``covers_future``) until ``cancelled_on``.

    ``donor`` is the name the donor's donations and pledges are recorded under; ``covers_from`` and
    ``covers_to`` (empty: no end) are the span it was made for, kept so a query can match donations.
    Personal data: finance only; anonymised by retention (``anonymised_at``).
    """

    donor = models.CharField(max_length=200, db_index=True, help_text="As the donor's donations name them.")
    title = models.CharField(max_length=4, blank=True)
    first_name = models.CharField(max_length=35)
    last_name = models.CharField(max_length=35)
    house = models.CharField("house name or number", max_length=40)
    address = models.TextField("home address", max_length=500)
    postcode = models.CharField(max_length=8)
    declared_on = models.DateField(help_text="The date on the declaration.")
    covers_past = models.BooleanField(help_text="Covers gifts in the four years before the declaration.")
    covers_future = models.BooleanField(help_text="Covers gifts from the declaration on, until cancelled.")
    covers_from = models.DateField()
    covers_to = models.DateField(null=True, blank=True)
    cancelled_on = models.DateField(
        null=True, blank=True, help_text="Gifts on or after this day are not covered."
    )
    cancel_reason = models.TextField(blank=True, max_length=500)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["donor", "-declared_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(covers_to__isnull=True) | Q(covers_to__gte=models.F("covers_from")),
                name="gift_aid_declaration_span",
            ),
            models.CheckConstraint(
                condition=Q(cancelled_on__isnull=True) | Q(cancelled_on__gte=models.F("declared_on")),
                name="gift_aid_declaration_cancelled_after",
            ),
        ]

    def __str__(self) -> str:
        return f"Gift Aid declaration: {self.donor} ({self.declared_on:%-d %B %Y})"

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_on is not None

    def covers(self, day: date) -> bool:
        """The declaration covers a gift received on ``day``."""
        if self.anonymised_at is not None or (self.cancelled_on is not None and day >= self.cancelled_on):
            return False
        return self.covers_from <= day and (self.covers_to is None or day <= self.covers_to)


class GiftAidClaim(models.Model):
    """A batch of donations claimed from HMRC in one schedule: prepared, submitted (HMRC's reference),
    paid (the Gift Aid then comes into each fund as income on the day HMRC paid). A prepared claim may be
    withdrawn, which frees its donations for another."""

    class Status(models.TextChoices):
        PREPARED = "prepared", "Prepared"
        SUBMITTED = "submitted", "Submitted to HMRC"
        PAID = "paid", "Paid by HMRC"
        WITHDRAWN = "withdrawn", "Withdrawn"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREPARED, db_index=True)
    prepared_on = models.DateField()
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    donations_pence = models.BigIntegerField(help_text="The donations claimed on.")
    gift_aid_pence = models.BigIntegerField(help_text="25p for every £1 claimed on.")
    adjustment_pence = models.BigIntegerField(
        default=0,
        help_text="Gift Aid overclaimed on earlier claims (their gifts since reversed), deducted from this "
        'claim: HMRC\'s "Adjustment for Gift Aid overclaimed".',
    )
    submitted_on = models.DateField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    hmrc_reference = models.CharField(max_length=40, blank=True)
    paid_on = models.DateField(null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_reason = models.TextField(blank=True, max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-prepared_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(donations_pence__gt=0), name="gift_aid_claim_positive"),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_on__isnull=False), name="gift_aid_claim_paid_on"
            ),
            models.CheckConstraint(
                condition=Q(adjustment_pence__gte=0, adjustment_pence__lte=F("gift_aid_pence")),
                name="gift_aid_claim_adjustment_within",
            ),
        ]

    def __str__(self) -> str:
        return f"Gift Aid claim {self.pk} ({self.get_status_display()})"

    @property
    def net_pence(self) -> int:
        """What HMRC pays on this claim: its Gift Aid less the adjustment."""
        return self.gift_aid_pence - self.adjustment_pence


class GiftAidClaimItem(models.Model):
    """One donation in a claim (one row of HMRC's schedule), with the declaration that covered it."""

    claim = models.ForeignKey(GiftAidClaim, on_delete=models.PROTECT, related_name="items")
    donation = models.ForeignKey(Donation, on_delete=models.PROTECT, related_name="gift_aid_items")
    declaration = models.ForeignKey(GiftAidDeclaration, on_delete=models.PROTECT, related_name="claim_items")
    amount_pence = models.BigIntegerField()
    gift_aid_pence = models.BigIntegerField()
    released = models.BooleanField(default=False, help_text="Its claim was withdrawn before submission.")
    # Its gift was reversed after the claim went to HMRC: the later claim that gave its Gift Aid back.
    adjusted_in = models.ForeignKey(
        GiftAidClaim, null=True, blank=True, on_delete=models.PROTECT, related_name="adjustments"
    )

    class Meta:
        ordering = ["claim", "donation__received_on", "donation_id"]
        constraints = [
            # Each donation is claimed once: only a withdrawn claim's rows are released.
            models.UniqueConstraint(
                fields=["donation"], condition=Q(released=False), name="gift_aid_donation_claimed_once"
            ),
        ]

    def __str__(self) -> str:
        return f"Donation {self.donation_id} in claim {self.claim_id}"
