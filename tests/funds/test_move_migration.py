"""The fund's tables move from ``support`` to ``funds`` (funds 0001, support 0018) without losing a row.

Runs on SQLite in pass 1 and on PostgreSQL in CI's second pass, each with data written by the models as
they were before the move: every row keeps its id and values, the content types (and so every ledger
entry's ``source_type``) move with them, foreign keys from vouchers still resolve, the append-only
triggers still refuse, and the move can be undone.
"""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from funds.models import Donation, Fund, FundCheckpoint, LedgerEntry, Pledge
from tests.funds.test_finance_dates import emptied_after  # noqa: F401  (the fixture)
from vouchers.models import VoucherType

BEFORE = [
    ("support", "0017_family_contacts"),
    ("vouchers", "0004_voucher_delivery_and_sends"),
    ("uniform", "0003_request_priced_from_items"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def _latest():
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def _tables() -> set[str]:
    return set(connection.introspection.table_names())


@pytest.mark.usefixtures("emptied_after")
def test_the_move_keeps_every_row_its_links_and_the_append_only_rule_and_can_be_undone():
    # One test, as each trip through the migrations costs seconds: undone first, with a row in it.
    existing = Fund.objects.create(name="Round trip")
    _migrate([*BEFORE, ("funds", None)])
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM support_fund WHERE id = %s", [existing.pk])
            assert cursor.fetchone() == ("Round trip",)
        assert {"support_fund", "support_ledgerentry"} <= _tables()
        assert "funds_fund" not in _tables()
        apps = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        user = apps.get_model("auth", "User").objects.create(username="old-finance")
        school = apps.get_model("support", "School").objects.create(
            name="Old Academy", urn="100001", phase="primary"
        )
        fund = apps.get_model("support", "Fund").objects.create(name="Moved fund")
        donation_type = apps.get_model("contenttypes", "ContentType").objects.get_or_create(
            app_label="support", model="donation"
        )[0]
        donation = apps.get_model("support", "Donation").objects.create(
            fund=fund, donor="Rotary", amount_pence=250_00, received_on=datetime.date(2026, 9, 3),
            recorded_by=user,
        )  # fmt: skip
        income = apps.get_model("support", "LedgerEntry").objects.create(
            fund=fund, kind="income", amount_pence=250_00, source_type=donation_type,
            source_id=str(donation.pk), category="donation", occurred_on=datetime.date(2026, 9, 3),
            created_by=user,
        )  # fmt: skip
        pledge = apps.get_model("support", "Pledge").objects.create(
            fund=fund, donor="Trustee", amount_pence=10_000_00, frequency="annual",
            next_due=datetime.date(2027, 9, 1), created_by=user,
        )  # fmt: skip
        checkpoint = apps.get_model("support", "FundCheckpoint").objects.create(
            fund=fund, up_to_entry_id=income.pk, income_pence=250_00, spent_pence=0, committed_pence=0
        )
        partner = apps.get_model("support", "PartnerCharity").objects.create(
            name="Pantry", address="1 High St"
        )
        voucher_type = apps.get_model("vouchers", "VoucherType").objects.create(
            partner=partner, service="food", name="Food parcel", face_value_pence=25_00, fund=fund
        )
    finally:
        _latest()

    assert "support_fund" not in _tables()
    assert Fund.objects.get(pk=existing.pk).name == "Round trip"
    assert {"funds_fund", "funds_donation", "funds_ledgerentry", "funds_fundcheckpoint"} <= _tables()
    moved = Fund.objects.get(pk=fund.pk)
    assert moved.name == "Moved fund"
    assert Donation.objects.get(pk=donation.pk).amount_pence == 250_00
    entry = LedgerEntry.objects.get(pk=income.pk)
    # The content type moved with its id: the entry still says what it came from.
    assert (entry.source_type_id, entry.source_type.app_label) == (donation_type.pk, "funds")
    assert entry.source_type.model_class() is Donation
    assert Pledge.objects.get(pk=pledge.pk).donor == "Trustee"
    assert FundCheckpoint.objects.get(pk=checkpoint.pk).income_pence == 250_00
    assert VoucherType.objects.select_related("fund").get(pk=voucher_type.pk).fund == moved
    assert school.pk  # the core's rows are untouched by the move
    for table in ("funds_ledgerentry", "funds_donation"):
        with pytest.raises(Exception, match="append-only"), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET amount_pence = 1")
