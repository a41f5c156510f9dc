"""Randomised: boundary_sums through the checkpoints' month sums equals a pass over the whole ledger."""

import datetime
import random

import pytest

from funds.models import Fund, LedgerEntry
from funds.selectors.positions import _entry_boundary_sums, boundary_sums
from funds.services.ledger import fund_checkpoint
from tests.factories import SchoolFactory
from tests.funds.test_checkpoint_months import _as_set

K = LedgerEntry.Kind


@pytest.mark.parametrize("seed", range(6))
def test_random_ledgers_give_the_same_sums_from_month_sums_as_from_every_entry(db, seed):
    rng = random.Random(seed)
    schools = [None, SchoolFactory(), SchoolFactory()]
    funds = [Fund.objects.create(name=f"F{seed}-{i}") for i in range(2)]
    entries = {f.pk: [] for f in funds}
    reversed_ = set()
    for _step in range(120):
        fund = rng.choice(funds)
        day = datetime.date(2023, 1, 1) + datetime.timedelta(days=rng.randrange(0, 1400))
        candidates = [e for e in entries[fund.pk] if e.kind in (K.INCOME, K.SPEND) and e.pk not in reversed_]
        if candidates and rng.random() < 0.2:
            target = rng.choice(candidates)
            reversed_.add(target.pk)
            e = LedgerEntry.objects.create(
                fund=fund,
                kind=K.REVERSAL,
                amount_pence=target.amount_pence,
                reverses=target,
                school=target.school if rng.random() < 0.7 else rng.choice(schools),
                category=target.category if rng.random() < 0.7 else "",
                occurred_on=day,
            )
        else:
            e = LedgerEntry.objects.create(
                fund=fund,
                kind=rng.choice([K.INCOME, K.SPEND, K.COMMITMENT, K.COMMITMENT_RELEASE]),
                amount_pence=rng.randrange(1, 10_000),
                school=rng.choice(schools),
                category=rng.choice(["", "coat", "shoes"]),
                occurred_on=day,
            )
        entries[fund.pk].append(e)
        if rng.random() < 0.05:
            fund_checkpoint(fund=fund, settled_after=datetime.timedelta(0))
    months = [datetime.date(2023 + m // 12, m % 12 + 1, 1) for m in range(0, 52)]
    for fund in funds:
        for _ in range(5):
            boundaries = rng.sample(months, rng.randrange(1, 8))
            expected = _as_set(_entry_boundary_sums(LedgerEntry.objects.filter(fund=fund), boundaries))
            assert _as_set(boundary_sums(fund, boundaries)) == expected
