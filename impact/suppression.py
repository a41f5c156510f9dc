"""Small numbers are not shown, so no family can be recognised in a board paper.

The ONE rule, used by the page, the PDF and the exports alike: a count under ``THRESHOLD`` (5) shows as
"fewer than 5", and a share (or an average) is not shown where the count it rests on is suppressed —
neither its numerator nor its denominator may be under 5. Zero is not suppressed: "nobody" cannot point
at anyone. Figures leave ``impact.selectors`` only as ``Shown`` values made here.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

THRESHOLD = 5
FEWER = f"fewer than {THRESHOLD}"
HIDDEN = "not shown (small numbers)"
NONE_YET = "–"


@dataclass(frozen=True)
class Shown:
    """A figure as it may be shown: ``text`` for people, ``value`` for a spreadsheet cell (None when
    suppressed or not known), and whether it was suppressed."""

    text: str
    value: int | Decimal | None
    suppressed: bool = False

    def __str__(self) -> str:
        return self.text


def is_small(count: int | None) -> bool:
    return count is not None and 0 < count < THRESHOLD


def count(n: int | None) -> Shown:
    """A count of families, pupils or vouchers."""
    if n is None:
        return Shown(NONE_YET, None)
    if is_small(n):
        return Shown(FEWER, None, suppressed=True)
    return Shown(f"{n:,}", n)


def share(part: int | None, whole: int | None) -> Shown:
    """``part`` of ``whole`` as a percentage to one place; hidden where either count is suppressed."""
    if part is None or not whole:
        return Shown(NONE_YET, None)
    if is_small(part) or is_small(whole):
        return Shown(HIDDEN, None, suppressed=True)
    percent = (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return Shown(f"{percent}%", percent)


def average(total: Decimal | int | None, n: int | None, *, unit: str = "", places: str = "0.1") -> Shown:
    """``total`` / ``n`` (e.g. days to redemption, attendance), hidden where ``n`` is suppressed."""
    if total is None or not n:
        return Shown(NONE_YET, None)
    if is_small(n):
        return Shown(HIDDEN, None, suppressed=True)
    value = (Decimal(total) / Decimal(n)).quantize(Decimal(places), rounding=ROUND_HALF_UP)
    return Shown(f"{value}{unit}", value)


def money(pence: int, *, text: str) -> Shown:
    """Money is the fund's, not a family's: never suppressed (``text`` is its pounds)."""
    return Shown(text, Decimal(pence) / 100)
