from django.db import models
from django.db.models import Q

from support.models.families import Pupil
from support.models.schools import School


class Term(models.IntegerChoices):
    AUTUMN = 1, "Autumn"
    SPRING = 2, "Spring"
    SUMMER = 3, "Summer"


# Each term's first and last month (the academic year runs September to August).
TERM_MONTHS = {Term.AUTUMN: (9, 12), Term.SPRING: (1, 4), Term.SUMMER: (5, 8)}


class PupilAttendance(models.Model):
    """A pupil's attendance percentage at one school for one term, as the school's export gave it.

    Optional in the pupil import (docs/import.md); read only as aggregates by the impact report, which
    compares supported pupils with similar pupils not supported.
    """

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="attendance")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    academic_year = models.PositiveSmallIntegerField(
        help_text="The year the academic year starts, e.g. 2026."
    )
    term = models.PositiveSmallIntegerField(choices=Term.choices)
    percent = models.DecimalField(max_digits=5, decimal_places=2)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pupil", "academic_year", "term"]
        constraints = [
            models.UniqueConstraint(
                fields=["pupil", "school", "academic_year", "term"], name="attendance_once"
            ),
            models.CheckConstraint(
                condition=Q(percent__gte=0, percent__lte=100), name="attendance_percent_range"
            ),
        ]
        indexes = [models.Index(fields=["school", "academic_year", "term"], name="attendance_school_term")]

    def __str__(self) -> str:
        return f"{self.get_term_display()} {self.academic_year}: {self.percent}%"
