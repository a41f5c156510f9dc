"""The one home of sizes: the standard size lists, how a size is spelled, and how it is shown.

Items, welcome packs, gifts, stock, requests and the winter drive all go through here, so a coat the
school sells as "11-12" is never asked for as "Age 11-12" and then found to match nothing.

- An item carries its own sizes (``UniformItem.sizes``), in the school's order; an item with none comes
  in one size. Everything that records a size for an item (a gift line, a stock level, a request)
  records one of that item's sizes, or "" for a one-size item.
- Sizes are stored in one spelling (``normalise_size``): children's clothes by age ("11-12"), adults'
  by letter ("M"), shoes as "Child 11½" / "Adult 5". "Age 11-12", "11 - 12 years", "adult m" and
  "Medium" are read as the same sizes, whoever types them (a lead setting up an item, the API).
- Nothing prints or shows a size that was not recorded: ``size_label`` gives "One size" only for an
  item that has one size, and "Size needed" where a size is still to be recorded.
"""

import re
from collections.abc import Sequence

from support.errors import SupportError

ONE_SIZE = "One size"  # shown for an item that comes in one size (stored as "")
SIZE_NEEDED = "Size needed"  # shown where an item comes in sizes and none is recorded

AGE_SIZES = [f"{n}-{n + 1}" for n in range(2, 15)]  # children's clothes: 2-3 to 14-15
LETTER_SIZES = ["XS", "S", "M", "L", "XL", "XXL"]  # adults' clothes
# UK children's shoe sizes 4 to 13½, then adult 1 to 11½.
_CHILD_SHOES = [f"{n}" if half == 0 else f"{n}½" for n in range(4, 14) for half in (0, 1)]
_ADULT_SHOES = [f"{n}" if half == 0 else f"{n}½" for n in range(1, 13) for half in (0, 1)][:-1]
SHOE_SIZES = [f"Child {size}" for size in _CHILD_SHOES] + [f"Adult {size}" for size in _ADULT_SHOES]
CLOTHES_SIZES = AGE_SIZES + LETTER_SIZES

_LETTERS = {
    "extra small": "XS",
    "small": "S",
    "medium": "M",
    "large": "L",
    "extra large": "XL",
    "2xl": "XXL",
    "xxl": "XXL",
}
_ONE_SIZE_SPELLINGS = {"", "one size", "onesize", "one-size", "one size fits all", "n/a"}
_AGE_RANGE = re.compile(r"^(?:ages?\s*)?(\d{1,2})\s*(?:-|–|—|/|to)\s*(\d{1,2})\s*(?:y|yr|yrs|years?)?$")
_SHOE = re.compile(r"^(child|children's|kids?|infant|adult)\s*(?:size\s*)?(\d{1,2})(\s*(?:½|\.5|1/2))?$")


def normalise_size(value: str) -> str:
    """The one spelling of a size: "Age 11-12" → "11-12", "adult m" → "M", "child 10.5" → "Child 10½",
    "one size" → "". A size it does not recognise is kept as typed, with its spaces tidied."""
    text = " ".join((value or "").split())
    lower = text.lower()
    if lower in _ONE_SIZE_SPELLINGS:
        return ""
    if match := _AGE_RANGE.match(lower):
        return f"{int(match[1])}-{int(match[2])}"
    if match := _SHOE.match(lower):
        who = "Adult" if match[1] == "adult" else "Child"
        return f"{who} {int(match[2])}{'½' if match[3] else ''}"
    letters = lower.removeprefix("adult ").removeprefix("adults ").strip()
    if letters in _LETTERS:
        return _LETTERS[letters]
    if letters.upper() in LETTER_SIZES:
        return letters.upper()
    return text


def normalise_sizes(values: Sequence[str]) -> list[str]:
    """An item's sizes in their one spelling, in the order given; refused if two are the same size."""
    cleaned = [normalise_size(value) for value in values if value and value.strip()]
    cleaned = [size for size in cleaned if size]  # "one size" among sizes says nothing
    if len(set(cleaned)) != len(cleaned):
        raise SupportError("Give each size once.", field="sizes")
    if any(len(size) > 30 for size in cleaned):
        raise SupportError("Keep each size to 30 characters or fewer.", field="sizes")
    return cleaned


def size_choices(sizes: Sequence[str]) -> list[tuple[str, str]]:
    """What staff pick from for an item with ``sizes``: (stored value, label)."""
    return [(size, size) for size in sizes] if sizes else [("", ONE_SIZE)]


def check_size(*, name: str, sizes: Sequence[str], value: str, required: bool = True) -> str:
    """``value`` as one of an item's ``sizes`` (in the item's spelling), or "" for a one-size item.

    Refused when the item does not come in that size, or (``required``) when a size is missing.
    """
    size = normalise_size(value)
    if not sizes:
        if size:
            raise SupportError(f"{name} comes in one size.", field="size")
        return ""
    if not size:
        if required:
            raise SupportError(f"Choose a size of {name}.", field="size")
        return ""
    for offered in sizes:
        if normalise_size(offered) == size:
            return offered
    raise SupportError(f"{name} comes in {', '.join(sizes)}.", field="size")


def size_label(sizes: Sequence[str], size: str) -> str:
    """What to show or print for a recorded ``size`` of an item with ``sizes``: never a size that was
    not recorded."""
    if size:
        return size
    return SIZE_NEEDED if sizes else ONE_SIZE


def check_item_size(item, size: str, *, required: bool = False) -> str:
    """``size`` checked against one uniform item's sizes (see ``check_size``)."""
    return check_size(name=item.name, sizes=item.sizes, value=size, required=required)
