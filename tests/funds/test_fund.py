"""The fund ledger: donations, commitments, actual spend, releases, reversals, and append-only rows.

Any saved model can be a ledger source; these tests use families as stand-ins for the feature apps'
vouchers, gifts and requests.
"""

import datetime
from contextlib import suppress

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, IntegrityError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funds.models import Donation, Fund, FundCheckpoint, LedgerEntry, LedgerImmutableError, Pledge
from funds.selectors.positions import FundPosition, fund_position, position_of
from funds.services.ledger import (
    fund_checkpoint,
    fund_checkpoint_all,
    fund_commitment_release,
    fund_donation_record,
    fund_entry_reverse,
    fund_spend_actual,
    fund_spend_commit,
    next_due_after,
    standby_fund,
)
from funds.tasks import checkpoint_funds
from support.errors import SupportError
from support.models import AuditEvent
from tests.factories import FamilyFactory

Kind = LedgerEntry.Kind
TODAY = datetime.date(2025, 11, 3)


@pytest.fixture
def fund(db):
    return standby_fund()


def _donate(fund, finance, amount_pence: int, **extra) -> Donation:
    values = {"donor": "Riverton Rotary", "received_on": TODAY, "gift_aid": False, "restricted_purpose": ""}
    values.update(extra)
    return fund_donation_record(fund=fund, amount_pence=amount_pence, actor=finance, **values)


def _commit(fund, actor, amount_pence: int, *, source=None, **extra) -> LedgerEntry:
    return fund_spend_commit(
        fund=fund,
        source=source or FamilyFactory(),
        amount_pence=amount_pence,
        category="voucher:food_parcel",
        actor=actor,
        **extra,
    )


def _assert_consistent(fund) -> FundPosition:
    position = fund_position(fund=fund)
    assert position.balance_pence == position.income_pence - position.spent_pence
    assert position.balance_pence - position.committed_pence == position.available_pence
    return position


# Standby fund and donations


def test_it_gets_or_creates_the_standby_fund_once(db):
    first = standby_fund()
    assert standby_fund() == first
    assert Fund.objects.filter(name="Standby fund").count() == 1
    assert AuditEvent.objects.filter(action="fund.created").count() == 1


def test_it_starts_a_fund_at_zero(fund):
    assert fund_position(fund=fund) == FundPosition(income_pence=0, spent_pence=0, committed_pence=0)
    assert fund_position(fund=fund).available_pence == 0


def test_it_records_a_donation_as_income_and_audits_it(fund, finance):
    donation = _donate(fund, finance, 50_00, gift_aid=True, restricted_purpose="coat")
    stored = Donation.objects.get(pk=donation.pk)
    assert (stored.donor, stored.amount_pence, stored.received_on) == ("Riverton Rotary", 5000, TODAY)
    assert stored.gift_aid is True
    assert stored.restricted_purpose == "coat"
    assert stored.recorded_by == finance
    entry = LedgerEntry.objects.get(fund=fund)
    assert (entry.kind, entry.amount_pence, entry.category) == (Kind.INCOME, 5000, "donation")
    assert entry.source_type == ContentType.objects.get_for_model(Donation)
    assert entry.source_id == str(donation.pk)
    position = _assert_consistent(fund)
    assert (position.balance_pence, position.committed_pence, position.available_pence) == (5000, 0, 5000)
    event = AuditEvent.objects.get(action="donation.recorded")
    assert event.actor == finance
    assert event.after["amount_pence"] == 5000
    assert event.after["gift_aid"] is True


def test_it_lets_a_trust_admin_record_a_donation(fund, admin):
    _donate(fund, admin, 10_00)
    assert fund_position(fund=fund).balance_pence == 1000


@pytest.mark.parametrize("persona", ["pastoral_a", "lead_a"])
def test_it_refuses_donations_from_school_staff(fund, persona, request):
    user = request.getfixturevalue(persona)
    with pytest.raises(SupportError) as caught:
        _donate(fund, user, 10_00)
    assert caught.value.code == "forbidden"
    assert not Donation.objects.exists()
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize("amount", [0, -500, 12.5, True])
def test_it_refuses_a_donation_that_is_not_positive_whole_pence(fund, finance, amount):
    with pytest.raises(SupportError) as caught:
        _donate(fund, finance, amount)
    assert caught.value.code == "invalid"
    assert not Donation.objects.exists()


