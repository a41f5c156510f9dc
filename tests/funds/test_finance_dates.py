"""Money is dated when it happened, not when it was typed in (issue 14, item 5).

A ledger entry's ``occurred_on`` (a donation's day received, the day a voucher was redeemed or goods
handed over) is what the dashboard, month filters, ledger, exports and API go by; ``created_at`` is when
it was recorded. A day in the future is refused; an entry recorded in a later month shows as back-dated.
"""

import csv
import datetime
import io

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from funds.models import LedgerEntry
from funds.selectors.positions import fund_position
from funds.selectors.reports import fund_year_summary
from funds.services.ledger import (
    fund_checkpoint,
    fund_commitment_release,
    fund_donation_record,
    fund_entry_reverse,
    fund_spend_actual,
    fund_spend_commit,
    standby_fund,
)
from support.errors import SupportError
from tests.factories import FamilyFactory

Kind = LedgerEntry.Kind
# Recorded on 5 December 2025, 10:00 in London: the day finance caught up with the autumn's post.
RECORDED = datetime.datetime(2025, 12, 5, 10, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2025, 12, 5)
SEPTEMBER, OCTOBER, DECEMBER = 0, 1, 3  # month indexes in the 2025–26 financial year
SETTLED = datetime.timedelta(seconds=-1)  # the clock stands still: settle what was written this instant


@pytest.fixture
def fund(db):
    return standby_fund()


@pytest.fixture
def recorded_in_december():
    with time_machine.travel(RECORDED, tick=False):
        yield


def _donate(fund, finance, day: datetime.date, pence: int, **extra):
    return fund_donation_record(
        fund=fund,
        donor=extra.pop("donor", "Riverton Rotary"),
        amount_pence=pence,
        received_on=day,
        gift_aid=False,
        actor=finance,
        **extra,
    )


def _autumn(fund, finance) -> None:
    """The donations of the issue: received 3 and 21 September, 16 and 17 October, typed in in December."""
    for day, pence in [
        (datetime.date(2025, 9, 3), 5_000_00),
        (datetime.date(2025, 9, 21), 2_500_00),
        (datetime.date(2025, 10, 16), 1_000_00),
        (datetime.date(2025, 10, 17), 750_00),
    ]:
        _donate(fund, finance, day, pence)


def test_it_counts_a_donation_in_the_month_it_was_received_not_typed_in(fund, finance, recorded_in_december):
    _autumn(fund, finance)

    summary = fund_year_summary(fund=fund, year=2025, today=TODAY)

    assert summary.months[SEPTEMBER].flows.income_pence == 7_500_00
    assert summary.months[OCTOBER].flows.income_pence == 1_750_00
    assert summary.months[DECEMBER].flows.income_pence == 0
    # The burn-down steps up in September and October, not once in December.
    closing = [month.closing.balance_pence for month in summary.months[:4]]
    assert closing == [7_500_00, 9_250_00, 9_250_00, 9_250_00]
    assert {entry.occurred_on.month for entry in LedgerEntry.objects.all()} == {9, 10}
    assert {timezone.localdate(entry.created_at) for entry in LedgerEntry.objects.all()} == {TODAY}


def test_the_ledger_month_filter_and_the_api_go_by_the_day_it_happened(
    fund, finance, client_for, recorded_in_december
):
    _autumn(fund, finance)
    client = client_for(finance)

    page = client.get(reverse("finance_ledger"), {"fund": fund.pk, "month": "2025-09"})
    assert page.status_code == 200
    assert page.context["totals"].count == 2
    assert page.content.decode().count("data-back-dated") == 2

    api = client.get("/api/v1/ledger-entries/", {"date_from": "2025-10-01", "date_to": "2025-10-31"})
    assert api.status_code == 200, api.content[:300]
    results = api.json()["results"]
    assert [(row["occurred_on"], row["back_dated"]) for row in results] == [
        ("2025-10-17", True),
        ("2025-10-16", True),
    ]
    assert {row["created_at"][:10] for row in results} == {"2025-12-05"}


def test_the_export_shows_the_day_it_happened_when_it_was_recorded_and_that_it_was_back_dated(
    fund, finance, client_for, recorded_in_december
):
    _autumn(fund, finance)
    _donate(fund, finance, TODAY, 10_00, donor="Same day")

    response = client_for(finance).get(reverse("finance_ledger_csv"), {"fund": fund.pk})
    text = b"".join(response.streaming_content).decode("utf-8")[1:]
    header, *rows = list(csv.reader(io.StringIO(text)))

    assert header[1:4] == ["Date", "Recorded", "Back-dated"]
    assert [row[1:4] for row in rows] == [
        ["03/09/2025", "05/12/2025 10:00", "Yes"],
        ["21/09/2025", "05/12/2025 10:00", "Yes"],
        ["16/10/2025", "05/12/2025 10:00", "Yes"],
        ["17/10/2025", "05/12/2025 10:00", "Yes"],
        ["05/12/2025", "05/12/2025 10:00", ""],
    ]


def test_an_entry_recorded_in_the_month_it_happened_is_not_back_dated(fund, finance, recorded_in_december):
    donation = _donate(fund, finance, datetime.date(2025, 12, 1), 100)
    entry = LedgerEntry.objects.get(source_id=str(donation.pk))
    assert entry.occurred_on == datetime.date(2025, 12, 1)
    assert entry.is_back_dated is False


