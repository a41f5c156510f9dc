"""Uniform items, welcome packs and gifts, stock, and requests for coats, shoes and uniform for need."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from support.models import Pupil, School
from uniform.sizes import size_label


def validate_sizes(value: list) -> None:
    if not isinstance(value, list) or not all(isinstance(size, str) and size.strip() for size in value):
        raise ValidationError("Sizes are a list of names, like ['3-4', '5-6', 'S', 'M'].")
    if len(set(value)) != len(value):
        raise ValidationError("Each size once.")


class ItemKind(models.TextChoices):
    UNIFORM = "uniform", "Uniform"
    COAT = "coat", "Coat"
    SHOES = "shoes", "Shoes"


class Condition(models.TextChoices):
    """What state an item of stock is in: new from the supplier, or donated second-hand."""

    NEW = "new", "New"
    AS_NEW = "as_new", "Second-hand, as new"
    GOOD = "good", "Second-hand, good"
    FAIR = "fair", "Second-hand, worn but usable"


SECONDHAND = (Condition.AS_NEW, Condition.GOOD, Condition.FAIR)  # best first: the order they are offered in
SECONDHAND_CHOICES = [(condition.value, condition.label) for condition in SECONDHAND]


class UniformItem(models.Model):
    """Something a school gives: a jumper, polo, PE kit, book bag, blazer, tie... or a coat or shoes."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="uniform_items")
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=10, choices=ItemKind.choices, default=ItemKind.UNIFORM)
    sizes = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_sizes],
        help_text="The sizes it comes in, in order; empty for one size.",
    )
    unit_cost_pence = models.PositiveIntegerField()
    supplier = models.CharField(max_length=120, blank=True)
    track_stock = models.BooleanField(
        default=True, help_text="Refuse hand-overs that would take stock below zero."
    )
    is_active = models.BooleanField(default=True)
    # The Children's Wellbeing and Schools Act 2026 limits the branded items a school may require
    # (``uniform.branded``).
    branded = models.BooleanField(default=False, help_text="Carries the school's logo or is only sold by it.")
    required = models.BooleanField(default=False, help_text="Pupils must wear or have it (not optional).")
    is_tie = models.BooleanField(
        default=False, help_text="A tie: a secondary school may require a fourth branded item if it is a tie."
    )

    class Meta:
        ordering = ["school__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["school", "name"], name="uniform_item_name_per_school")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.school})"


class WelcomePack(models.Model):
    """What a school gives every pupil starting Reception (year group 0) or Year 7."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="welcome_packs")
    year_group = models.PositiveSmallIntegerField(choices=[(0, "Reception"), (7, "Year 7")])
    fund = models.ForeignKey(
        "funds.Fund",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The fund that pays for these packs: generating the gifts commits their cost, handing "
        "one over spends it. Blank when the school pays from its own budget.",
    )
    promise_new = models.BooleanField(
        default=True,
        help_text="The trust promises these packs new: second-hand stock is never offered for them.",
    )

    class Meta:
        ordering = ["school__name", "year_group"]
        constraints = [
            models.UniqueConstraint(fields=["school", "year_group"], name="welcome_pack_per_intake"),
            models.CheckConstraint(condition=Q(year_group__in=[0, 7]), name="welcome_pack_intake_year"),
        ]

    def __str__(self) -> str:
        return f"{self.school} {self.get_year_group_display()} welcome pack"


class WelcomePackItem(models.Model):
    pack = models.ForeignKey(WelcomePack, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey(UniformItem, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveSmallIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pack", "item"], name="welcome_pack_item_once"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="welcome_pack_item_quantity"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.item.name}"


class Gift(models.Model):
    """One pupil's welcome pack for one academic year: at most one (a database constraint)."""

    class Status(models.TextChoices):
        AWAITING_SIZES = "awaiting_sizes", "Waiting for sizes"
        SIZED = "sized", "Sizes recorded"
        PACKED = "packed", "Packed"
        HANDED_OVER = "handed_over", "Handed over"

    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="gifts")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="gifts")
    academic_year = models.PositiveSmallIntegerField(
        help_text="The year the academic year starts, e.g. 2026."
    )
    year_group = models.PositiveSmallIntegerField()
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.AWAITING_SIZES, db_index=True
    )
    packed_at = models.DateTimeField(null=True, blank=True)
    packed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handed_over_at = models.DateTimeField(null=True, blank=True)
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cost_pence = models.PositiveIntegerField(
        default=0, help_text="What the hand-over cost, charged to the fund."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["school__name", "pupil__surname", "pk"]
        indexes = [models.Index(fields=["school", "academic_year", "status"], name="gift_school_year_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["pupil", "academic_year"], name="gift_one_pack_per_pupil_per_year"
            ),
        ]

    def __str__(self) -> str:
        return f"Welcome pack for {self.pupil} ({self.academic_year})"


class GiftLine(models.Model):
    gift = models.ForeignKey(Gift, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(UniformItem, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveSmallIntegerField(default=1)
    size = models.CharField(max_length=30, blank=True)
    condition = models.CharField(
        max_length=8,
        choices=Condition.choices,
        default=Condition.NEW,
        help_text="New, or second-hand stock staff chose instead (costing the fund nothing).",
    )

    class Meta:
        ordering = ["gift", "item__name"]
        constraints = [models.UniqueConstraint(fields=["gift", "item"], name="gift_line_item_once")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.item.name} {self.size_label}"

    @property
    def size_label(self) -> str:
        """The size to show or print: "Size needed" until one is recorded, "One size" for a one-size item."""
        return size_label(self.item.sizes, self.size)


class SupportRequest(models.Model):
    """A coat, a pair of shoes or an item of uniform for a pupil in need, through one approval flow."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        AWAITING_FINANCE = "finance", "Waiting for finance"
        CHANGES = "changes", "Sent back for changes"
        APPROVED = "approved", "Approved"
        ORDERED = "ordered", "Ordered"
        FROM_STOCK = "from_stock", "Taken from stock"
        HANDED_OVER = "handed_over", "Handed over"
        REJECTED = "rejected", "Rejected"

    class Urgency(models.TextChoices):
        ROUTINE = "routine", "Routine"
        URGENT = "urgent", "Urgent"

    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="support_requests")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="support_requests")
    kind = models.CharField(max_length=10, choices=ItemKind.choices)
    # Every request names one of the school's items, and is priced from it. Requests made before that
    # rule may have none.
    item = models.ForeignKey(UniformItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    size = models.CharField(
        max_length=30, blank=True, help_text="One of the item's sizes; empty for one size."
    )
    quantity = models.PositiveSmallIntegerField(default=1)
    reason = models.CharField(max_length=300)
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    # The season (coats) or academic year (shoes, uniform) the request counts against, as its start year.
    period = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REQUESTED, db_index=True)
    beyond_policy = models.BooleanField(default=False, help_text="A second in the same period: needs a lead.")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=300, blank=True)
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handed_over_at = models.DateTimeField(null=True, blank=True)
    cost_pence = models.PositiveIntegerField(default=0)
    no_cost_reason = models.CharField(
        max_length=300,
        blank=True,
        help_text="Why a request approved at £0 costs nothing (donated, second-hand): a lead records it.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [
            models.Index(fields=["pupil", "kind", "period"], name="request_pupil_kind_period"),
            models.Index(fields=["school", "status"], name="request_school_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(decision_reason=""), name="request_rejection_has_reason"
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="request_quantity"),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "ordered", "from_stock", "handed_over"], cost_pence=0)
                | ~Q(no_cost_reason=""),
                name="request_approved_at_no_cost_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.pupil} ({self.get_status_display()})"

    @property
    def size_label(self) -> str:
        return size_label(self.item.sizes if self.item else [], self.size)


class StockMovement(models.Model):
    """Append-only: stock changes only by adding a movement (receipt, hand-over, adjustment)."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "Received from supplier"
        DONATION = "donation", "Donated second-hand"
        HANDOVER = "handover", "Handed over"
        ADJUSTMENT = "adjustment", "Adjustment"

    item = models.ForeignKey(UniformItem, on_delete=models.PROTECT, related_name="movements")
    size = models.CharField(max_length=30, blank=True)
    condition = models.CharField(max_length=8, choices=Condition.choices, default=Condition.NEW)
    saved_pence = models.PositiveIntegerField(
        default=0,
        help_text="A second-hand hand-over: what the items would have cost new, which the fund did not pay.",
    )
    change = models.IntegerField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    note = models.CharField(max_length=300, blank=True)
    gift = models.ForeignKey(Gift, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    request = models.ForeignKey(
        SupportRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["item", "size"], name="stock_movement_item_size")]
        constraints = [
            models.CheckConstraint(condition=~Q(change=0), name="stock_movement_changes_something"),
            models.CheckConstraint(
                condition=Q(saved_pence=0) | (~Q(condition="new") & Q(kind="handover")),
                name="stock_movement_saving_is_secondhand",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.change:+d} {self.item.name} {self.size} ({self.get_kind_display()})"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValidationError("Stock movements cannot be changed: add an adjustment instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[override]
        raise ValidationError("Stock movements cannot be deleted: add an adjustment instead.")


class StockLevel(models.Model):
    """The running total of movements per item and size, kept beside them so a hand-over can lock one row."""

    item = models.ForeignKey(UniformItem, on_delete=models.PROTECT, related_name="stock_levels")
    size = models.CharField(max_length=30, blank=True)
    condition = models.CharField(max_length=8, choices=Condition.choices, default=Condition.NEW)
    quantity = models.IntegerField(default=0)

    class Meta:
        ordering = ["item", "size", "condition"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "size", "condition"], name="stock_level_per_item_size_condition"
            ),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="stock_level_not_negative"),
        ]

    def __str__(self) -> str:
        label = "" if self.condition == Condition.NEW else f" ({self.get_condition_display().lower()})"
        return f"{self.item.name} {self.size}{label}: {self.quantity}"
