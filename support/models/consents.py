from django.conf import settings
from django.db import models
from django.db.models import Q

from support.models.families import Family
from support.models.partners import PartnerCharity


class ConsentMethod(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    PHONE = "phone", "By phone"
    PAPER = "paper", "On a paper form"
    EMAIL = "email", "By e-mail"
    # Only the migration writes this: the single consent box never said how consent was given.
    MIGRATED = "migrated", "Not known (migrated from the single consent box)"


# The methods staff may choose when they record consent.
RECORDABLE_METHODS = [choice for choice in ConsentMethod.choices if choice[0] != ConsentMethod.MIGRATED]


class FamilyConsent(models.Model):
    """The family's consent to share its details with one named partner charity.

    A row is never edited away: withdrawing sets ``withdrawn_on``, and consent given again is a new row,
    so the history of who agreed to what, and when, stays whole. A consent is *current* while it is not
    withdrawn. (The trust has no agency directory yet, so the organisation is always a partner charity.)
    """

    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="consents")
    partner = models.ForeignKey(PartnerCharity, on_delete=models.PROTECT, related_name="+")
    given_on = models.DateField()
    method = models.CharField(max_length=12, choices=ConsentMethod.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField()
    # Migrated from the single consent box, which named no partner: a lead confirms it with the family.
    migrated = models.BooleanField(default=False)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    withdrawn_on = models.DateField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["partner__name", "-given_on", "-pk"]
        indexes = [models.Index(fields=["family", "partner"], name="family_consent_lookup")]
        constraints = [
            models.CheckConstraint(
                condition=Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gte=models.F("given_on")),
                name="family_consent_withdrawn_after_given",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.family} → {self.partner}"

    @property
    def is_current(self) -> bool:
        return self.withdrawn_on is None

    @property
    def awaits_confirmation(self) -> bool:
        return self.migrated and self.confirmed_at is None and self.withdrawn_on is None
