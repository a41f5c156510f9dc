"""funds 0005 fills in the month sums of checkpoints already written as fund_checkpoint writes them."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from funds.models import Fund, FundCheckpoint, FundCheckpointMonth, LedgerEntry
from funds.selectors.positions import month_sums
from tests.funds.test_finance_dates import emptied_after  # noqa: F401

BEFORE = [("funds", "0004_gift_aid_adjustment")]


def _latest():
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.usefixtures("emptied_after")
def test_the_backfill_gives_each_checkpoint_its_own_entries_for_two_funds_interleaved():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        apps = executor.loader.project_state(BEFORE).apps
        Fund_ = apps.get_model("funds", "Fund")
        Entry = apps.get_model("funds", "LedgerEntry")
        Checkpoint = apps.get_model("funds", "FundCheckpoint")
        a, b = Fund_.objects.create(name="A"), Fund_.objects.create(name="B")
        last = {}
        for i in range(12):
            fund = a if i % 3 else b
            e = Entry.objects.create(
                fund=fund, kind="income", amount_pence=100 + i, category="donation",
                occurred_on=datetime.date(2025, 1 + i, 5),
            )  # fmt: skip
            last[fund.pk] = e
            if i in (4, 5, 9, 11):
                Checkpoint.objects.create(
                    fund=fund, up_to_entry_id=e.pk, income_pence=0, spent_pence=0, committed_pence=0
                )
        Entry.objects.create(
            fund=a, kind="reversal", amount_pence=last[a.pk].amount_pence, reverses=last[a.pk],
            category="donation", occurred_on=datetime.date(2026, 1, 2),
        )  # fmt: skip
        Checkpoint.objects.create(
            fund=a, up_to_entry_id=Entry.objects.filter(fund=a).latest("pk").pk,
            income_pence=0, spent_pence=0, committed_pence=0,
        )  # fmt: skip
    finally:
        _latest()
    fields = ("month", "kind", "reversed_kind", "school_id", "category", "amount_pence")
    for fund in Fund.objects.all():
        after = 0
        for checkpoint in FundCheckpoint.objects.filter(fund=fund).order_by("up_to_entry_id"):
            got = sorted(FundCheckpointMonth.objects.filter(checkpoint=checkpoint).values_list(*fields))
            want = sorted(
                tuple(r[k] for k in fields)
                for r in month_sums(fund_id=fund.pk, after=after, up_to=checkpoint.up_to_entry_id)
            )
            assert got
            assert got == want
            after = checkpoint.up_to_entry_id
    assert LedgerEntry.objects.count() == 13
