"""A checkpoint keeps the entries it covers summed per month they happened in (``FundCheckpointMonth``), and
a period's figures at month boundaries (``boundary_sums``: the year summary, the impact report's fund
section) read those sums plus the entries after the latest checkpoint, the same figures as a pass over
the whole ledger, whatever was back-dated, reversed or released after the checkpoint."""

import datetime

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from funds.models import FundCheckpointMonth, LedgerEntry
from funds.selectors.positions import _entry_boundary_sums, boundary_sums
from funds.selectors.reports import fund_year_summary, fund_years_totals
from funds.services.ledger import (
    fund_checkpoint,
    fund_commitment_release,
    fund_donation_record,
    fund_entry_reverse,
    fund_spend_actual,
    fund_spend_commit,
    standby_fund,
)
from tests.factories import FamilyFactory, SchoolFactory

SETTLED = datetime.timedelta(0)
TODAY = datetime.date(2026, 11, 20)
# A financial year's start and end, month starts inside them, and the next year's start.
BOUNDARIES = [
    datetime.date(2024, 9, 1),
    datetime.date(2025, 1, 1),
    datetime.date(2025, 9, 1),
    datetime.date(2026, 3, 1),
    datetime.date(2026, 9, 1),
    datetime.date(2026, 12, 1),
]


def _as_set(sums) -> dict:
    """Groups keyed by what they are (kind, sign, school, category), zero groups left out: the two roads
    may split or order the same sums differently, never give different ones."""
    merged: dict = {}
    for group in sums:
        key = (group.kind, group.sign, group.school_id, group.category)
        before = merged.get(key, (0,) * len(group.before))
        merged[key] = tuple(a + b for a, b in zip(before, group.before, strict=True))
    return {key: before for key, before in merged.items() if any(before)}


def _whole_ledger(fund) -> dict:
    return _as_set(_entry_boundary_sums(LedgerEntry.objects.filter(fund=fund), BOUNDARIES))


def _donate(fund, finance, pence: int, on: datetime.date) -> None:
    fund_donation_record(
        fund=fund,
        donor="Trustee",
        amount_pence=pence,
        received_on=on,
        gift_aid=False,
        actor=finance,
        today=TODAY,
    )


@pytest.fixture
def ledger(finance, pastoral_a):
    """Two years of a fund's money at two schools (a spend reversed among it), then a checkpoint, then more:
    entries back-dated into months the checkpoint covers, a reversal of an entry it covers, and a release
    of a commitment it covers."""
    fund = standby_fund()
    school_a, school_b = SchoolFactory(), SchoolFactory()
    _donate(fund, finance, 5_000_00, datetime.date(2024, 10, 3))
    _donate(fund, finance, 2_500_00, datetime.date(2025, 10, 14))
    paid = []
    for index, (day, school, category) in enumerate(
        [
            (datetime.date(2024, 11, 5), school_a, "coat"),
            (datetime.date(2025, 2, 17), school_b, "shoes"),
            (datetime.date(2025, 8, 31), school_a, "voucher:food_parcel"),
            (datetime.date(2025, 9, 1), school_b, "coat"),
            (datetime.date(2026, 4, 30), school_a, "shoes"),
        ]
    ):
        family = FamilyFactory()
        fund_spend_commit(
            fund=fund,
            source=family,
            amount_pence=(index + 1) * 12_34,
            category=category,
            school=school,
            actor=pastoral_a,
            occurred_on=day,
            today=TODAY,
        )
        if index % 2 == 0:
            paid.extend(
                fund_spend_actual(
                    source=family, actor=pastoral_a, occurred_on=day + datetime.timedelta(days=3), today=TODAY
                )
            )
    open_family = FamilyFactory()
    fund_spend_commit(
        fund=fund,
        source=open_family,
        amount_pence=40_00,
        category="coat",
        school=school_b,
        actor=pastoral_a,
        occurred_on=datetime.date(2025, 3, 2),
        today=TODAY,
    )
    spends = [entry for entry in paid if entry.kind == LedgerEntry.Kind.SPEND]
    fund_entry_reverse(
        entry=spends[-1],
        actor=finance,
        reason="Wrong school",
        occurred_on=datetime.date(2026, 5, 4),
        today=TODAY,
    )
    checkpoint = fund_checkpoint(fund=fund, settled_after=SETTLED)
    assert checkpoint is not None
    # After the checkpoint: a gift dated a year back, a spend reversed, a commitment it covers released,
    # and new money this month.
    _donate(fund, finance, 300_00, datetime.date(2025, 1, 31))
    spend = next(entry for entry in paid if entry.kind == LedgerEntry.Kind.SPEND)
    fund_entry_reverse(
        entry=spend, actor=finance, reason="Charged twice", occurred_on=datetime.date(2026, 2, 1), today=TODAY
    )
    fund_commitment_release(
        source=open_family, actor=pastoral_a, occurred_on=datetime.date(2025, 6, 9), today=TODAY
    )
    fund_spend_commit(
        fund=fund,
        source=FamilyFactory(),
        amount_pence=9_99,
        category="voucher:food_parcel",
        school=school_a,
        actor=pastoral_a,
        occurred_on=datetime.date(2026, 11, 2),
        today=TODAY,
    )
    return fund


