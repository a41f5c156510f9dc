"""The audit table's one narrow exception: a retention redaction (support/data_rights.py).

An UPDATE passes only when the row's id, time, actor, action and subject are unchanged and it marks a
not-yet-redacted row "Anonymised" (subject_repr), so each row can be redacted once, visibly, and nothing
else about it can change. DELETE stays refused (0002's trigger, untouched).
"""

from django.db import migrations

REDACTION_SQL = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS support_auditevent_no_update;",
        """CREATE TRIGGER support_auditevent_no_update BEFORE UPDATE ON support_auditevent
           WHEN NOT (NEW.id = OLD.id AND NEW.at IS OLD.at AND NEW.actor_id IS OLD.actor_id
                     AND NEW.actor_label IS OLD.actor_label AND NEW.action IS OLD.action
                     AND NEW.subject_type_id IS OLD.subject_type_id AND NEW.subject_id IS OLD.subject_id
                     AND OLD.subject_repr <> 'Anonymised' AND NEW.subject_repr = 'Anonymised')
           BEGIN SELECT RAISE(ABORT, 'audit events are append-only (UPDATE refused)'); END;""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION support_auditevent_refuse_update() RETURNS trigger AS $$
        BEGIN
            IF NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
               AND NEW.actor_label = OLD.actor_label AND NEW.action = OLD.action
               AND NEW.subject_type_id IS NOT DISTINCT FROM OLD.subject_type_id
               AND NEW.subject_id = OLD.subject_id
               AND OLD.subject_repr <> 'Anonymised' AND NEW.subject_repr = 'Anonymised' THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'audit events are append-only (UPDATE refused)'
                USING ERRCODE = 'integrity_constraint_violation';
        END;
        $$ LANGUAGE plpgsql;""",
        "DROP TRIGGER IF EXISTS support_auditevent_no_update ON support_auditevent;",
        """CREATE TRIGGER support_auditevent_no_update BEFORE UPDATE ON support_auditevent
           FOR EACH ROW EXECUTE FUNCTION support_auditevent_refuse_update();""",
    ],
}


def forward(apps, schema_editor):
    for statement in REDACTION_SQL.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            "DROP TRIGGER IF EXISTS support_auditevent_no_update ON support_auditevent;"
            "DROP FUNCTION IF EXISTS support_auditevent_refuse_update();"
            "CREATE TRIGGER support_auditevent_no_update BEFORE UPDATE ON support_auditevent "
            "FOR EACH ROW EXECUTE FUNCTION support_auditevent_refuse();",
            params=None,
        )
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS support_auditevent_no_update;")
        schema_editor.execute(
            "CREATE TRIGGER support_auditevent_no_update BEFORE UPDATE ON support_auditevent "
            "BEGIN SELECT RAISE(ABORT, 'audit events are append-only (UPDATE refused)'); END;"
        )


class Migration(migrations.Migration):
    dependencies = [("support", "0007_ledger_fund_created")]

    operations = [migrations.RunPython(forward, backward)]
