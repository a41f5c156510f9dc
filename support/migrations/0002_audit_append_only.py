"""Database triggers that refuse UPDATE and DELETE on audit events, from any client, not only Django.

PostgreSQL's TRUNCATE (used to empty test databases) does not fire row triggers, so tests can still reset.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION support_auditevent_refuse() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER support_auditevent_no_update BEFORE UPDATE ON support_auditevent
    FOR EACH ROW EXECUTE FUNCTION support_auditevent_refuse();
CREATE TRIGGER support_auditevent_no_delete BEFORE DELETE ON support_auditevent
    FOR EACH ROW EXECUTE FUNCTION support_auditevent_refuse();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS support_auditevent_no_update ON support_auditevent;
DROP TRIGGER IF EXISTS support_auditevent_no_delete ON support_auditevent;
DROP FUNCTION IF EXISTS support_auditevent_refuse();
"""
SQLITE_FORWARD = [
    """CREATE TRIGGER support_auditevent_no_update BEFORE UPDATE ON support_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only (UPDATE refused)'); END;""",
    """CREATE TRIGGER support_auditevent_no_delete BEFORE DELETE ON support_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only (DELETE refused)'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS support_auditevent_no_update;",
    "DROP TRIGGER IF EXISTS support_auditevent_no_delete;",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("support", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