def test_it_refuses_a_donation_without_a_donor(fund, finance):
    with pytest.raises(SupportError) as caught:
        _donate(fund, finance, 10_00, donor="  ")
    assert caught.value.field == "donor"


def test_it_refuses_money_in_or_out_of_a_closed_fund(finance, pastoral_a):
    closed = Fund.objects.create(name="Old appeal", is_active=False)
    with pytest.raises(SupportError) as caught:
        _donate(closed, finance, 10_00)
    assert caught.value.code == "fund_inactive"
    with pytest.raises(SupportError) as caught:
        _commit(closed, pastoral_a, 10_00)
    assert caught.value.code == "fund_inactive"


# Commitments, actual spend, releases


def test_it_commits_spend_and_reduces_available_but_not_balance(fund, finance, pastoral_a, school_a):
    _donate(fund, finance, 100_00)
    source = FamilyFactory()
    entry = _commit(fund, pastoral_a, 25_00, source=source, school=school_a)
    assert (entry.kind, entry.amount_pence, entry.school, entry.category) == (
        Kind.COMMITMENT,
        2500,
        school_a,
        "voucher:food_parcel",
    )
    assert entry.source_id == str(source.pk)
    assert entry.override_reason == ""
    position = _assert_consistent(fund)
    assert (position.balance_pence, position.committed_pence, position.available_pence) == (10000, 2500, 7500)
    assert AuditEvent.objects.get(action="fund.spend_committed").subject_id == str(entry.pk)


def test_it_refuses_spend_that_would_take_available_below_zero(fund, finance, pastoral_a):
    _donate(fund, finance, 30_00)
    _commit(fund, pastoral_a, 25_00)
    with pytest.raises(SupportError) as caught:
        _commit(fund, pastoral_a, 5_01)
    assert caught.value.code == "insufficient_funds"
    assert "£5.00" in caught.value.message
    _commit(fund, pastoral_a, 5_00)  # exactly to zero is allowed
    assert _assert_consistent(fund).available_pence == 0
    assert LedgerEntry.objects.filter(kind=Kind.COMMITMENT).count() == 2


def test_it_lets_finance_override_with_a_reason_and_audits_it(fund, finance):
    _donate(fund, finance, 10_00)
    entry = _commit(fund, finance, 25_00, override_reason="  Family fleeing domestic abuse  ")
    assert entry.override_reason == "Family fleeing domestic abuse"
    assert _assert_consistent(fund).available_pence == -15_00
    event = AuditEvent.objects.get(action="fund.spend_overridden")
    assert event.note == "Family fleeing domestic abuse"
    assert event.before == {"available_pence": 1000}
    assert event.after == {"available_pence": -1500}


def test_it_keeps_no_override_when_none_was_needed(fund, finance):
    _donate(fund, finance, 100_00)
    entry = _commit(fund, finance, 25_00, override_reason="just in case")
    assert entry.override_reason == ""
    assert not AuditEvent.objects.filter(action="fund.spend_overridden").exists()


@pytest.mark.parametrize("persona", ["pastoral_a", "lead_a", "admin"])
def test_it_refuses_an_override_by_anyone_but_finance(fund, finance, persona, request):
    _donate(fund, finance, 10_00)
    with pytest.raises(SupportError) as caught:
        _commit(fund, request.getfixturevalue(persona), 25_00, override_reason="urgent")
    assert caught.value.code == "forbidden"
    assert not LedgerEntry.objects.filter(kind=Kind.COMMITMENT).exists()


def test_it_refuses_an_override_without_a_reason(fund, finance):
    with pytest.raises(SupportError) as caught:
        _commit(fund, finance, 25_00, override_reason="   ")
    assert caught.value.code == "insufficient_funds"


@pytest.mark.parametrize("amount", [0, -1, 2.5])
def test_it_refuses_a_commitment_that_is_not_positive_whole_pence(fund, finance, amount):
    _donate(fund, finance, 10_00)
    with pytest.raises(SupportError) as caught:
        _commit(fund, finance, amount)
    assert caught.value.code == "invalid"


