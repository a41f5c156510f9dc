from django.conf import settings
from django.db import models
from django.db.models import Q

from support.models.families import Family


class Contact(models.Model):
    """One of a family's contacts, as the school information system lists them (in priority order).

    Nothing is sent to, printed for or shown to a contact without parental responsibility or under a
    restriction (``is_allowed``): a voucher names and goes to an allowed contact only.
    """

    class Restriction(models.TextChoices):
        NONE = "none", "None"
        COURT_ORDER = "court_order", "Court order"
        NO_CONTACT = "no_contact", "No contact"
        OTHER = "other", "Other restriction"

    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=120)
    relationship = models.CharField(max_length=40, blank=True)
    priority = models.PositiveSmallIntegerField(default=1)
    parental_responsibility = models.BooleanField(default=False)
    lives_with_pupil = models.BooleanField(default=False)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +447700900123")
    email = models.EmailField(blank=True)
    restriction = models.CharField(max_length=12, choices=Restriction.choices, default=Restriction.NONE)
    # Short on purpose: the order itself is kept in the school's safeguarding system.
    restriction_note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family", "priority", "pk"]
        indexes = [models.Index(fields=["family", "priority"], name="contact_family_priority")]
        constraints = [
            models.CheckConstraint(
                condition=Q(restriction__in=["none", "court_order", "no_contact", "other"]),
                name="contact_restriction_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.relationship})" if self.relationship else self.name

    @property
    def is_restricted(self) -> bool:
        return self.restriction != self.Restriction.NONE

    @property
    def is_allowed(self) -> bool:
        """May anything about the pupil be sent to, printed for or shown to this contact?"""
        return self.parental_responsibility and not self.is_restricted
