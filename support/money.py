"""Money is integer pence everywhere; these turn it into text and back without floats.

``parse_pounds`` is the one reader of an amount typed in pounds ("£10,000.50", "250.5"), and
``parse_pence`` of an amount an API client sends in pence (1050). Both end in ``check_amount``, so a
form and a serializer refuse the same amounts with the same words. The rule for a third decimal place:
refused ("1.005" is not an amount of money, and guessing which way to round it is how two pages come to
disagree).
"""

import re
from decimal import Decimal

MAX_AMOUNT_PENCE = 10_000_000_00  # £10m: far above any gift or cost the trust sees, a slipped finger

NOT_AN_AMOUNT = "Enter an amount in pounds, like 10,000 or 250.50"
TOO_PRECISE = "Enter the amount in pounds and pence, with no more than 2 digits after the point"
NOT_PENCE = "Enter the amount in whole pence, like 1050 for £10.50"

_POUNDS = re.compile(r"(?P<whole>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<part>\d+))?")
_PENCE = re.compile(r"-?\d+")


def pounds(pence: int | None, *, symbol: bool = True) -> str:
    """1234 → '£12.34'; -50 → '-£0.50'; None → ''."""
    if pence is None:
        return ""
    sign = "-" if pence < 0 else ""
    whole, part = divmod(abs(int(pence)), 100)
    return f"{sign}{'£' if symbol else ''}{whole:,}.{part:02d}"


def pounds_sql(pence: str) -> str:
    """``pounds`` as a PostgreSQL expression, for SQL that writes the text itself (the counter's one-statement
    redeem): ``pence`` is an SQL expression of a whole number of pence, at least 0."""
    whole = f"to_char(({pence}) / 100, 'FM999,999,999,999,999,990')"
    return f"('£' || {whole} || '.' || lpad(mod({pence}, 100)::text, 2, '0'))"


def pence_to_pounds(pence: int) -> Decimal:
    """1234 → Decimal('12.34'), exactly: for a spreadsheet cell that holds a number."""
    return Decimal(int(pence)).scaleb(-2)


def check_amount(pence: int, *, minimum: int | None = 1, maximum: int | None = MAX_AMOUNT_PENCE) -> int:
    """``pence`` if it lies within [minimum, maximum] (None: unbounded); ValueError saying why not."""
    if minimum is not None and pence < minimum:
        if minimum == 1:
            raise ValueError("Enter an amount more than £0")
        if minimum == 0:
            raise ValueError("Enter an amount of £0 or more")
        raise ValueError(f"Enter an amount of at least {pounds(minimum)}")
    if maximum is not None and pence > maximum:
        raise ValueError(f"Enter an amount no more than {pounds(maximum)}")
    return pence


def parse_pounds(text: str, *, minimum: int | None = 1, maximum: int | None = MAX_AMOUNT_PENCE) -> int:
    """Pounds as people type them → whole pence, by integer arithmetic (never float).

    "£10,000.00" → 1000000; "250.5" → 25050; "-£0.50" → -50 when ``minimum`` allows it. Commas only as
    thousands. More than two digits after the point is refused, not rounded. ValueError says what is
    wrong, in words for the person who typed it.
    """
    value = str(text).strip().replace(" ", "")
    negative = value.startswith(("-", "£-"))
    value = value.replace("-", "", 1) if negative else value
    match = _POUNDS.fullmatch(value.removeprefix("£"))
    if not match:
        raise ValueError(NOT_AN_AMOUNT)
    part = match["part"] or ""
    if len(part) > 2:
        raise ValueError(TOO_PRECISE)
    pence = int(match["whole"].replace(",", "")) * 100 + int(part.ljust(2, "0"))
    return check_amount(-pence if negative else pence, minimum=minimum, maximum=maximum)


def parse_pence(value: object, *, minimum: int | None = 1, maximum: int | None = MAX_AMOUNT_PENCE) -> int:
    """An amount an API client sends in pence (1050, or "1050") → int; 10.5 or "10.50" is refused with
    a message that says the API speaks pence, rather than read as 10 or 1050."""
    if isinstance(value, bool):
        raise ValueError(NOT_PENCE)
    if isinstance(value, int):
        pence = value
    elif isinstance(value, float) and value.is_integer():
        pence = int(value)
    elif isinstance(value, str) and _PENCE.fullmatch(value.strip()):
        pence = int(value.strip())
    else:
        raise ValueError(NOT_PENCE)
    return check_amount(pence, minimum=minimum, maximum=maximum)


_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def _under_thousand(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    words = [f"{_UNITS[hundreds]} hundred"] if hundreds else []
    if rest:
        if hundreds:
            words.append("and")
        tens, unit = divmod(rest, 10)
        words.append(_UNITS[rest] if rest < 20 else _TENS[tens] + (f"-{_UNITS[unit]}" if unit else ""))
    return " ".join(words)


def number_in_words(n: int) -> str:
    """1250 → 'one thousand two hundred and fifty'; 1001 → 'one thousand and one' (the British way)."""
    if n == 0:
        return "zero"
    last = n % 1000
    parts = []
    for scale, name in ((1_000_000_000, "billion"), (1_000_000, "million"), (1_000, "thousand")):
        count, n = divmod(n, scale)
        if count:
            parts.append(f"{_under_thousand(count)} {name}")
    if last:
        parts.append(("and " if parts and last < 100 else "") + _under_thousand(last))
    return " ".join(parts)


def pounds_in_words(pence: int) -> str:
    """125050 → 'One thousand two hundred and fifty pounds and fifty pence', to read a sum back."""
    whole, part = divmod(abs(int(pence)), 100)
    words = f"{number_in_words(whole)} pound{'s' if whole != 1 else ''}"
    if part:
        words += f" and {number_in_words(part)} pence"
    return words[0].upper() + words[1:]
