"""The finance summaries: a small ledger built by hand through the fund services, its figures worked out
on paper, and the summary's query count, which must not grow with the number of entries.

Ledger entries are stamped with the time they are made; ``clock`` moves that time, so the ledger can
span last year and this one. Families stand in for the vouchers and requests that commit money.
"""

import datetime
from dataclasses import dataclass

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from funds.models import Fund, FundAllocation, LedgerEntry, Pledge
from funds.selectors import funds_visible_to
from funds.selectors.positions import FundPosition, fund_position
from funds.selectors.reports import (
    TRUST_WIDE,
    Flows,
    fund_year_summary,
)
from funds.services.ledger import (
    fund_commitment_release,
    fund_donation_record,
    fund_entry_reverse,
    fund_spend_actual,
    fund_spend_commit,
    standby_fund,
)
from funds.services.pledges import donation_list
from tests.factories import FamilyFactory, SchoolFactory

TODAY = datetime.date(2026, 3, 15)


@dataclass
class Ledger:
    fund: Fund
    school_a: object
    school_b: object
    school_c: object


def build_ledger(*, finance, school_a, school_b, clock) -> Ledger:
    """Last year (to 31 August 2025) and this year (2025–26) up to TODAY. The expected figures are
    worked out in the tests below."""
    fund = standby_fund()
    school_c = SchoolFactory(name="Gamma Alternative Provision")
    d = datetime.date

    def donate(day, pence, **extra):
        clock(day)
        values = {"donor": "Riverton Rotary", "received_on": day, "gift_aid": False}
        return fund_donation_record(fund=fund, amount_pence=pence, actor=finance, **{**values, **extra})

    def commit(day, pence, category, school=None):
        clock(day)
        source = FamilyFactory()
        fund_spend_commit(
            fund=fund, source=source, amount_pence=pence, category=category, school=school, actor=finance
        )
        return source

    def actual(day, source):
        clock(day)
        return fund_spend_actual(source=source, actor=finance)

    # Last year: £1,000 in; £50 of food vouchers at A and £20 of trust-wide uniform spent; £30 of a coat
    # at B still committed on 31 August.
    donate(d(2025, 1, 10), 100_000)
    actual(d(2025, 5, 20), commit(d(2025, 5, 1), 2_000, "uniform"))
    actual(d(2025, 7, 1), commit(d(2025, 6, 10), 5_000, "voucher:food_parcel", school_a))
    coat_b_last_year = commit(d(2025, 8, 30), 3_000, "coat", school_b)

    # This year.
    donate(d(2025, 9, 5), 50_000, gift_aid=True, restricted_purpose="coat", donor="Trustee One")
    wrong = donate(d(2025, 9, 20), 20_000, donor="Recorded twice")
    clock(d(2025, 10, 2))
    fund_entry_reverse(
        entry=LedgerEntry.objects.get(source_id=str(wrong.pk), kind="income"), actor=finance, reason="Twice"
    )
    food_a = commit(d(2025, 10, 10), 2_500, "voucher:food_parcel", school_a)
    coat_b = commit(d(2025, 10, 15), 4_000, "coat", school_b)
    actual(d(2025, 11, 3), food_a)
    white_goods_a = commit(d(2025, 11, 20), 6_000, "voucher:white_goods", school_a)
    clock(d(2025, 12, 1))
    fund_commitment_release(source=coat_b, actor=finance, note="Cancelled")
    actual(d(2026, 1, 5), coat_b_last_year)
    [spend] = actual(d(2026, 1, 10), white_goods_a)
    clock(d(2026, 2, 1))
    fund_entry_reverse(entry=spend, actor=finance, reason="Charged to the wrong fund")
    commit(d(2026, 2, 14), 10_000, "shoes")

    FundAllocation.objects.create(fund=fund, school=school_a, financial_year=2025, amount_pence=50_000)
    FundAllocation.objects.create(fund=fund, school=school_c, financial_year=2025, amount_pence=20_000)
    FundAllocation.objects.create(fund=fund, school=school_b, financial_year=2024, amount_pence=99_900)
    return Ledger(fund, school_a, school_b, school_c)


