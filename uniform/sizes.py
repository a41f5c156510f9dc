"""Size lists staff pick from. Uniform items carry their own sizes; coats and shoes use these."""

CHILD_COAT_SIZES = [
    "2-3",
    "3-4",
    "4-5",
    "5-6",
    "6-7",
    "7-8",
    "8-9",
    "9-10",
    "10-11",
    "11-12",
    "12-13",
    "13-14",
    "14-15",
]
ADULT_COAT_SIZES = ["XS", "S", "M", "L", "XL", "XXL"]
COAT_SIZES = [f"Age {size}" for size in CHILD_COAT_SIZES] + [f"Adult {size}" for size in ADULT_COAT_SIZES]

# UK children's shoe sizes 4 to 13½, then adult 1 to 12, half sizes included.
_CHILD = [f"{n}" if half == 0 else f"{n}½" for n in range(4, 14) for half in (0, 1)]
_ADULT = [f"{n}" if half == 0 else f"{n}½" for n in range(1, 13) for half in (0, 1)][:-1]
SHOE_SIZES = [f"Child {size}" for size in _CHILD] + [f"Adult {size}" for size in _ADULT]
