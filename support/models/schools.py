from django.core.validators import RegexValidator
from django.db import models


class Phase(models.TextChoices):
    PRIMARY = "primary", "Primary"
    SECONDARY = "secondary", "Secondary"
    ALTERNATIVE = "ap", "Alternative provision"


class School(models.Model):
    """An academy of the trust."""

    name = models.CharField(max_length=120, unique=True)
    urn = models.CharField(
        "URN",
        max_length=6,
        unique=True,
        validators=[RegexValidator(r"^\d{6}$", "A URN is six digits.")],
        help_text="The school's unique reference number (six digits).",
    )
    phase = models.CharField(max_length=12, choices=Phase.choices)
    address = models.TextField(blank=True, max_length=500)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    is_active = models.BooleanField(default=True)
    # Who concerns about a child's safety go to. Names only: the concerns live in the school's own
    # safeguarding system, never here.
    safeguarding_lead = models.CharField(
        "designated safeguarding lead",
        max_length=120,
        blank=True,
        help_text="Full name of the school's designated safeguarding lead (DSL).",
    )
    safeguarding_deputy = models.CharField(
        "deputy safeguarding lead",
        max_length=120,
        blank=True,
        help_text="Full name of the deputy designated safeguarding lead, if the school has one.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def safeguarding_leads(self) -> list[tuple[str, str]]:
        """(key, name) of each recorded safeguarding lead, the lead first."""
        leads = [("lead", self.safeguarding_lead), ("deputy", self.safeguarding_deputy)]
        return [(key, name) for key, name in leads if name]
