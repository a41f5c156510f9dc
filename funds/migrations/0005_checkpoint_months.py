"""A checkpoint's entries summed per month they happened in (``FundCheckpointMonth``), append-only like the
checkpoint, and filled in for the checkpoints already written: each one's entries after the fund's
previous checkpoint, as ``funds.services.ledger.fund_checkpoint`` now writes them."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Sum
from django.db.models.functions import TruncMonth

from funds.migrations._append_only import allow_changes, refuse_changes

TABLE = "funds_fundcheckpointmonth"


def refuse(apps, schema_editor):
    refuse_changes(schema_editor, TABLE)


def allow(apps, schema_editor):
    allow_changes(schema_editor, TABLE)


def fill_months(apps, schema_editor):
    checkpoints = apps.get_model("funds", "FundCheckpoint")
    entries = apps.get_model("funds", "LedgerEntry")
    months = apps.get_model("funds", "FundCheckpointMonth")
    after: dict[int, int] = {}
    for checkpoint in checkpoints.objects.order_by("fund_id", "up_to_entry_id"):
        rows = (
            entries.objects.filter(
                fund_id=checkpoint.fund_id,
                pk__gt=after.get(checkpoint.fund_id, 0),
                pk__lte=checkpoint.up_to_entry_id,
            )
            .annotate(month=TruncMonth("occurred_on"))
            .values("month", "kind", "reverses__kind", "school_id", "category")
            .annotate(amount=Sum("amount_pence"))
            .order_by()
        )
        months.objects.bulk_create(
            months(
                checkpoint_id=checkpoint.pk,
                month=row["month"],
                kind=row["kind"],
                reversed_kind=row["reverses__kind"] or "",
                school_id=row["school_id"],
                category=row["category"],
                amount_pence=row["amount"],
            )
            for row in rows
        )
        after[checkpoint.fund_id] = checkpoint.up_to_entry_id


class Migration(migrations.Migration):

    dependencies = [
        ('funds', '0004_gift_aid_adjustment'),
        ('support', '0030_search_names_no_wait'),
    ]

    operations = [
        migrations.CreateModel(
            name='FundCheckpointMonth',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField(help_text='The first day of the month the entries happened in.')),
                ('kind', models.CharField(choices=[('income', 'Income'), ('commitment', 'Commitment'), ('commitment_release', 'Commitment released'), ('spend', 'Spend'), ('reversal', 'Reversal')], max_length=20)),
                ('reversed_kind', models.CharField(blank=True, choices=[('income', 'Income'), ('commitment', 'Commitment'), ('commitment_release', 'Commitment released'), ('spend', 'Spend'), ('reversal', 'Reversal')], help_text="A reversal's: what it undoes.", max_length=20)),
                ('category', models.CharField(blank=True, max_length=60)),
                ('amount_pence', models.BigIntegerField()),
                ('checkpoint', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='months', to='funds.fundcheckpoint')),
                ('school', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='support.school')),
            ],
            options={
                'ordering': ['checkpoint', 'month', 'kind', 'pk'],
            },
        ),
        migrations.RunPython(refuse, allow),
        migrations.RunPython(fill_months, migrations.RunPython.noop),
    ]
