"""The fund's tables take the ``funds_`` names, rows and all.

Runs after ``vouchers`` and ``uniform`` point their foreign keys at ``funds.Fund`` (their migrations say
``run_before`` this one), so no later migration rebuilds a table from a state naming the old tables.
PostgreSQL and SQLite keep foreign keys pointing at a renamed table. The append-only triggers are put
back under the new names (the PostgreSQL function from ``support`` 0005 is reused).
"""

from django.db import migrations

MODELS = ["Fund", "Donation", "LedgerEntry", "FundCheckpoint", "Pledge", "FundAllocation", "SpendRequest"]
APPEND_ONLY = ["donation", "ledgerentry", "fundcheckpoint"]
OPS = ("update", "delete")


def _drop(schema_editor, prefix: str) -> None:
    for model in APPEND_ONLY:
        table = f"{prefix}_{model}"
        for op in OPS:
            if schema_editor.connection.vendor == "postgresql":
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op} ON {table};", params=None)
            else:
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op};")


def _create(schema_editor, prefix: str) -> None:
    for model in APPEND_ONLY:
        table = f"{prefix}_{model}"
        for op in OPS:
            if schema_editor.connection.vendor == "postgresql":
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_no_{op} BEFORE {op.upper()} ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION support_append_only_refuse();",
                    params=None,
                )
            else:
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_no_{op} BEFORE {op.upper()} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only ({op.upper()} refused)'); END;"
                )


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
