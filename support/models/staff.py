from django.conf import settings
from django.db import models
from django.db.models import Q

from support.models.partners import PartnerCharity
from support.models.schools import School


class Role(models.TextChoices):
    PASTORAL = "pastoral", "Pastoral staff"
    LEAD = "lead", "Pastoral lead"
    FINANCE = "finance", "Finance"
    CHARITY = "charity", "Partner charity staff"
    ADMIN = "admin", "Trust admin"
    # Read-only, whole trust, aggregates only: the impact report and the fund's summary (issue 18).
    TRUSTEE = "trustee", "Trustee"


SCHOOL_ROLES = (Role.PASTORAL, Role.LEAD)


class Membership(models.Model):
    """A user's role, and where it applies: schools for pastoral roles, one partner for charity staff.

    A user may hold several memberships; what they can see is the union of them.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    schools = models.ManyToManyField(School, blank=True, related_name="memberships")
    partner = models.ForeignKey(
        PartnerCharity, null=True, blank=True, on_delete=models.PROTECT, related_name="memberships"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__username", "role"]
        constraints = [
            # Charity staff belong to exactly one partner; nobody else belongs to a partner.
            models.CheckConstraint(
                condition=(
                    Q(role=Role.CHARITY, partner__isnull=False)
                    | (~Q(role=Role.CHARITY) & Q(partner__isnull=True))
                ),
                name="membership_partner_iff_charity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}"