@pytest.mark.parametrize(
    "write",
    [
        lambda fund, finance, day: _donate(fund, finance, day, 100, today=TODAY),
        lambda fund, finance, day: fund_spend_commit(
            fund=fund, source=FamilyFactory(), amount_pence=1, category="coat", actor=finance,
            occurred_on=day, today=TODAY,
        ),
    ],
    ids=["donation", "commitment"],
)  # fmt: skip
def test_it_refuses_a_day_that_has_not_come_yet(fund, finance, write):
    _donate(fund, finance, TODAY, 100_00, today=TODAY)
    before = LedgerEntry.objects.count()

    with pytest.raises(SupportError) as refused:
        write(fund, finance, TODAY + datetime.timedelta(days=1))

    assert refused.value.code == "future_date"
    assert "6 December 2025" in refused.value.message or "today or in the past" in refused.value.message
    assert LedgerEntry.objects.count() == before


def test_the_api_refuses_a_donation_received_tomorrow_with_a_clear_error(fund, finance, client_for):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client_for(finance).post(
        "/api/v1/donations/",
        {
            "fund": fund.pk,
            "donor": "Early bird",
            "amount_pence": 100,
            "received_on": tomorrow.isoformat(),
            "gift_aid": False,
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "today or in the past" in response.content.decode()
    assert not LedgerEntry.objects.exists()


def test_it_dates_spend_made_actual_and_released_on_the_day_given_without_reading_the_clock(fund, finance):
    _donate(fund, finance, datetime.date(2025, 9, 1), 100_00, today=TODAY)
    voucher, coat = FamilyFactory(), FamilyFactory()
    issued, handed, dropped = (
        datetime.date(2025, 9, 10),
        datetime.date(2025, 10, 2),
        datetime.date(2025, 11, 3),
    )
    with time_machine.travel(datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC), tick=False):
        for source in (voucher, coat):
            fund_spend_commit(
                fund=fund, source=source, amount_pence=10_00, category="coat", actor=finance,
                occurred_on=issued, today=TODAY,
            )  # fmt: skip
        [spend] = fund_spend_actual(source=voucher, actor=finance, occurred_on=handed, today=TODAY)
        [release] = fund_commitment_release(source=coat, actor=finance, occurred_on=dropped, today=TODAY)
        reversal = fund_entry_reverse(entry=spend, actor=finance, reason="Twice", today=TODAY)

    assert spend.occurred_on == handed
    assert release.occurred_on == dropped
    assert LedgerEntry.objects.get(kind=Kind.COMMITMENT_RELEASE, note="made actual").occurred_on == handed
    assert reversal.occurred_on == TODAY  # a correction is dated the day it is made
    summary = fund_year_summary(fund=fund, year=2025, today=TODAY)
    assert [summary.months[i].flows.spent_pence for i in range(4)] == [0, 10_00, 0, -10_00]


def test_a_back_dated_entry_after_a_checkpoint_counts_in_the_position_and_in_its_own_month(
    fund, finance, recorded_in_december
):
    _donate(fund, finance, datetime.date(2025, 11, 20), 1_000_00)
    checkpoint = fund_checkpoint(fund=fund, settled_after=SETTLED)
    assert checkpoint is not None

    _donate(fund, finance, datetime.date(2025, 9, 3), 500_00)  # typed in after the checkpoint

    position = fund_position(fund=fund)
    assert position.income_pence == 1_500_00
    summary = fund_year_summary(fund=fund, year=2025, today=TODAY)
    assert summary.now == position
    assert summary.months[SEPTEMBER].flows.income_pence == 500_00
    assert summary.months[SEPTEMBER].closing.income_pence == 500_00
    assert fund_checkpoint(fund=fund, settled_after=SETTLED).income_pence == 1_500_00


@pytest.fixture
def emptied_after(transactional_db, django_db_blocker):
    """Let the flush after a transactional test empty the append-only tables on SQLite (as the e2e
    conftest's fixture does): drop the triggers, flush, put them back. PostgreSQL truncates."""
    from django.core.management import call_command
    from django.db import connection

    yield
    if connection.vendor != "sqlite":
        return
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            triggers = cursor.fetchall()
            for name, _ in triggers:
                cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
        call_command("flush", verbosity=0, interactive=False, inhibit_post_migrate=True)
        with connection.cursor() as cursor:
            for _, sql in triggers:
                cursor.execute(sql)


def test_the_migration_dates_existing_entries_from_their_source_or_the_day_they_were_recorded(emptied_after):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("support", "0010_duplicate_merge_agreement_and_upload_retention")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        apps = executor.loader.project_state(before).apps
        user = apps.get_model("auth", "User").objects.create(username="old-finance")
        fund = apps.get_model("support", "Fund").objects.create(name="Old fund")
        donation_type = apps.get_model("contenttypes", "ContentType").objects.get_or_create(
            app_label="support", model="donation"
        )[0]
        donation = apps.get_model("support", "Donation").objects.create(
            fund=fund,
            donor="Rotary",
            amount_pence=100,
            received_on=datetime.date(2025, 9, 3),
            recorded_by=user,
        )
        entries = apps.get_model("support", "LedgerEntry").objects
        # 23:30 UTC on 14 October is 00:30 on 15 October in London.
        late = datetime.datetime(2025, 10, 14, 23, 30, tzinfo=datetime.UTC)
        income = entries.create(
            fund=fund, kind="income", amount_pence=100, source_type=donation_type,
            source_id=str(donation.pk), category="donation", created_at=RECORDED,
        )  # fmt: skip
        spend = entries.create(fund=fund, kind="spend", amount_pence=40, category="coat", created_at=late)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

    dated = dict(LedgerEntry.objects.filter(pk__in=[income.pk, spend.pk]).values_list("pk", "occurred_on"))
    assert dated == {income.pk: datetime.date(2025, 9, 3), spend.pk: datetime.date(2025, 10, 15)}
    with pytest.raises(Exception, match="append-only"), connection.cursor() as cursor:
        cursor.execute("UPDATE funds_ledgerentry SET amount_pence = 1 WHERE id = %s", [spend.pk])
