"""Money is integer pence everywhere; these turn it into text and back without floats."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


def pounds(pence: int | None, *, symbol: bool = True) -> str:
    """1234 → '£12.34'; -50 → '-£0.50'; None → ''."""
    if pence is None:
        return ""
    sign = "-" if pence < 0 else ""
    whole, part = divmod(abs(int(pence)), 100)
    return f"{sign}{'£' if symbol else ''}{whole:,}.{part:02d}"


def to_pence(value: Decimal | str) -> int:
    """'12.345' → 1235 (half up). Raises ValueError for anything that is not an amount."""
    try:
        amount = Decimal(str(value).replace("£", "").replace(",", "").strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount of money") from None
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not an amount of money")
    return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
