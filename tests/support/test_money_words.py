"""A sum read back in words, the British way (a donation's check page reads it to finance)."""

import pytest

from support.money import pounds_in_words


@pytest.mark.parametrize(
    ("pence", "words"),
    [
        (1_000_00, "One thousand pounds"),
        (1_250_50, "One thousand two hundred and fifty pounds and fifty pence"),
        (1_001_00, "One thousand and one pounds"),
        (1_00, "One pound"),
        (21_05, "Twenty-one pounds and five pence"),
        (100_001_00, "One hundred thousand and one pounds"),
        (2_000_000_00, "Two million pounds"),
        (
            1_234_567_89,
            "One million two hundred and thirty-four thousand five hundred and sixty-seven pounds and "
            "eighty-nine pence",
        ),
    ],
)
def test_it_says_an_amount_in_words(pence, words):
    assert pounds_in_words(pence) == words