def test_it_refuses_to_commit_twice_for_the_same_source(fund, finance, pastoral_a):
    _donate(fund, finance, 100_00)
    source = FamilyFactory()
    _commit(fund, pastoral_a, 25_00, source=source)
    with pytest.raises(SupportError) as caught:
        _commit(fund, pastoral_a, 25_00, source=source)
    assert caught.value.code == "already_committed"
    fund_spend_actual(source=source, actor=pastoral_a)
    with pytest.raises(SupportError) as caught:
        _commit(fund, pastoral_a, 25_00, source=source)
    assert caught.value.code == "already_committed"


def test_it_lets_a_released_source_commit_again(fund, finance, pastoral_a):
    _donate(fund, finance, 100_00)
    source = FamilyFactory()
    _commit(fund, pastoral_a, 25_00, source=source)
    fund_commitment_release(source=source, actor=pastoral_a)
    _commit(fund, pastoral_a, 30_00, source=source)
    assert _assert_consistent(fund).committed_pence == 3000


def test_it_keeps_a_school_budget_for_its_own_school(finance, pastoral_a, school_a, school_b):
    hardship = Fund.objects.create(name="Alpha hardship", school=school_a)
    _donate(hardship, finance, 100_00)
    for school in (None, school_b):
        with pytest.raises(SupportError) as caught:
            _commit(hardship, pastoral_a, 10_00, school=school)
        assert caught.value.code == "wrong_fund"
    _commit(hardship, pastoral_a, 10_00, school=school_a)
    assert fund_position(fund=hardship).committed_pence == 1000


def test_it_makes_a_commitment_actual_without_changing_available(fund, finance, pastoral_a, school_a):
    _donate(fund, finance, 100_00)
    source = FamilyFactory()
    _commit(fund, pastoral_a, 25_00, source=source, school=school_a)
    before = fund_position(fund=fund)
    [spend] = fund_spend_actual(source=source, actor=pastoral_a)
    assert (spend.kind, spend.amount_pence, spend.school, spend.category) == (
        Kind.SPEND,
        2500,
        school_a,
        "voucher:food_parcel",
    )
    after = _assert_consistent(fund)
    assert (after.balance_pence, after.committed_pence, after.spent_pence) == (7500, 0, 2500)
    assert after.available_pence == before.available_pence == 7500
    kinds = list(LedgerEntry.objects.exclude(kind=Kind.INCOME).order_by("pk").values_list("kind", flat=True))
    assert kinds == [Kind.COMMITMENT, Kind.COMMITMENT_RELEASE, Kind.SPEND]
    assert AuditEvent.objects.filter(action="fund.spend_actual").count() == 1


def test_it_makes_spend_actual_once_however_often_it_is_asked(fund, finance, pastoral_a):
    _donate(fund, finance, 100_00)
    source = FamilyFactory()
    _commit(fund, pastoral_a, 25_00, source=source)
    fund_spend_actual(source=source, actor=pastoral_a)
    count = LedgerEntry.objects.count()
    assert fund_spend_actual(source=source, actor=pastoral_a) == []
    assert fund_commitment_release(source=source, actor=pastoral_a) == []
    assert LedgerEntry.objects.count() == count
    assert fund_position(fund=fund).spent_pence == 2500


def test_it_releases_a_cancelled_commitment_once(fund, finance, pastoral_a):
    _donate(fund, finance, 100_00)
    source = FamilyFactory()
    _commit(fund, pastoral_a, 25_00, source=source)
    [release] = fund_commitment_release(source=source, actor=None, note="voucher expired")
    assert (release.kind, release.amount_pence, release.note) == (
        Kind.COMMITMENT_RELEASE,
        2500,
        "voucher expired",
    )
    assert fund_commitment_release(source=source, actor=None) == []
    assert fund_spend_actual(source=source, actor=pastoral_a) == []
    position = _assert_consistent(fund)
    assert (position.balance_pence, position.committed_pence, position.available_pence) == (10000, 0, 10000)
    event = AuditEvent.objects.get(action="fund.commitment_released")
    assert event.actor_label == "system"


