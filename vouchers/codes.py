"""Voucher codes: 16 random Crockford base32 characters (80 bits) and one check character.

Crockford's alphabet leaves out I, L, O and U, and reading forgives the look-alikes (I and L are
read as 1, O as 0), case, spaces and hyphens. Crockford's own check symbol needs five extra
characters that are awkward to type; instead the check character is chosen so that, reading the
17 characters as elements of GF(32), sum(a**(16 - i) * d_i) == 0 with a = x (the field's generator).
Because the check is linear and a != 1, it catches every single-character error and every swap of two
neighbouring characters, including the check character itself (tests/vouchers/test_codes.py proves it).
"""

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
DATA_LENGTH = 16
CODE_LENGTH = DATA_LENGTH + 1
_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
_VALUE.update({"I": 1, "L": 1, "O": 0})
_FIELD_POLY = 0b100101  # x^5 + x^2 + 1, primitive over GF(2)


class CodeError(ValueError):
    """A code that cannot be right: the message says why, in words for the counter."""


def _times_x(value: int) -> int:
    value <<= 1
    if value & 0b100000:
        value ^= _FIELD_POLY
    return value


def _syndrome(values: list[int]) -> int:
    total = 0
    for value in values:
        total = _times_x(total) ^ value
    return total


def check_character(data: str) -> str:
    """The check character for ``data`` (already normalised)."""
    return ALPHABET[_times_x(_syndrome([_VALUE[c] for c in data]))]


def generate_code() -> str:
    """A new random code, normalised (17 characters, no separators)."""
    data = "".join(secrets.choice(ALPHABET) for _ in range(DATA_LENGTH))
    return data + check_character(data)


def normalise(raw: str) -> str:
    """Upper-case, drop spaces and hyphens, read I/L as 1 and O as 0. Raises CodeError if impossible."""
    cleaned = "".join(raw.split()).replace("-", "").upper()
    if not cleaned:
        raise CodeError("Enter the voucher code.")
    bad = sorted({c for c in cleaned if c not in _VALUE})
    if bad:
        raise CodeError(f"A voucher code has only letters and numbers; {''.join(bad)} cannot be in one.")
    cleaned = "".join(ALPHABET[_VALUE[c]] for c in cleaned)
    if len(cleaned) != CODE_LENGTH:
        raise CodeError(
            f"A voucher code has {CODE_LENGTH} characters; this has {len(cleaned)}. Check it again."
        )
    return cleaned


def normalise_start(raw: str) -> str | None:
    """The first characters of a code as typed (any case, separators, I/L/O), normalised; None if they
    could not start a code."""
    cleaned = "".join(raw.split()).replace("-", "").upper()
    if not cleaned or len(cleaned) > CODE_LENGTH or any(c not in _VALUE for c in cleaned):
        return None
    return "".join(ALPHABET[_VALUE[c]] for c in cleaned)


def validate(raw: str) -> str:
    """The normalised code, or CodeError when it is mistyped (caught here, before any lookup)."""
    code = normalise(raw)
    if _syndrome([_VALUE[c] for c in code]) != 0:
        raise CodeError("This code has a typing mistake: check each character against the voucher.")
    return code


def display(code: str) -> str:
    """Groups of four for reading aloud: ABCD-EFGH-JKMN-PQRS-T."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