@pytest.fixture
def ledger(finance, school_a, school_b, clock) -> Ledger:
    return build_ledger(finance=finance, school_a=school_a, school_b=school_b, clock=clock)


def _position(income, spent, committed) -> FundPosition:
    return FundPosition(income_pence=income, spent_pence=spent, committed_pence=committed)


def test_it_totals_the_year_from_the_entries_made_in_it(ledger):
    summary = fund_year_summary(fund=ledger.fund, year=2025, today=TODAY)

    assert summary.opening == _position(100_000, 7_000, 3_000)
    # The reversed donation and the reversed white goods spend count for nothing.
    assert summary.flows == Flows(
        income_pence=50_000, spent_pence=5_500, committed_pence=22_500, released_pence=15_500
    )
    assert summary.closing == _position(150_000, 12_500, 10_000)
    assert (summary.balance_pence, summary.available_pence) == (137_500, 127_500)
    assert summary.now == fund_position(fund=ledger.fund) == summary.closing
    assert summary.as_at == TODAY
    assert summary.is_current
    assert summary.label == "2025–26"


def test_it_gives_each_month_its_flows_and_closing_position(ledger):
    months = fund_year_summary(fund=ledger.fund, year=2025, today=TODAY).months

    assert [m.key for m in months] == [
        "2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02",
        "2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08",
    ]  # fmt: skip
    flows = [(m.flows.income_pence, m.flows.spent_pence, m.flows.committed_pence) for m in months[:6]]
    assert flows == [
        (70_000, 0, 0),  # the second donation reversed in October
        (-20_000, 0, 6_500),
        (0, 2_500, 6_000),
        (0, 0, 0),
        (0, 9_000, 0),
        (0, -6_000, 10_000),  # January's white goods spend reversed in February
    ]
    burn_down = [(m.closing.balance_pence, m.closing.available_pence) for m in months[:7]]
    assert burn_down == [
        (163_000, 160_000),
        (143_000, 133_500),
        (140_500, 127_500),
        (140_500, 131_500),
        (131_500, 131_500),
        (137_500, 127_500),
        (137_500, 127_500),  # March, to date
    ]
    assert [m.closing for m in months[7:]] == [None] * 5  # not yet


def test_it_splits_spend_by_school_against_allocations(ledger):
    schools = fund_year_summary(fund=ledger.fund, year=2025, today=TODAY).schools

    rows = [
        (s.name, s.spent_pence, s.committed_pence, s.allocation_pence, s.remaining_pence) for s in schools
    ]
    assert rows == [
        ("Beta Secondary Academy", 3_000, 0, None, None),  # last year's coat, handed over in January
        ("Alpha Primary Academy", 2_500, 0, 50_000, 47_500),  # white goods reversed
        ("Gamma Alternative Provision", 0, 0, 20_000, 20_000),  # allocated, nothing spent
        (TRUST_WIDE, 0, 10_000, None, None),  # shoes committed, not charged to a school
    ]
    assert schools[-1].school_id is None


def test_it_splits_spend_by_category_with_vouchers_by_service(ledger):
    summary = fund_year_summary(fund=ledger.fund, year=2025, today=TODAY)

    groups = [(g.key, g.label, g.spent_pence, g.committed_pence) for g in summary.categories]
    assert groups == [
        ("voucher", "Vouchers", 2_500, 0),
        ("coat", "Coats", 3_000, 0),
        ("shoes", "Shoes", 0, 10_000),
    ]
    [vouchers] = [g for g in summary.categories if g.key == "voucher"]
    assert [(r.key, r.label) for r in vouchers.rows] == [("voucher:food_parcel", "Vouchers: food parcel")]
    assert vouchers.has_detail
    assert [r.key for r in summary.category_rows] == ["shoes", "coat", "voucher:food_parcel"]