def test_a_checkpoint_keeps_its_entries_summed_by_month_and_they_add_up_to_its_totals(ledger):
    checkpoint = ledger.checkpoints.get()
    months = list(checkpoint.months.all())
    assert all(month.month.day == 1 for month in months)
    covered = LedgerEntry.objects.filter(fund=ledger, pk__lte=checkpoint.up_to_entry_id)
    assert sum(month.amount_pence for month in months) == sum(entry.amount_pence for entry in covered)
    assert {(m.month, m.kind) for m in months} == {
        (entry.occurred_on.replace(day=1), entry.kind) for entry in covered
    }
    income = sum(m.amount_pence for m in months if m.kind == LedgerEntry.Kind.INCOME)
    assert income == checkpoint.income_pence
    [reversal] = [m for m in months if m.kind == LedgerEntry.Kind.REVERSAL]
    assert reversal.reversed_kind == LedgerEntry.Kind.SPEND


def test_the_month_sums_and_the_entries_since_give_the_same_figures_as_the_whole_ledger(
    ledger, django_assert_max_num_queries
):
    expected = _whole_ledger(ledger)
    assert expected  # the fixture moved money in every kind
    with django_assert_max_num_queries(4):  # the checkpoint, its months, the entries since, their reversals
        assert _as_set(boundary_sums(ledger, BOUNDARIES)) == expected


def test_a_second_checkpoint_adds_only_its_own_entries(ledger, finance):
    first = ledger.checkpoints.get()
    _donate(ledger, finance, 75_00, datetime.date(2024, 12, 24))
    second = fund_checkpoint(fund=ledger, settled_after=SETTLED)
    assert second.months.count() > 0
    assert sum(m.amount_pence for m in second.months.all()) == sum(
        e.amount_pence
        for e in LedgerEntry.objects.filter(
            fund=ledger, pk__gt=first.up_to_entry_id, pk__lte=second.up_to_entry_id
        )
    )
    assert _as_set(boundary_sums(ledger, BOUNDARIES)) == _whole_ledger(ledger)


def test_a_boundary_inside_a_month_is_summed_from_the_entries(ledger):
    mid_month = [datetime.date(2025, 1, 15), datetime.date(2026, 2, 1)]
    expected = _as_set(_entry_boundary_sums(LedgerEntry.objects.filter(fund=ledger), mid_month))
    assert _as_set(boundary_sums(ledger, mid_month)) == expected


def test_the_year_summary_and_the_impact_reports_totals_agree_with_the_ledger(ledger, settings):
    summary = fund_year_summary(fund=ledger, year=2025, today=TODAY)
    totals = fund_years_totals(fund=ledger, years=[2024, 2025])
    assert totals[2025].income_pence == summary.flows.income_pence == 2_500_00
    assert totals[2025].spent_pence == summary.flows.spent_pence
    assert totals[2024].income_pence == 5_000_00 + 300_00  # the gift back-dated into January 2025
    # The reversal dated February 2026 takes the first spend (November 2024) back in 2025/26.
    whole = _whole_ledger(ledger)
    spent_2025 = sum(
        sign * (before[4] - before[2])
        for (kind, sign, _school, _category), before in whole.items()
        if kind == LedgerEntry.Kind.SPEND
    )
    assert totals[2025].spent_pence == spent_2025


def test_month_sums_are_append_only_in_the_database(ledger):
    month = FundCheckpointMonth.objects.first()
    for sql in (
        "UPDATE funds_fundcheckpointmonth SET amount_pence = 1 WHERE id = %s",
        "DELETE FROM funds_fundcheckpointmonth WHERE id = %s",
    ):
        with (
            pytest.raises((IntegrityError, DatabaseError)),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [month.pk])
    assert FundCheckpointMonth.objects.get(pk=month.pk).amount_pence == month.amount_pence