def test_it_does_nothing_for_a_source_that_never_committed(fund, pastoral_a):
    source = FamilyFactory()
    assert fund_spend_actual(source=source, actor=pastoral_a) == []
    assert fund_commitment_release(source=source, actor=pastoral_a) == []
    assert not LedgerEntry.objects.exists()


def test_it_keeps_funds_apart(fund, finance, pastoral_a):
    other = Fund.objects.create(name="Christmas appeal")
    _donate(fund, finance, 10_00)
    _donate(other, finance, 500_00)
    with pytest.raises(SupportError):
        _commit(fund, pastoral_a, 20_00)
    _commit(other, pastoral_a, 20_00)
    assert fund_position(fund=fund).available_pence == 1000
    assert fund_position(fund=other).available_pence == 48000


# Reversals


def test_it_reverses_a_donation_with_a_reason(fund, finance):
    _donate(fund, finance, 50_00)
    income = LedgerEntry.objects.get(kind=Kind.INCOME)
    reversal = fund_entry_reverse(entry=income, actor=finance, reason="Cheque bounced")
    assert (reversal.kind, reversal.amount_pence, reversal.reverses, reversal.note) == (
        Kind.REVERSAL,
        5000,
        income,
        "Cheque bounced",
    )
    assert reversal.source_id == income.source_id
    position = _assert_consistent(fund)
    assert (position.income_pence, position.balance_pence, position.available_pence) == (0, 0, 0)
    event = AuditEvent.objects.get(action="fund.entry_reversed")
    assert event.note == "Cheque bounced"
    assert event.after["reverses"] == income.pk
    assert LedgerEntry.objects.get(pk=income.pk).amount_pence == 5000  # the original is untouched


def test_it_reverses_spend_and_gives_the_money_back(fund, finance, pastoral_a):
    _donate(fund, finance, 50_00)
    source = FamilyFactory()
    _commit(fund, pastoral_a, 20_00, source=source)
    [spend] = fund_spend_actual(source=source, actor=pastoral_a)
    fund_entry_reverse(entry=spend, actor=finance, reason="Charged to the wrong fund")
    position = _assert_consistent(fund)
    assert (position.spent_pence, position.balance_pence, position.available_pence) == (0, 5000, 5000)


@pytest.mark.parametrize("persona", ["pastoral_a", "lead_a", "admin"])
def test_it_lets_only_finance_reverse(fund, finance, persona, request):
    _donate(fund, finance, 50_00)
    income = LedgerEntry.objects.get(kind=Kind.INCOME)
    with pytest.raises(SupportError) as caught:
        fund_entry_reverse(entry=income, actor=request.getfixturevalue(persona), reason="mistake")
    assert caught.value.code == "forbidden"
    assert not LedgerEntry.objects.filter(kind=Kind.REVERSAL).exists()


def test_it_needs_a_reason_to_reverse(fund, finance):
    _donate(fund, finance, 50_00)
    income = LedgerEntry.objects.get(kind=Kind.INCOME)
    with pytest.raises(SupportError) as caught:
        fund_entry_reverse(entry=income, actor=finance, reason="   ")
    assert (caught.value.code, caught.value.field) == ("required", "reason")


def test_it_refuses_to_reverse_twice_or_to_reverse_a_reversal(fund, finance):
    _donate(fund, finance, 50_00)
    income = LedgerEntry.objects.get(kind=Kind.INCOME)
    reversal = fund_entry_reverse(entry=income, actor=finance, reason="Duplicate")
    with pytest.raises(SupportError) as caught:
        fund_entry_reverse(entry=income, actor=finance, reason="Again")
    assert caught.value.code == "already_reversed"
    with pytest.raises(SupportError) as caught:
        fund_entry_reverse(entry=reversal, actor=finance, reason="Undo the undo")
    assert caught.value.code == "not_reversible"
    assert LedgerEntry.objects.filter(kind=Kind.REVERSAL).count() == 1
    assert fund_position(fund=fund).balance_pence == 0


def test_it_refuses_to_reverse_a_commitment(fund, finance, pastoral_a):
    _donate(fund, finance, 50_00)
    commitment = _commit(fund, pastoral_a, 10_00)
    with pytest.raises(SupportError) as caught:
        fund_entry_reverse(entry=commitment, actor=finance, reason="wrong")
    assert caught.value.code == "not_reversible"


