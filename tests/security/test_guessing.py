"""Guessing voucher codes (issue 6): lookups are locked out long before a hit is plausible.

The code space: 16 random Crockford base32 characters, 32**16 = 2**80 ~ 1.2e24 codes (the 17th
character is a check character, so a guesser who computes it gains nothing). With a million live
vouchers, one guess hits with probability 1e6 / 2**80 ~ 8e-19.

The lockout (vouchers/lookup_guard.py, default settings): 20 misses per user and 50 per address in a
15-minute window, then 15 minutes locked. One account guessing around the clock for a year gets at
most 20 x 4 x 24 x 365 ~ 700,000 guesses: a chance of a hit of about 6e-13. The tests below send
1,000 wrong codes (each with a correct check character, as a careful guesser would) and count how
many get an answer other than 429.
"""

from itertools import cycle

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from support.models import AuditEvent, Role
from tests.factories import make_user
from vouchers import codes
from vouchers.models import Voucher

CODE_SPACE = 32**codes.DATA_LENGTH
LIVE_VOUCHERS = 1_000_000
ATTEMPTS = 1_000


@pytest.fixture
def wrong_codes(db):
    known = set(Voucher.objects.values_list("code", flat=True))
    made = []
    while len(made) < ATTEMPTS:
        code = codes.generate_code()
        if code not in known:
            made.append(code)
    return made


def _first_429(statuses: list[int]) -> int:
    """How many attempts were answered before the first 429 (the attempt number of the 429, less one)."""
    return statuses.index(429)


def test_the_code_space_is_2_to_the_80():
    assert CODE_SPACE == 2**80
    assert LIVE_VOUCHERS / CODE_SPACE < 1e-18


def test_it_locks_one_user_out_after_20_of_1000_wrong_codes(charity_staff, wrong_codes, voucher_code):
    client = APIClient()
    client.force_authenticate(charity_staff)
    statuses = [client.get(f"/api/v1/redeem/{code}/").status_code for code in wrong_codes]

    answered = _first_429(statuses)
    assert answered == settings.VOUCHER_LOOKUP_USER_MISSES == 20
    assert set(statuses[:answered]) == {404}
    assert set(statuses[answered:]) == {429}, "once locked, every lookup is refused"
    # The chance that the answered guesses found anything: ~1.7e-17 even with a million live vouchers.
    assert answered * LIVE_VOUCHERS / CODE_SPACE < 1e-15
    # Locked means locked: the right code is refused too, so guessing cannot confirm a hit.
    assert client.get(f"/api/v1/redeem/{voucher_code}/").status_code == 429
    assert AuditEvent.objects.filter(action="voucher.lookup_locked").count() == 1


def test_it_locks_one_address_out_whichever_accounts_it_uses(partner_1, wrong_codes):
    """An attacker with many charity accounts behind one address: the address counter stops them."""
    clients = []
    for n in range(40):
        client = APIClient(REMOTE_ADDR="203.0.113.9")
        client.force_authenticate(make_user(f"guesser_{n}", Role.CHARITY, partner=partner_1))
        clients.append(client)
    statuses = [
        client.get(f"/api/v1/redeem/{code}/").status_code
        for client, code in zip(cycle(clients), wrong_codes, strict=False)
    ]

    answered = _first_429(statuses)
    assert answered == settings.VOUCHER_LOOKUP_IP_MISSES == 50
    assert set(statuses[answered:]) == {429}
    assert answered * LIVE_VOUCHERS / CODE_SPACE < 1e-15
    # Another address is not punished for this one's guessing (a different user, so no user lock either).
    other = APIClient(REMOTE_ADDR="198.51.100.7")
    other.force_authenticate(make_user("honest", Role.CHARITY, partner=partner_1))
    assert other.get(f"/api/v1/redeem/{wrong_codes[-1]}/").status_code == 404


def test_it_locks_the_counter_page_too(client_for, charity_staff, wrong_codes):
    client = client_for(charity_staff)
    statuses = [client.get(f"/redeem/{code}/").status_code for code in wrong_codes[:200]]

    assert _first_429(statuses) == 20
    assert set(statuses[20:]) == {429}


@pytest.fixture
def voucher_code(db, school_a, partner_1, pastoral_a, family_a):
    from tests.factories import consent_to
    from vouchers.models import VoucherType
    from vouchers.services import voucher_issue

    consent_to(family_a, pastoral_a)
    family_a.refresh_from_db()
    voucher_type = VoucherType.objects.create(
        partner=partner_1, service="food_parcel", name="Food parcel", face_value_pence=25_00, validity_days=28
    )
    voucher = voucher_issue(
        family=family_a,
        voucher_type=voucher_type,
        school=school_a,
        issued_by=pastoral_a,
        referral_reason="income_drop",
    )
    return voucher.code
