from django.conf import settings
from django.db import models

from support.models.families import Pupil
from support.models.schools import School


class SafeguardingReferral(models.Model):
    """That a member of staff passed a possible concern about a pupil to the school's safeguarding lead.

    Deliberately holds no words about the concern: the concern itself is recorded in the school's
    safeguarding system by the designated safeguarding lead, not here.
    """

    class LeadKind(models.TextChoices):
        LEAD = "lead", "Designated safeguarding lead"
        DEPUTY = "deputy", "Deputy safeguarding lead"

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="safeguarding_referrals")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    passed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    passed_by_name = models.CharField(max_length=150)
    lead_kind = models.CharField(max_length=6, choices=LeadKind.choices)
    # The lead's name as it was on the day, so a later change of lead does not rewrite history.
    lead_name = models.CharField(max_length=120)
    passed_at = models.DateTimeField()

    class Meta:
        ordering = ["-passed_at", "-pk"]
        indexes = [models.Index(fields=["pupil", "passed_at"], name="sg_referral_pupil")]

    def __str__(self) -> str:
        return f"Passed to the safeguarding lead on {self.passed_at:%d/%m/%Y}"
