"""Services for school rolls: a pupil leaves a school's roll only when that school says so."""

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from support.audit import audit_record
from support.errors import SupportError
from support.models import Enrolment, Pupil, School
from support.scopes import require_school


@transaction.atomic
def pupil_roll_leave(
    *,
    pupil: Pupil,
    school: School,
    actor: AbstractBaseUser,
    left_on: datetime.date,
    today: datetime.date | None = None,
) -> Enrolment:
    """Record that ``pupil`` left ``school``'s roll on ``left_on``. Only a lead of that school (or
    an admin) may; the pupil's other rolls stay as they are."""
    require_school(actor, school, lead=True)
    today = today or timezone.localdate()
    roll = Enrolment.objects.select_for_update().current().filter(pupil=pupil, school=school).first()
    if roll is None:
        raise SupportError(f"This pupil is not on {school.name}'s roll.", code="not_on_roll")
    if left_on > today:
        raise SupportError("The leaving date cannot be in the future.", field="left_on")
    if left_on < roll.joined:
        raise SupportError(
            f"The leaving date cannot be before the pupil joined ({roll.joined:%d/%m/%Y}).", field="left_on"
        )
    roll.left_on = left_on
    roll.save(update_fields=["left_on"])
    audit_record(
        actor=actor,
        action="pupil.roll_left",
        subject=pupil,
        before={"school": school.pk, "registration": roll.registration},
        after={"school": school.pk, "left_on": left_on.isoformat()},
    )
    return roll