def test_the_database_allows_only_one_reversal_of_an_entry(fund, finance):
    _donate(fund, finance, 50_00)
    income = LedgerEntry.objects.get(kind=Kind.INCOME)
    fund_entry_reverse(entry=income, actor=finance, reason="Duplicate")
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(fund=fund, kind=Kind.REVERSAL, amount_pence=5000, reverses=income)


@pytest.mark.parametrize(
    "values",
    [
        {"kind": "income", "amount_pence": 0},
        {"kind": "spend", "amount_pence": -100},
        {"kind": "reversal", "amount_pence": 100},  # a reversal must say what it reverses
    ],
)
def test_the_database_refuses_malformed_entries(fund, values):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(fund=fund, **values)


# Append-only


@pytest.fixture
def entry(fund, finance):
    _donate(fund, finance, 50_00)
    return LedgerEntry.objects.get(kind=Kind.INCOME)


def test_it_refuses_to_change_or_delete_an_entry_through_the_model(entry):
    entry.amount_pence = 1
    with pytest.raises(LedgerImmutableError):
        entry.save()
    with pytest.raises(LedgerImmutableError):
        entry.delete()
    with pytest.raises(LedgerImmutableError):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount_pence=1)
    with pytest.raises(LedgerImmutableError):
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    assert LedgerEntry.objects.get(pk=entry.pk).amount_pence == 5000


def test_it_refuses_to_change_or_delete_a_donation_through_the_model(entry):
    donation = Donation.objects.get()
    donation.amount_pence = 1
    with pytest.raises(LedgerImmutableError):
        donation.save()
    with pytest.raises(LedgerImmutableError):
        donation.delete()
    with pytest.raises(LedgerImmutableError):
        Donation.objects.update(amount_pence=1)
    assert Donation.objects.get().amount_pence == 5000


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE funds_ledgerentry SET amount_pence = 1 WHERE id = %s",
        "DELETE FROM funds_ledgerentry WHERE id = %s",
        "UPDATE funds_donation SET amount_pence = 1 WHERE id = (SELECT max(id) FROM funds_donation)"
        " AND %s IS NOT NULL",
        "DELETE FROM funds_donation WHERE %s IS NOT NULL",
    ],
)
def test_it_refuses_raw_sql_changes_in_the_database_itself(entry, sql):
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [entry.pk])
    assert LedgerEntry.objects.get(pk=entry.pk).amount_pence == 5000
    assert Donation.objects.get().amount_pence == 5000


# The identities hold after any sequence of operations

AMOUNTS = st.integers(min_value=1, max_value=200_00)
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("donate"), AMOUNTS),
        st.tuples(st.just("commit"), AMOUNTS, st.booleans()),
        st.tuples(st.just("actual"), st.integers(min_value=0, max_value=20)),
        st.tuples(st.just("release"), st.integers(min_value=0, max_value=20)),
        st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=40)),
    ),
    max_size=25,
)


class _Rollback(Exception):
    """Raised to undo one hypothesis example's writes."""


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_the_position_identities_hold_after_any_sequence(fund, finance, pastoral_a, operations):
    # Each example rolls back, so the next one starts from the same empty fund.
    with suppress(_Rollback), transaction.atomic():
        _run_against_a_model(fund, finance, pastoral_a, operations)
        raise _Rollback


