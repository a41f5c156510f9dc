"""Delivered services, their catalogues and the referrals a school sends the partner charity.

A partner's voucher type (partner + service + the fund that pays) is marked *delivered* by a
``DeliveredService`` row: issuing for it makes referrals, not counter codes. Each ``Referral`` is one item
from the service's catalogue for one family, so the charity can accept the cooker and wait-list the bed.
A referral carries what the delivery needs (household facts, address, phone), copied at issue with the
family's consent to share with the partner, and erased when the referral closes.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from support.models import Family, School
from vouchers.models import VoucherType


class DeliveredService(models.Model):
    """A partner's service that is delivered to the family (white goods, furniture), and its capacity."""

    voucher_type = models.OneToOneField(VoucherType, on_delete=models.PROTECT, related_name="delivered")
    capacity_per_week = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="How many referrals (items) the charity can take a week; blank means no stated limit.",
    )
    paused_until = models.DateField(
        null=True,
        blank=True,
        help_text="No new referrals are taken before this day: they join the waiting list.",
    )
    pause_note = models.CharField(max_length=200, blank=True, help_text="Why, as schools read it.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["voucher_type__partner__name", "voucher_type__name"]

    def __str__(self) -> str:
        return f"{self.voucher_type.name} delivered by {self.voucher_type.partner}"

    @property
    def partner(self):
        return self.voucher_type.partner


class CatalogueItem(models.Model):
    """One thing a delivered service can bring (fridge, cooker, bed, starter kit ...) and its value."""

    service = models.ForeignKey(DeliveredService, on_delete=models.PROTECT, related_name="items")
    name = models.CharField(max_length=80)
    value_pence = models.PositiveIntegerField(help_text="What the fund pays the charity for it, in pence.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["service", "name"]
        constraints = [models.UniqueConstraint(fields=["service", "name"], name="catalogue_item_once")]

    def __str__(self) -> str:
        return self.name


class Referral(models.Model):
    """One item for one family, referred by a school to the partner that delivers it."""

    class State(models.TextChoices):
        NEW = "new", "New"
        WAITING = "waiting", "Waiting list"
        ACCEPTED = "accepted", "Accepted"
        DELIVERED = "delivered", "Delivered"
        DECLINED = "declined", "Declined"
        NOT_REACHED = "not_reached", "Not reached"
        CANCELLED = "cancelled", "Cancelled"

    OPEN = (State.NEW, State.WAITING, State.ACCEPTED)
    CLOSED = (State.DELIVERED, State.DECLINED, State.NOT_REACHED, State.CANCELLED)

    group = models.UUIDField(default=uuid.uuid4, db_index=True, help_text="The referrals made together.")
    service = models.ForeignKey(DeliveredService, on_delete=models.PROTECT, related_name="referrals")
    item = models.ForeignKey(CatalogueItem, on_delete=models.PROTECT, related_name="referrals")
    value_pence = models.PositiveIntegerField()
    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="delivery_referrals")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="delivery_referrals")
    state = models.CharField(max_length=12, choices=State.choices, default=State.NEW, db_index=True)
    # What the delivery needs, shared with the partner's named consent: erased when the referral closes.
    lead_carer_name = models.CharField(max_length=120, blank=True)
    delivery_address = models.TextField(max_length=500, blank=True)
    delivery_postcode = models.CharField(max_length=8, blank=True)
    delivery_phone = models.CharField(max_length=20, blank=True)
    access_notes = models.CharField(max_length=300, blank=True, help_text="Stairs, lift, parking, pets ...")
    # Household facts (counts only; children in age bands, never names or birthdays).
    adults = models.PositiveSmallIntegerField(default=1)
    children_under_5 = models.PositiveSmallIntegerField(default=0)
    children_5_to_11 = models.PositiveSmallIntegerField(default=0)
    children_12_to_17 = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    waiting_since = models.DateField(null=True, blank=True)
    expected_on = models.DateField(null=True, blank=True, help_text="When the charity expects to deliver.")
    decline_reason = models.CharField(max_length=300, blank=True, help_text="The school reads it.")
    delivered_on = models.DateField(null=True, blank=True)
    delivered_what = models.CharField(max_length=200, blank=True)
    outcome_note = models.CharField(max_length=300, blank=True, help_text="Not reached: the attempts made.")
    closed_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["service", "state", "created_at"], name="referral_capacity")]
        constraints = [
            # A closed referral holds no address or phone: the delivery no longer needs them.
            models.CheckConstraint(
                condition=Q(state__in=["new", "waiting", "accepted"])
                | Q(delivery_address="", delivery_postcode="", delivery_phone=""),
                name="referral_closed_has_no_address",
            ),
            models.CheckConstraint(
                condition=~Q(state="accepted") | Q(expected_on__isnull=False), name="referral_accepted_dated"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item.name} for referral {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN

    @property
    def children(self) -> int:
        return self.children_under_5 + self.children_5_to_11 + self.children_12_to_17


class ReferralMessage(models.Model):
    """One message to the family about a referral (accepted, on its way, delivered), sent once by a task."""

    class Kind(models.TextChoices):
        ACCEPTED = "accepted", "Accepted, with the expected date"
        BEFORE = "before", "Before the delivery"
        DELIVERED = "delivered", "Delivered"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to send"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Not sent"

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="messages")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    channel = models.CharField(max_length=5, choices=[("email", "E-mail"), ("sms", "Text message")])
    address = models.CharField(max_length=254)
    language = models.CharField(max_length=10, default="en")
    body = models.TextField(blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    requested_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["requested_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["referral", "kind"], name="referral_message_once")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"
