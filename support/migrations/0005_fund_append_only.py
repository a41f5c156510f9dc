"""Database triggers that refuse UPDATE and DELETE on ledger entries and donations, from any client.

The same approach as 0002 (audit events). PostgreSQL's TRUNCATE (used to empty test databases) does
not fire row triggers, so tests can still reset.
"""

from django.db import migrations

TABLES = ["support_ledgerentry", "support_donation"]

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION support_append_only_refuse() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""


def _pg_forward() -> str:
    statements = [PG_FUNCTION]
    for table in TABLES:
        for op in ("UPDATE", "DELETE"):
            statements.append(
                f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION support_append_only_refuse();"
            )
    return "\n".join(statements)


def _pg_backward() -> str:
    statements = [
        f"DROP TRIGGER IF EXISTS {table}_no_{op} ON {table};" for table in TABLES for op in ("update", "delete")
    ]
    statements.append("DROP FUNCTION IF EXISTS support_append_only_refuse();")
    return "\n".join(statements)


def _sqlite_forward() -> list[str]:
    return [
        f"""CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table}
       BEGIN SELECT RAISE(ABORT, '{table} is append-only ({op} refused)'); END;"""
        for table in TABLES
        for op in ("UPDATE", "DELETE")
    ]


def _sqlite_backward() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_no_{op};" for table in TABLES for op in ("update", "delete")]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(_pg_forward(), params=None)
    elif vendor == "sqlite":
        for statement in _sqlite_forward():
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(_pg_backward(), params=None)
    elif vendor == "sqlite":
        for statement in _sqlite_backward():
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("support", "0004_fund")]

    operations = [migrations.RunPython(forward, backward)]
