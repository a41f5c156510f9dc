"""One home for the ledger's sums: the service, the API, the ledger page's totals, the year summary and
the approvals queue read a fund's position from ``funds.selectors.positions`` and agree, checkpoints
included."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from funds.models import Fund, FundCheckpoint, LedgerEntry
from funds.selectors.ledger import LedgerFilters, ledger_opening_balance, ledger_totals
from funds.selectors.positions import (
    FundPosition,
    fund_position,
    fund_positions,
    position_of,
    source_position,
)
from funds.selectors.reports import current_year, fund_year_summary
from funds.services import approvals
from funds.services.ledger import (
    fund_checkpoint,
    fund_donation_record,
    fund_entry_reverse,
    fund_spend_actual,
    fund_spend_commit,
    standby_fund,
)
from tests.factories import FamilyFactory

SETTLED = datetime.timedelta(0)


def _api_position(user, fund: Fund) -> FundPosition:
    client = APIClient()
    client.force_authenticate(user)
    rows = {row["id"]: row for row in client.get("/api/v1/funds/").json()["results"]}
    body = rows[fund.pk]["position"]
    position = FundPosition(body["income_pence"], body["spent_pence"], body["committed_pence"])
    assert (body["balance_pence"], body["available_pence"]) == (
        position.balance_pence,
        position.available_pence,
    )
    return position


def _ledger_position(user, fund: Fund) -> tuple[int, int]:
    """The ledger page's closing balance and net commitments over the whole ledger."""
    filters = LedgerFilters(fund=fund)
    totals = ledger_totals(
        user=user, filters=filters, opening=ledger_opening_balance(user=user, filters=filters)
    )
    return totals.closing_pence, totals.committed_pence


@pytest.fixture
def checkpointed(finance, pastoral_a):
    """A fund with a checkpoint, then entries after it that reverse, release and spend across it."""
    fund = standby_fund()
    fund_donation_record(
        fund=fund,
        donor="Trustee",
        amount_pence=900_00,
        received_on=timezone.localdate(),
        gift_aid=False,
        actor=finance,
    )
    paid, kept = FamilyFactory(), FamilyFactory()
    fund_spend_commit(fund=fund, source=paid, amount_pence=120_00, category="coat", actor=pastoral_a)
    [spend] = fund_spend_actual(source=paid, actor=pastoral_a)
    fund_spend_commit(fund=fund, source=kept, amount_pence=45_00, category="shoes", actor=pastoral_a)
    assert fund_checkpoint(fund=fund, settled_after=SETTLED) is not None
    fund_entry_reverse(entry=spend, actor=finance, reason="Charged twice")
    fund_donation_record(
        fund=fund,
        donor="PTA",
        amount_pence=60_00,
        received_on=timezone.localdate(),
        gift_aid=False,
        actor=finance,
    )
    fund_spend_commit(
        fund=fund, source=FamilyFactory(), amount_pence=30_00, category="coat", actor=pastoral_a
    )
    return fund


def test_it_gives_the_same_position_from_every_door(checkpointed, finance):
    expected = FundPosition(income_pence=960_00, spent_pence=0, committed_pence=75_00)
    assert fund_position(fund=checkpointed) == expected
    assert fund_positions([checkpointed.pk])[checkpointed.pk] == expected
    assert _api_position(finance, checkpointed) == expected
    assert _ledger_position(finance, checkpointed) == (expected.balance_pence, expected.committed_pence)
    summary = fund_year_summary(fund=checkpointed, year=current_year())
    assert summary.now == summary.closing == expected
    assert position_of(LedgerEntry.objects.filter(fund=checkpointed)) == expected


def test_the_sums_compiled_once_follow_each_new_entry_and_each_source(checkpointed, finance, pastoral_a):
    """``fund_position`` and ``source_position`` run SQL compiled once per connection (the fund's lock is
    held while they run): each call reads the ledger as it is now, for the fund or source asked."""
    other = Fund.objects.create(name="Uniform fund")
    for _ in range(2):  # compiled, then from the cache
        for fund in (checkpointed, other):
            assert fund_position(fund=fund) == position_of(LedgerEntry.objects.filter(fund=fund))
        for source_type_id, source_id in (
            LedgerEntry.objects.values_list("source_type_id", "source_id").distinct().order_by()
        ):
            assert source_position(source_type_id=source_type_id, source_id=source_id) == position_of(
                LedgerEntry.objects.filter(source_type_id=source_type_id, source_id=source_id)
            )
        fund_donation_record(
            fund=other,
            donor="PTA",
            amount_pence=10_00,
            received_on=timezone.localdate(),
            gift_aid=False,
            actor=finance,
        )
    assert fund_position(fund=other).income_pence == 20_00
    assert source_position(source_type_id=1, source_id="no such source") == FundPosition(0, 0, 0)


