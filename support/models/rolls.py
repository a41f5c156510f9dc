"""School rolls: which schools a pupil is on roll at, and since when.

A pupil may be on two rolls at once (dual registration, as alternative provision uses): one main
registration and any number of subsidiary ones. Each school's own information system, or a lead of
that school, is the only thing that puts a pupil on or takes them off that school's roll. Staff see
a pupil (and the pupil's family) through the rolls they work at that the pupil has not left.
"""

import datetime
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q

from support.models.schools import School

if TYPE_CHECKING:
    from support.models.families import Pupil


class Registration(models.TextChoices):
    MAIN = "main", "Main"
    SUBSIDIARY = "subsidiary", "Subsidiary"


class EnrolmentQuerySet(models.QuerySet):
    def current(self) -> "EnrolmentQuerySet":
        """Rolls the pupil has not left. A leaving date recorded means the pupil is off that roll."""
        return self.filter(left_on__isnull=True)


class Enrolment(models.Model):
    """One pupil on one school's roll."""

    pupil = models.ForeignKey("support.Pupil", on_delete=models.CASCADE, related_name="enrolments")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="enrolments")
    registration = models.CharField(max_length=10, choices=Registration.choices, default=Registration.MAIN)
    joined = models.DateField()
    left_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EnrolmentQuerySet.as_manager()

    class Meta:
        ordering = ["pupil", "registration", "pk"]
        indexes = [
            models.Index(fields=["school", "pupil"], name="enrolment_school_pupil"),
            # Who is on these rolls now, and is this pupil?, answered from the index alone: the scope
            # check a family search makes for every family it finds (support.selectors.on_roll_at).
            models.Index(
                fields=["school", "pupil"], condition=Q(left_on__isnull=True), name="enrolment_current_school"
            ),
        ]
        constraints = [
            # Rejoining a school reopens its roll row rather than adding a second one.
            models.UniqueConstraint(fields=["pupil", "school"], name="enrolment_once_per_school"),
            models.UniqueConstraint(
                fields=["pupil"],
                condition=Q(registration="main", left_on__isnull=True),
                name="enrolment_one_current_main",
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined")),
                name="enrolment_leaves_after_joining",
            ),
        ]

    def __str__(self) -> str:
        state = f"left {self.left_on}" if self.left_on else "on roll"
        return f"{self.pupil_id} at {self.school_id} ({self.registration}, {state})"


def main_roll_follow(pupil: "Pupil", *, today: datetime.date) -> None:
    """Make ``pupil.school`` the pupil's current main roll (after a pupil is created or its main
    school is changed by hand). Bulk writers (the import, the demo) create their rolls themselves."""
    rolls = list(Enrolment.objects.filter(pupil=pupil))
    for roll in rolls:
        current_main = roll.registration == Registration.MAIN and roll.left_on is None
        if current_main and roll.school_id != pupil.school_id:
            roll.left_on = max(today, roll.joined)
            roll.save(update_fields=["left_on"])
    here = next((roll for roll in rolls if roll.school_id == pupil.school_id), None)
    if here is None:
        Enrolment.objects.create(
            pupil=pupil, school_id=pupil.school_id, registration=Registration.MAIN, joined=today
        )
    elif here.registration != Registration.MAIN or here.left_on is not None:
        here.registration, here.left_on = Registration.MAIN, None
        here.save(update_fields=["registration", "left_on"])


def main_rolls_create(pupils: "list[Pupil]", *, joined: datetime.date) -> None:
    """Put pupils just bulk-created (``Model.save`` not called) on their school's roll as main."""
    Enrolment.objects.bulk_create(
        [
            Enrolment(pupil=pupil, school_id=pupil.school_id, registration=Registration.MAIN, joined=joined)
            for pupil in pupils
        ],
        batch_size=500,
    )
