"""The redeem's body read without a serializer (RedeemRequestSerializer.read) reads what the serializer
reads, and leaves every refusal, in the serializer's words, to the serializer."""

import pytest
from rest_framework.exceptions import ValidationError

from vouchers.api import RedeemRequestSerializer
from vouchers.models import MAX_VALUE_GIVEN_PENCE

BODIES = [
    {},
    {"items_given": "Parcel"},
    {"items_given": "  Parcel and nappies \n"},
    {"items_given": ""},
    {"items_given": "   "},
    {"items_given": "Café, naïve, اردو"},
    {"items_given": "a" * 300},
    {"items_given": " " + "a" * 300 + " "},
    {"items_given": "a" * 301},
    {"items_given": "a\x00b"},
    {"items_given": "\ud800"},
    {"items_given": None},
    {"items_given": 12},
    {"items_given": ["Parcel"]},
    {"value_pence": None},
    {"value_pence": 0},
    {"value_pence": 12_50},
    {"value_pence": "1250"},
    {"value_pence": 1250.0},
    {"value_pence": 12.5},
    {"value_pence": "12.50"},
    {"value_pence": ""},
    {"value_pence": -1},
    {"value_pence": MAX_VALUE_GIVEN_PENCE},
    {"value_pence": MAX_VALUE_GIVEN_PENCE + 1},
    {"value_pence": True},
    {"items_given": "Parcel", "value_pence": 5_00},
    {"items_given": "Parcel", "other": 1},
    [],
    "Parcel",
    None,
]


def outcome(read):
    try:
        return "read", dict(read())
    except ValidationError as exc:
        return "refused", exc.detail


@pytest.mark.parametrize("body", BODIES, ids=repr)
def test_it_reads_what_the_serializer_reads(body):
    def by_serializer():
        serializer = RedeemRequestSerializer(data=body)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    assert outcome(lambda: RedeemRequestSerializer.read(body)) == outcome(by_serializer)


def test_a_plain_body_builds_no_serializer(monkeypatch):
    def built(*args, **kwargs):
        raise AssertionError("a serializer was built")

    monkeypatch.setattr(RedeemRequestSerializer, "__init__", built)
    assert RedeemRequestSerializer.read({"items_given": " Parcel ", "value_pence": 5_00}) == {
        "items_given": "Parcel",
        "value_pence": 5_00,
    }
    assert RedeemRequestSerializer.read({}) == {"items_given": ""}
