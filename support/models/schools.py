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

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