def test_it_sets_restricted_donations_against_their_purpose(ledger):
    [coats] = fund_year_summary(fund=ledger.fund, year=2025, today=TODAY).restricted

    assert (coats.purpose, coats.label) == ("coat", "Coats")
    assert (coats.received_pence, coats.spent_pence, coats.committed_pence) == (50_000, 3_000, 0)
    assert coats.unspent_pence == 47_000


def test_it_leaves_a_reversed_restricted_donation_out(ledger, finance):
    fund_entry_reverse(
        entry=LedgerEntry.objects.get(kind="income", category="donation", amount_pence=50_000),
        actor=finance,
        reason="Bounced",
    )
    assert fund_year_summary(fund=ledger.fund, year=2025, today=TODAY).restricted == []


def test_it_lists_active_pledges_past_due(ledger, finance):
    def pledge(donor, next_due, **extra):
        return Pledge.objects.create(
            fund=ledger.fund,
            donor=donor,
            amount_pence=1_000_000,
            next_due=next_due,
            created_by=finance,
            **extra,
        )

    late = pledge("Trustee One", datetime.date(2026, 1, 1))
    pledge("Trustee Two", datetime.date(2026, 4, 1))
    pledge("Stopped", datetime.date(2025, 12, 1), is_active=False)
    pledge("Due today", TODAY)

    assert fund_year_summary(fund=ledger.fund, year=2025, today=TODAY).overdue_pledges == [late]


def test_it_summarises_a_past_year_as_it_stood_on_31_august(ledger):
    summary = fund_year_summary(fund=ledger.fund, year=2024, today=TODAY)

    assert summary.opening == _position(0, 0, 0)
    assert summary.closing == _position(100_000, 7_000, 3_000)
    assert summary.now == _position(150_000, 12_500, 10_000)
    assert summary.as_at == datetime.date(2025, 8, 31)
    assert not summary.is_current
    assert all(m.closing is not None for m in summary.months)
    assert [(s.name, s.spent_pence, s.committed_pence, s.allocation_pence) for s in summary.schools] == [
        ("Alpha Primary Academy", 5_000, 0, None),
        ("Beta Secondary Academy", 0, 3_000, 99_900),
        (TRUST_WIDE, 2_000, 0, None),
    ]
    assert [(g.key, g.total_pence) for g in summary.categories] == [
        ("voucher", 5_000),
        ("coat", 3_000),
        ("uniform", 2_000),
    ]


def test_it_shows_a_year_not_yet_started_as_the_opening_position(ledger):
    summary = fund_year_summary(fund=ledger.fund, year=2026, today=TODAY)

    assert summary.opening == summary.closing == summary.now
    assert summary.flows == Flows()
    assert not summary.has_started
    assert all(m.closing is None for m in summary.months)


def test_it_keeps_other_funds_out(ledger, finance, school_a):
    other = Fund.objects.create(name="Alpha hardship budget", school=school_a)
    fund_donation_record(
        fund=other,
        donor="PTA",
        amount_pence=9_999,
        received_on=TODAY,
        today=TODAY,
        gift_aid=False,
        actor=finance,
    )

    assert fund_year_summary(fund=ledger.fund, year=2025, today=TODAY).income_pence == 50_000
    assert fund_year_summary(fund=other, year=2025, today=TODAY).income_pence == 9_999


def test_it_lists_the_years_donations_marking_reversed_ones(ledger, finance):
    donations = list(donation_list(user=finance, fund=ledger.fund, year=2025))

    assert [(d.donor, d.amount_pence, d.gift_aid, d.is_reversed) for d in donations] == [
        ("Recorded twice", 20_000, False, True),
        ("Trustee One", 50_000, True, False),
    ]


