"""Branded items within the law: the Children's Wellbeing and Schools Act 2026 lets a school require at
most three different branded items of uniform, or four at a secondary school if one of them is a tie.
PE kit and bags count like any other item.

An item counts when it is branded, required and still given (``UniformItem.branded``, ``.required``,
``.is_active``). Read by the branded-items page and API, and by the welcome-pack check page, which flags a
pack that gives a required branded item while its school is over the limit.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from support.models import Phase, School
from uniform.models import UniformItem

LIMIT = 3
LIMIT_WITH_TIE = 4  # secondary schools, when one of the required branded items is a tie


@dataclass(frozen=True)
class BrandedCount:
    """One school's required branded items against the legal limit."""

    school: School
    items: tuple[str, ...]
    limit: int

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def over(self) -> bool:
        return self.count > self.limit

    @property
    def over_by(self) -> int:
        return max(0, self.count - self.limit)


def branded_limit(*, phase: str, has_tie: bool) -> int:
    """How many different required branded items a school of ``phase`` may have."""
    return LIMIT_WITH_TIE if phase == Phase.SECONDARY and has_tie else LIMIT


def branded_counts(schools: Iterable[School]) -> list[BrandedCount]:
    """Each of ``schools``' required branded items against its limit, in the schools' order (one query)."""
    schools = list(schools)
    rows: dict[int, list[tuple[str, bool]]] = {school.pk: [] for school in schools}
    for school_id, name, is_tie in (
        UniformItem.objects.filter(school__in=schools, branded=True, required=True, is_active=True)
        .order_by("name")
        .values_list("school_id", "name", "is_tie")
    ):
        rows[school_id].append((name, is_tie))
    return [
        BrandedCount(
            school=school,
            items=tuple(name for name, _ in rows[school.pk]),
            limit=branded_limit(phase=school.phase, has_tie=any(tie for _, tie in rows[school.pk])),
        )
        for school in schools
    ]


def branded_count(school: School) -> BrandedCount:
    return branded_counts([school])[0]