def _run_against_a_model(fund, finance, pastoral_a, operations) -> None:
    """Apply ``operations`` to the ledger and to a plain-integer model of it; they must agree."""
    income = spent = committed = 0
    sources: list = []  # (source, amount, state) with state in open / actual / released
    reversible: list[LedgerEntry] = []
    for operation in operations:
        name = operation[0]
        if name == "donate":
            _donate(fund, finance, operation[1])
            income += operation[1]
            reversible.append(LedgerEntry.objects.filter(kind=Kind.INCOME).order_by("-pk").first())
        elif name == "commit":
            amount, override = operation[1], operation[2]
            available = income - spent - committed
            source = FamilyFactory()
            refused = ""
            try:
                if override:
                    _commit(fund, finance, amount, source=source, override_reason="urgent need")
                else:
                    _commit(fund, pastoral_a, amount, source=source)
            except SupportError as exc:
                refused = exc.code
            if refused:
                assert (refused, override, amount > available) == ("insufficient_funds", False, True)
                continue
            assert override or amount <= available
            committed += amount
            sources.append([source, amount, "open"])
        elif name in ("actual", "release") and sources:
            item = sources[operation[1] % len(sources)]
            if name == "actual":
                made = fund_spend_actual(source=item[0], actor=pastoral_a)
                if item[2] == "open":
                    spent += item[1]
                    committed -= item[1]
                    item[2] = "actual"
                    reversible.extend(made)
                else:
                    assert made == []
            else:
                made = fund_commitment_release(source=item[0], actor=pastoral_a)
                if item[2] == "open":
                    committed -= item[1]
                    item[2] = "released"
                else:
                    assert made == []
        elif name == "reverse" and reversible:
            target = reversible.pop(operation[1] % len(reversible))
            fund_entry_reverse(entry=target, actor=finance, reason="correction")
            if target.kind == Kind.INCOME:
                income -= target.amount_pence
            else:
                spent -= target.amount_pence
        position = _assert_consistent(fund)
        assert position == FundPosition(income_pence=income, spent_pence=spent, committed_pence=committed)
        assert committed >= 0


# Admin


