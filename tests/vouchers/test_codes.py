import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vouchers import codes

data_strings = st.text(alphabet=codes.ALPHABET, min_size=codes.DATA_LENGTH, max_size=codes.DATA_LENGTH)


def with_check(data: str) -> str:
    return data + codes.check_character(data)


def test_it_generates_valid_unpredictable_codes():
    made = {codes.generate_code() for _ in range(2000)}
    assert len(made) == 2000
    for code in made:
        assert len(code) == 17
        assert codes.validate(code) == code
    # 16 characters from 32 symbols carry 80 bits.
    assert len(codes.ALPHABET) ** codes.DATA_LENGTH == 2**80


@given(data_strings)
def test_it_accepts_every_correct_code_however_it_is_typed(data):
    code = with_check(data)
    typed = codes.display(code).lower().replace("0", "o").replace("1", "l")
    assert codes.validate(typed) == code
    assert codes.validate(" ".join(codes.display(code).split("-"))) == code


@given(data_strings, st.integers(0, 16), st.sampled_from(codes.ALPHABET))
def test_it_catches_every_single_character_mistake(data, position, symbol):
    code = with_check(data)
    wrong = code[:position] + symbol + code[position + 1 :]
    if wrong == code:
        return
    with pytest.raises(codes.CodeError, match="typing mistake"):
        codes.validate(wrong)


@given(data_strings, st.integers(0, 15))
def test_it_catches_every_swap_of_neighbouring_characters(data, position):
    code = with_check(data)
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
    if swapped == code:
        return
    with pytest.raises(codes.CodeError, match="typing mistake"):
        codes.validate(swapped)


def test_it_catches_all_single_errors_and_swaps_exhaustively_for_one_code():
    code = codes.generate_code()
    for position, symbol in itertools.product(range(17), codes.ALPHABET):
        wrong = code[:position] + symbol + code[position + 1 :]
        if wrong != code:
            with pytest.raises(codes.CodeError):
                codes.validate(wrong)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Enter the voucher code"),
        ("ABCD-EFGH", "has 17 characters; this has 8"),
        ("ABCD-EFGH-JKMN-PQRS-TU", "U cannot be in one"),
        ("ABCD!EFGH", "! cannot be in one"),
    ],
)
def test_it_explains_impossible_codes(raw, message):
    with pytest.raises(codes.CodeError, match=message):
        codes.validate(raw)


def test_it_groups_codes_in_fours():
    assert codes.display("ABCDEFGHJKMNPQRST") == "ABCD-EFGH-JKMN-PQRS-T"
