"""The fund's tables take the ``funds_`` names, rows and all.

Runs after ``vouchers`` and ``uniform`` point their foreign keys at ``funds.Fund`` (their migrations say
``run_before`` this one), so no later migration rebuilds a table from a state naming the old tables.
PostgreSQL and SQLite keep foreign keys pointing at a renamed table. The append-only triggers are put
back under the new names (the PostgreSQL function from ``support`` 0005 is reused).
"""

from django.db import migrations

from funds.migrations._append_only import allow_changes, refuse_changes

MODELS = ["Fund", "Donation", "LedgerEntry", "FundCheckpoint", "Pledge", "FundAllocation", "SpendRequest"]
APPEND_ONLY = ["donation", "ledgerentry", "fundcheckpoint"]


def _drop(schema_editor, prefix: str) -> None:
    for model in APPEND_ONLY:
        allow_changes(schema_editor, f"{prefix}_{model}")


def _create(schema_editor, prefix: str) -> None:
    for model in APPEND_ONLY:
        refuse_changes(schema_editor, f"{prefix}_{model}")


def drop_old(apps, schema_editor):
    _drop(schema_editor, "support")


def create_new(apps, schema_editor):
    _create(schema_editor, "funds")


def drop_new(apps, schema_editor):
    _drop(schema_editor, "funds")


def create_old(apps, schema_editor):
    _create(schema_editor, "support")


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0001_initial"),
        ("support", "0018_fund_moves_to_funds_app"),
    ]

    operations = [
        migrations.RunPython(drop_old, create_old),
        *[migrations.AlterModelTable(name=name, table=None) for name in MODELS],
        migrations.RunPython(create_new, drop_new),
    ]