def test_it_counts_a_month_in_the_trusts_time_zone(finance):
    fund = standby_fund()
    fund_donation_record(
        fund=fund,
        donor="Start",
        amount_pence=10_000,
        received_on=TODAY,
        today=TODAY,
        gift_aid=False,
        actor=finance,
    )
    # 23:30 UTC on 31 August is 00:30 on 1 September in London (summer time): this year, in September.
    with time_machine.travel(datetime.datetime(2025, 8, 31, 23, 30, tzinfo=datetime.UTC), tick=False):
        entry = fund_spend_commit(
            fund=fund, source=FamilyFactory(), amount_pence=100, category="coat", actor=finance
        )
    assert entry.occurred_on == datetime.date(2025, 9, 1)
    summary = fund_year_summary(fund=fund, year=2025, today=TODAY)
    assert (summary.opening.committed_pence, summary.months[0].flows.committed_pence) == (0, 100)


def test_it_runs_the_same_number_of_queries_however_many_entries(ledger, finance, school_a, clock):
    fund_year_summary(fund=ledger.fund, year=2025, today=TODAY)  # content types cached
    with CaptureQueriesContext(connection) as small:
        fund_year_summary(fund=ledger.fund, year=2025, today=TODAY)

    clock(datetime.date(2025, 12, 24))
    for index in range(30):
        source = FamilyFactory()
        fund_spend_commit(
            fund=ledger.fund,
            source=source,
            amount_pence=100 + index,
            category=["coat", "shoes", "voucher:furniture"][index % 3],
            school=[school_a, None][index % 2],
            actor=finance,
        )
        if index % 2:
            [spend] = fund_spend_actual(source=source, actor=finance)
            if index % 3 == 0:
                fund_entry_reverse(entry=spend, actor=finance, reason="Test")
    fund_donation_record(
        fund=ledger.fund,
        donor="More",
        amount_pence=500,
        received_on=datetime.date(2025, 12, 24),
        gift_aid=False,
        restricted_purpose="shoes",
        actor=finance,
    )
    with CaptureQueriesContext(connection) as large:
        fund_year_summary(fund=ledger.fund, year=2025, today=TODAY)

    assert len(large) == len(small) <= 10


def test_only_finance_and_admins_see_funds(ledger, finance, admin, pastoral_a, charity_staff):
    assert list(funds_visible_to(finance)) == [ledger.fund]
    assert list(funds_visible_to(admin)) == [ledger.fund]
    assert list(funds_visible_to(pastoral_a)) == []
    assert list(funds_visible_to(charity_staff)) == []
    assert list(funds_visible_to(None)) == []


def test_the_years_totals_are_the_summarys_figures_from_one_pass(ledger):
    """``fund_years_totals`` (the impact report's) gives for each year what ``fund_year_summary`` gives
    (the ledger's reversals included), in three queries for both years: the latest checkpoint (none
    here), the entries and their reversals."""
    from funds.selectors.reports import fund_years_totals

    assert LedgerEntry.objects.filter(fund=ledger.fund, kind=LedgerEntry.Kind.REVERSAL).exists()
    with CaptureQueriesContext(connection) as queries:
        totals = fund_years_totals(fund=ledger.fund, years=[2024, 2025])
    assert len(queries) == 3
    for year in (2024, 2025):
        summary = fund_year_summary(fund=ledger.fund, year=year, today=TODAY)
        got = totals[year]
        assert (got.income_pence, got.spent_pence, got.committed_pence) == (
            summary.income_pence,
            summary.spent_pence,
            summary.committed_pence,
        )
        assert got.categories == summary.categories
        schools = {row.school_id: (row.spent_pence, row.committed_pence) for row in summary.schools}
        assert {k: v for k, v in got.schools.items() if v != (0, 0)} == {
            k: v for k, v in schools.items() if v != (0, 0)
        }
    assert totals[2025].spent_pence > 0
    assert totals[2024].income_pence > 0
