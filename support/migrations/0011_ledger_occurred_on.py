"""Every ledger entry carries the day the money moved (``occurred_on``) beside when it was recorded.

Existing entries take the day from their source where it is known (a donation's ``received_on``) and
otherwise the local day they were recorded. The ledger is append-only (0005's triggers), so the triggers
are lifted for this one backfill and put back; on SQLite the column change rebuilds the table, which
drops its triggers anyway.
"""

from django.db import migrations, models
from django.db.models import BigIntegerField, OuterRef, Subquery
from django.db.models.functions import Cast, TruncDate

TABLE = "support_ledgerentry"
OPS = ("update", "delete")


def lift_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for op in OPS:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{op} ON {TABLE};", params=None)
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{op};")


def restore_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for op in OPS:
        if vendor == "postgresql":
            schema_editor.execute(
                f"CREATE TRIGGER {TABLE}_no_{op} BEFORE {op.upper()} ON {TABLE} "
                "FOR EACH ROW EXECUTE FUNCTION support_append_only_refuse();",
                params=None,
            )
        elif vendor == "sqlite":
            schema_editor.execute(
                f"CREATE TRIGGER {TABLE}_no_{op} BEFORE {op.upper()} ON {TABLE} "
                f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only ({op.upper()} refused)'); END;"
            )


def backfill(apps, schema_editor):
    LedgerEntry = apps.get_model("support", "LedgerEntry")
    Donation = apps.get_model("support", "Donation")
    ContentType = apps.get_model("contenttypes", "ContentType")
    # The local day it was recorded (TruncDate converts to the trust's time zone).
    LedgerEntry.objects.update(occurred_on=TruncDate("created_at"))
    donation_type = ContentType.objects.filter(app_label="support", model="donation").first()
    if donation_type is not None:
        received = Donation.objects.filter(pk=Cast(OuterRef("source_id"), BigIntegerField())).values(
            "received_on"
        )[:1]
        LedgerEntry.objects.filter(source_type=donation_type, kind="income").update(
            occurred_on=Subquery(received)
        )
    if schema_editor.connection.vendor == "postgresql":
        # Fire the deferred foreign-key checks the updates queued, so the column can then be altered.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("support", "0010_duplicate_merge_agreement_and_upload_retention"),
    ]

    operations = [
        migrations.RunPython(lift_triggers, restore_triggers),
        migrations.AddField(
            model_name="ledgerentry",
            name="occurred_on",
            field=models.DateField(null=True, help_text="The day it happened (the trust's time zone)."),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="ledgerentry",
            name="occurred_on",
            field=models.DateField(help_text="The day it happened (the trust's time zone)."),
        ),
        migrations.RemoveIndex(model_name="ledgerentry", name="ledger_fund_created"),
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(fields=["fund", "occurred_on", "id"], name="ledger_fund_occurred"),
        ),
        migrations.RunPython(restore_triggers, lift_triggers),
    ]