def test_the_api_and_the_queue_read_the_checkpoint_not_the_whole_ledger(checkpointed, finance):
    """A checkpoint's totals are what the fund held up to it (history archived or brought forward),
    whatever the entries below it add up to: every reader of the position now must start from it."""
    last = LedgerEntry.objects.filter(fund=checkpointed).latest("pk")
    FundCheckpoint.objects.create(
        fund=checkpointed,
        up_to_entry_id=last.pk,
        income_pence=5_000_00,
        spent_pence=1_000_00,
        committed_pence=0,
    )
    brought_forward = FundPosition(5_000_00, 1_000_00, 0)
    assert fund_position(fund=checkpointed) == brought_forward
    assert fund_positions([checkpointed.pk]) == {checkpointed.pk: brought_forward}
    assert _api_position(finance, checkpointed) == brought_forward
    assert fund_year_summary(fund=checkpointed, year=current_year()).now == brought_forward
    assert position_of(LedgerEntry.objects.filter(fund=checkpointed)) != brought_forward


def test_it_reads_a_page_of_funds_each_from_its_own_checkpoint(checkpointed, finance, school_a, pastoral_a):
    other = Fund.objects.create(name="Alpha hardship budget", school=school_a)
    fund_donation_record(
        fund=other,
        donor="PTA",
        amount_pence=80_00,
        received_on=timezone.localdate(),
        gift_aid=False,
        actor=finance,
    )
    empty = Fund.objects.create(name="Empty")
    fund_checkpoint(fund=checkpointed, settled_after=SETTLED)  # a second, later checkpoint for one fund
    fund_spend_commit(
        fund=checkpointed, source=FamilyFactory(), amount_pence=5_00, category="coat", actor=pastoral_a
    )
    positions = fund_positions([checkpointed.pk, other.pk, empty.pk])
    assert positions == {each.pk: fund_position(fund=each) for each in (checkpointed, other, empty)}
    assert positions[checkpointed.pk].committed_pence == 80_00
    assert fund_positions([]) == {}


class _Decisions:
    def approved(self, source, *, actor, note): ...

    def rejected(self, source, *, actor, note): ...

    def sent_back(self, source, *, actor, note): ...

    def url(self, source) -> str:
        return f"/families/{source.pk}/"


def test_the_approvals_queue_shows_each_funds_position_now(
    checkpointed, finance, lead_a, school_a, monkeypatch
):
    monkeypatch.setitem(approvals._HANDLERS, "support.family", _Decisions())
    other = Fund.objects.create(name="Alpha hardship budget", school=school_a)
    for fund in (checkpointed, other, checkpointed):
        approvals.spend_request_open(
            fund=fund,
            source=FamilyFactory(),
            amount_pence=2_000_00,
            category="coat",
            school=school_a,
            summary="Coat",
            reason="Outgrown",
            actor=lead_a,
        )
    queue = approvals.approval_queue(user=finance)
    assert len(queue) == 3
    assert [row.position for row in queue] == [fund_position(fund=row.request.fund) for row in queue]
    assert queue[0].position == FundPosition(income_pence=960_00, spent_pence=0, committed_pence=75_00)


def test_a_commitment_for_a_new_source_needs_the_callers_transaction(db, finance):
    """``new_source`` skips the savepoint: outside a transaction it is refused before anything is written."""
    from types import SimpleNamespace

    from django.db import transaction
    from django.db.transaction import TransactionManagementError

    from funds.services.ledger import fund_spend_commit, standby_fund

    fund = standby_fund()
    outside = SimpleNamespace(in_atomic_block=False)  # as outside the test's own transaction
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transaction, "get_connection", lambda using=None: outside)
        with pytest.raises(TransactionManagementError):
            fund_spend_commit(
                fund=fund, source=finance, amount_pence=1, category="x", actor=finance, new_source=True
            )
