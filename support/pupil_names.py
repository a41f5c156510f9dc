"""Telling pupils apart whose names read the same ("Ali, Adam" twice in one class).

A page that lists pupils by name shows, beside each name that collides, what tells them apart: the date
of birth, or the end of the UPN where the dates are the same too or the user may not see dates. Only
fields the user may see (the visibility table), and only where names collide, so a page does not show
every pupil's birthday to tell apart two.
"""

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils.dateformat import format as date_format

from support.models import Pupil
from support.visibility import can_see

UPN_ENDING = 4  # enough to tell apart two pupils, far from the whole identifier


def listed_name(pupil: Pupil) -> str:
    """How a list of pupils names one: "Ali, Adam"."""
    return f"{pupil.surname}, {pupil.known_as}"


def pupils_told_apart(
    pupils: Iterable[Pupil],
    user: AbstractBaseUser | AnonymousUser | None,
    *,
    name: Callable[[Pupil], str] = listed_name,
) -> dict[int, str]:
    """Pupil id → what tells the pupil apart from the others in ``pupils`` with the same ``name``
    ("born 3 Mar 2021", "UPN ending 0457"); pupils whose name is unique are not in it."""
    groups: dict[str, list[Pupil]] = defaultdict(list)
    for pupil in pupils:
        groups[" ".join(name(pupil).casefold().split())].append(pupil)
    sees_birth = can_see(user, Pupil, "date_of_birth")
    sees_upn = can_see(user, Pupil, "upn")
    hints: dict[int, str] = {}
    for group in groups.values():
        if len(group) < 2:
            continue
        births = Counter(pupil.date_of_birth for pupil in group)
        for pupil in group:
            parts = []
            if sees_birth:
                parts.append(f"born {date_format(pupil.date_of_birth, 'j M Y')}")
            if sees_upn and (not sees_birth or births[pupil.date_of_birth] > 1):
                parts.append(f"UPN ending {pupil.upn[-UPN_ENDING:]}")
            if parts:
                hints[pupil.pk] = ", ".join(parts)
    return hints
