"""A voucher's face value goes through the fund: committed on issue, actual on redemption, released on
cancellation or expiry. Types with no fund touch no ledger."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from funds.models import LedgerEntry
from funds.selectors.positions import fund_position
from funds.services.ledger import fund_donation_record, standby_fund
from support.errors import SupportError
from vouchers.models import Voucher, VoucherType
from vouchers.services import voucher_cancel, voucher_expire_due, voucher_redeem

Kind = LedgerEntry.Kind


@pytest.fixture
def fund(finance):
    fund = standby_fund()
    fund_donation_record(
        fund=fund,
        donor="Trustee",
        amount_pence=60_00,
        received_on=datetime.date.today(),
        gift_aid=False,
        actor=finance,
    )
    return fund


@pytest.fixture
def paid_type(partner_1, fund):
    return VoucherType.objects.create(
        partner=partner_1,
        service="white_goods",
        name="Cooker",
        face_value_pence=25_00,
        validity_days=28,
        limit_count=10,
        fund=fund,
    )


def _entries(voucher):
    return list(
        LedgerEntry.objects.filter(
            source_type=ContentType.objects.get_for_model(Voucher), source_id=str(voucher.pk)
        )
        .order_by("pk")
        .values_list("kind", "amount_pence", "category", "school_id")
    )


def test_issuing_commits_the_face_value_against_the_types_fund(issue, family_a, paid_type, fund, school_a):
    voucher = issue(family_a, paid_type)
    assert _entries(voucher) == [(Kind.COMMITMENT, 25_00, "voucher:white_goods", school_a.pk)]
    position = fund_position(fund=fund)
    assert (position.balance_pence, position.committed_pence, position.available_pence) == (
        60_00,
        25_00,
        35_00,
    )


def test_issuing_is_refused_when_the_fund_cannot_afford_it_and_nothing_is_kept(
    issue, family_a, paid_type, fund
):
    issue(family_a, paid_type)
    issue(family_a, paid_type)  # £10 left: a third £25 voucher cannot be afforded
    before = Voucher.objects.count()
    with pytest.raises(SupportError) as refused:
        issue(family_a, paid_type)
    assert refused.value.code == "insufficient_funds"
    assert "£10.00 available" in refused.value.message
    assert Voucher.objects.count() == before
    assert fund_position(fund=fund).available_pence == 10_00


def test_redeeming_makes_the_commitment_actual(issue, family_a, paid_type, fund, partner_1, charity_staff):
    voucher = issue(family_a, paid_type)
    voucher_redeem(voucher=voucher, partner=partner_1, redeemed_by=charity_staff)
    assert [kind for kind, *_ in _entries(voucher)] == [Kind.COMMITMENT, Kind.COMMITMENT_RELEASE, Kind.SPEND]
    position = fund_position(fund=fund)
    assert (position.spent_pence, position.committed_pence, position.available_pence) == (25_00, 0, 35_00)


def test_cancelling_releases_the_commitment(issue, family_a, paid_type, fund, pastoral_a):
    voucher = issue(family_a, paid_type)
    voucher_cancel(voucher=voucher, actor=pastoral_a, reason="Issued to the wrong family")
    assert [kind for kind, *_ in _entries(voucher)] == [Kind.COMMITMENT, Kind.COMMITMENT_RELEASE]
    position = fund_position(fund=fund)
    assert (position.spent_pence, position.committed_pence, position.available_pence) == (0, 0, 60_00)


def test_expiry_releases_every_commitment_once_in_a_fixed_number_of_queries(issue, family_a, paid_type, fund):
    counts, vouchers = [], []
    for how_many, days in ((1, 60), (2, 120)):
        batch = [issue(family_a, paid_type) for _ in range(how_many)]
        vouchers += batch
        with CaptureQueriesContext(connection) as queries:
            assert voucher_expire_due(today=datetime.date.today() + datetime.timedelta(days=days)) == how_many
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert voucher_expire_due(today=datetime.date.today() + datetime.timedelta(days=200)) == 0
    for voucher in vouchers:
        assert [kind for kind, *_ in _entries(voucher)] == [Kind.COMMITMENT, Kind.COMMITMENT_RELEASE]
    assert fund_position(fund=fund).committed_pence == 0


def test_a_type_paid_by_no_fund_writes_no_ledger_entries(
    issue, family_a, food_type, partner_1, charity_staff
):
    voucher = issue(family_a, food_type)
    voucher_redeem(voucher=voucher, partner=partner_1, redeemed_by=charity_staff)
    assert not LedgerEntry.objects.exists()


def test_a_redemption_is_dated_the_day_it_happened_in_the_trusts_calendar_as_its_statement_counts_it(
    issue, family_a, paid_type, partner_1, charity_staff
):
    import time_machine

    from vouchers.statements import statement_summary

    with time_machine.travel(datetime.datetime(2026, 9, 30, 9, 0, tzinfo=datetime.UTC), tick=False):
        voucher = issue(family_a, paid_type)
    # 23:30 UTC on 30 September is 00:30 on 1 October in London.
    with time_machine.travel(datetime.datetime(2026, 9, 30, 23, 30, tzinfo=datetime.UTC), tick=False):
        voucher_redeem(voucher=voucher, partner=partner_1, redeemed_by=charity_staff)

    dated = dict(
        LedgerEntry.objects.filter(source_id=str(voucher.pk))
        .values_list("kind", "occurred_on")
        .order_by("pk")
    )
    assert dated[Kind.COMMITMENT] == datetime.date(2026, 9, 30)
    assert dated[Kind.SPEND] == dated[Kind.COMMITMENT_RELEASE] == datetime.date(2026, 10, 1)
    assert statement_summary(partner=partner_1, month=datetime.date(2026, 10, 1)).count == 1
    assert statement_summary(partner=partner_1, month=datetime.date(2026, 9, 1)).count == 0