def test_it_adds_a_donation_in_the_admin_through_the_service(fund, admin, client_for):
    response = client_for(admin).post(
        "/admin/funds/donation/add/",
        {
            "fund": fund.pk,
            "donor": "Anonymous",
            "amount_pence": "12.34",  # the admin speaks pounds
            "received_on": "2025-11-03",
            "restricted_purpose": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    donation = Donation.objects.get()
    assert (donation.donor, donation.amount_pence, donation.recorded_by) == ("Anonymous", 1234, admin)
    assert fund_position(fund=fund).balance_pence == 1234
    assert AuditEvent.objects.filter(action="donation.recorded").count() == 1


def test_it_shows_the_ledger_read_only_in_the_admin(entry, admin, client_for):
    client = client_for(admin)
    assert client.get("/admin/funds/ledgerentry/").status_code == 200
    assert client.get("/admin/funds/ledgerentry/add/").status_code == 403
    assert client.get(f"/admin/funds/ledgerentry/{entry.pk}/delete/").status_code == 403
    change = client.post(f"/admin/funds/ledgerentry/{entry.pk}/change/", {"amount_pence": 1})
    assert change.status_code == 403
    assert LedgerEntry.objects.get(pk=entry.pk).amount_pence == 5000
    donation = Donation.objects.get()
    assert client.post(f"/admin/funds/donation/{donation.pk}/change/", {"donor": "x"}).status_code == 403


def test_it_hides_the_fund_admin_from_finance_and_school_staff(fund, finance, pastoral_a, client_for):
    for user in (finance, pastoral_a):
        assert client_for(user).get("/admin/funds/ledgerentry/").status_code in (302, 403)


def test_a_donation_may_be_restricted_only_to_a_known_purpose(fund, finance):
    with pytest.raises(SupportError) as refused:
        _donate(fund, finance, 50_00, restricted_purpose="Winter coats")
    assert refused.value.field == "restricted_purpose"
    assert not Donation.objects.exists()


@pytest.mark.parametrize(
    ("due", "frequency", "expected"),
    [
        (datetime.date(2026, 9, 1), "annual", datetime.date(2027, 9, 1)),
        (datetime.date(2026, 12, 15), "monthly", datetime.date(2027, 1, 15)),
        (datetime.date(2027, 1, 31), "monthly", datetime.date(2027, 2, 28)),
        (datetime.date(2028, 2, 29), "annual", datetime.date(2029, 2, 28)),
    ],
)
def test_a_pledge_falls_due_again_a_year_or_a_month_on(due, frequency, expected):
    assert next_due_after(due, frequency) == expected


def test_a_donation_against_a_pledge_moves_its_next_due_date_on(fund, finance):
    pledge = Pledge.objects.create(
        fund=fund, donor="Trustee A", amount_pence=10_000_00, next_due=TODAY, created_by=finance
    )
    donation = _donate(fund, finance, 10_000_00, pledge=pledge)
    pledge.refresh_from_db()
    assert donation.pledge == pledge
    assert pledge.next_due == next_due_after(TODAY, "annual")
    assert AuditEvent.objects.filter(action="pledge.received", subject_id=str(pledge.pk)).exists()


def test_a_stopped_pledge_or_another_funds_pledge_takes_no_donation(fund, finance):
    other = Fund.objects.create(name="Alpha hardship")
    stopped = Pledge.objects.create(
        fund=fund, donor="T", amount_pence=1_00, next_due=TODAY, created_by=finance, is_active=False
    )
    elsewhere = Pledge.objects.create(
        fund=other, donor="T", amount_pence=1_00, next_due=TODAY, created_by=finance
    )
    for pledge in (stopped, elsewhere):
        with pytest.raises(SupportError) as refused:
            _donate(fund, finance, 1_00, pledge=pledge)
        assert refused.value.field == "pledge"
    assert not Donation.objects.exists()


# Checkpoints: the position reads only the entries after the latest one


def _full_position(fund) -> FundPosition:
    return position_of(LedgerEntry.objects.filter(fund=fund))


def test_a_checkpoint_keeps_the_position_exactly_what_the_whole_ledger_says(fund, finance, pastoral_a):
    gift = _donate(fund, finance, 500_00)
    paid, kept, later = FamilyFactory(), FamilyFactory(), FamilyFactory()
    _commit(fund, pastoral_a, 40_00, source=paid)
    [spend] = fund_spend_actual(source=paid, actor=pastoral_a)
    _commit(fund, pastoral_a, 25_00, source=kept)
    first = fund_checkpoint(fund=fund, settled_after=datetime.timedelta(0))
    assert (first.income_pence, first.spent_pence, first.committed_pence) == (500_00, 40_00, 25_00)
    assert fund_checkpoint(fund=fund, settled_after=datetime.timedelta(0)) is None  # nothing new
    # After it: reversals of entries before it, a release, new spend.
    fund_entry_reverse(entry=spend, actor=finance, reason="Charged twice")
    fund_commitment_release(source=kept, actor=pastoral_a, note="Cancelled")
    fund_entry_reverse(entry=_income_of(gift), actor=finance, reason="Bounced")
    _donate(fund, finance, 80_00)
    _commit(fund, pastoral_a, 30_00, source=later)
    assert fund_position(fund=fund) == _full_position(fund)
    second = fund_checkpoint(fund=fund, settled_after=datetime.timedelta(0))
    assert second.up_to_entry_id > first.up_to_entry_id
    assert fund_position(fund=fund) == _full_position(fund) == FundPosition(80_00, 0, 30_00)


def _income_of(donation) -> LedgerEntry:
    return LedgerEntry.objects.get(
        kind=LedgerEntry.Kind.INCOME,
        source_type=ContentType.objects.get_for_model(donation),
        source_id=str(donation.pk),
    )


def test_a_checkpoint_leaves_out_entries_too_new_to_be_settled(fund, finance):
    _donate(fund, finance, 10_00)
    assert fund_checkpoint(fund=fund) is None  # written just now: a transaction may still be adding below it
    assert not FundCheckpoint.objects.exists()


def test_checkpoints_are_append_only_in_the_database(fund, finance):
    _donate(fund, finance, 10_00)
    checkpoint = fund_checkpoint(fund=fund, settled_after=datetime.timedelta(0))
    for sql in (
        "UPDATE funds_fundcheckpoint SET income_pence = 1 WHERE id = %s",
        "DELETE FROM funds_fundcheckpoint WHERE id = %s",
    ):
        with (
            pytest.raises((IntegrityError, DatabaseError)),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [checkpoint.pk])
    assert FundCheckpoint.objects.get().income_pence == 10_00


def test_the_nightly_task_checkpoints_every_fund_with_settled_entries(fund, finance, settings):

    other = Fund.objects.create(name="Hardship budget")
    _donate(fund, finance, 10_00)
    _donate(other, finance, 20_00)
    assert checkpoint_funds() == 0  # just written: not settled yet
    assert fund_checkpoint_all(settled_after=datetime.timedelta(0)) == 2
    assert fund_position(fund=other).income_pence == 20_00
    assert "funds.checkpoint_funds" in {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
