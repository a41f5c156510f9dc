"""The standby fund's models move here from ``support`` (state only; 0002 renames the tables).

The models were ``support``'s (its migrations 0004-0017 made the tables). This migration tells Django's
state that they are ``funds``'s models, still on their old tables, and moves their content types, so
every ledger entry's ``source_type`` and every permission keep their ids. ``vouchers`` and ``uniform``
point their foreign keys here next, ``support`` 0018 drops the models from its state, and 0002 renames
the tables once no migration's state names the old ones.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MODELS = ["fund", "donation", "ledgerentry", "fundcheckpoint", "pledge", "fundallocation", "spendrequest"]


def _move_content_types(apps, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label=old, model__in=MODELS).update(app_label=new)


def forward(apps, schema_editor):
    _move_content_types(apps, "support", "funds")


def backward(apps, schema_editor):
    _move_content_types(apps, "funds", "support")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('support', '0017_family_contacts'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Fund',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=120, unique=True)),
                        ('is_active', models.BooleanField(default=True)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('school', models.ForeignKey(blank=True, help_text="Set for a school's own budget; empty for a trust-wide fund.", null=True, on_delete=django.db.models.deletion.PROTECT, related_name='funds', to='support.school')),
                    ],
                    options={
                        'db_table': 'support_fund',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='LedgerEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('income', 'Income'), ('commitment', 'Commitment'), ('commitment_release', 'Commitment released'), ('spend', 'Spend'), ('reversal', 'Reversal')], max_length=20)),
                        ('amount_pence', models.BigIntegerField(help_text='Always positive; the kind gives the direction.')),
                        ('source_id', models.CharField(blank=True, max_length=64)),
                        ('category', models.CharField(blank=True, help_text='e.g. "voucher:food_parcel", "coat".', max_length=60)),
                        ('note', models.TextField(blank=True)),
                        ('override_reason', models.TextField(blank=True)),
                        ('occurred_on', models.DateField(help_text="The day it happened (the trust's time zone).")),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('fund', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='entries', to='funds.fund')),
                        ('reverses', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='reversed_by', to='funds.ledgerentry')),
                        ('school', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='support.school')),
                        ('source_type', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='contenttypes.contenttype')),
                    ],
                    options={
                        'db_table': 'support_ledgerentry',
                        'verbose_name_plural': 'ledger entries',
                        'ordering': ['-pk'],
                    },
                ),
                migrations.CreateModel(
                    name='Pledge',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('donor', models.CharField(max_length=200)),
                        ('amount_pence', models.BigIntegerField()),
                        ('frequency', models.CharField(choices=[('annual', 'Every year'), ('monthly', 'Every month')], default='annual', max_length=10)),
                        ('next_due', models.DateField(help_text='When the next payment is expected.')),
                        ('gift_aid', models.BooleanField(default=False)),
                        ('restricted_purpose', models.CharField(blank=True, max_length=60)),
                        ('is_active', models.BooleanField(default=True)),
                        ('last_reminded_for', models.DateField(blank=True, help_text='The due date finance was last reminded about.', null=True)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('fund', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='pledges', to='funds.fund')),
                    ],
                    options={
                        'db_table': 'support_pledge',
                        'ordering': ['next_due', 'donor'],
                    },
                ),
                migrations.CreateModel(
                    name='Donation',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('donor', models.CharField(max_length=200)),
                        ('amount_pence', models.BigIntegerField()),
                        ('received_on', models.DateField()),
                        ('gift_aid', models.BooleanField(default=False)),
                        ('restricted_purpose', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('recorded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('fund', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='donations', to='funds.fund')),
                        ('pledge', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='donations', to='funds.pledge')),
                    ],
                    options={
                        'db_table': 'support_donation',
                        'ordering': ['-received_on', '-pk'],
                    },
                ),
                migrations.CreateModel(
                    name='SpendRequest',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('source_id', models.CharField(max_length=64)),
                        ('category', models.CharField(max_length=60)),
                        ('amount_pence', models.BigIntegerField()),
                        ('summary', models.CharField(help_text='What is asked for.', max_length=200)),
                        ('reason', models.TextField(help_text='Why it is needed.', max_length=2000)),
                        ('requested_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('approvals_needed', models.PositiveSmallIntegerField(default=1)),
                        ('status', models.CharField(choices=[('pending', 'Waiting for finance'), ('approved', 'Approved'), ('rejected', 'Rejected'), ('changes', 'Sent back for changes'), ('withdrawn', 'Withdrawn')], db_index=True, default='pending', max_length=10)),
                        ('first_approved_at', models.DateTimeField(blank=True, null=True)),
                        ('decided_at', models.DateTimeField(blank=True, null=True)),
                        ('decision_note', models.TextField(blank=True, max_length=2000)),
                        ('override_reason', models.TextField(blank=True, max_length=2000)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('commitment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='funds.ledgerentry')),
                        ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('first_approved_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('fund', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='spend_requests', to='funds.fund')),
                        ('requested_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('school', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='support.school')),
                        ('source_type', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='contenttypes.contenttype')),
                    ],
                    options={
                        'db_table': 'support_spendrequest',
                        'ordering': ['requested_at', 'pk'],
                    },
                ),
                migrations.CreateModel(
                    name='FundAllocation',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('financial_year', models.PositiveSmallIntegerField(help_text='The year it starts, e.g. 2026 for 2026–27.')),
                        ('amount_pence', models.BigIntegerField()),
                        ('fund', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='allocations', to='funds.fund')),
                        ('school', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='fund_allocations', to='support.school')),
                    ],
                    options={
                        'db_table': 'support_fundallocation',
                        'ordering': ['fund', 'financial_year', 'school__name'],
                        'constraints': [models.UniqueConstraint(fields=('fund', 'school', 'financial_year'), name='allocation_once'), models.CheckConstraint(condition=models.Q(('amount_pence__gte', 0)), name='allocation_not_negative')],
                    },
                ),
                migrations.CreateModel(
                    name='FundCheckpoint',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('up_to_entry_id', models.BigIntegerField(help_text='The last ledger entry these totals include.')),
                        ('income_pence', models.BigIntegerField()),
                        ('spent_pence', models.BigIntegerField()),
                        ('committed_pence', models.BigIntegerField()),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('fund', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='checkpoints', to='funds.fund')),
                    ],
                    options={
                        'db_table': 'support_fundcheckpoint',
                        'ordering': ['fund', '-up_to_entry_id'],
                        'constraints': [models.UniqueConstraint(fields=('fund', 'up_to_entry_id'), name='fund_checkpoint_once')],
                    },
                ),
                migrations.AddIndex(
                    model_name='ledgerentry',
                    index=models.Index(fields=['source_type', 'source_id'], name='ledger_source'),
                ),
                migrations.AddIndex(
                    model_name='ledgerentry',
                    index=models.Index(fields=['fund', 'kind'], name='ledger_fund_kind'),
                ),
                migrations.AddIndex(
                    model_name='ledgerentry',
                    index=models.Index(fields=['fund', 'occurred_on', 'id'], name='ledger_fund_occurred'),
                ),
                migrations.AddConstraint(
                    model_name='ledgerentry',
                    constraint=models.CheckConstraint(condition=models.Q(('amount_pence__gt', 0)), name='ledger_amount_positive'),
                ),
                migrations.AddConstraint(
                    model_name='ledgerentry',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'reversal'), ('reverses__isnull', False)), models.Q(models.Q(('kind', 'reversal'), _negated=True), ('reverses', None)), _connector='OR'), name='ledger_reversal_iff_reverses'),
                ),
                migrations.AddConstraint(
                    model_name='pledge',
                    constraint=models.CheckConstraint(condition=models.Q(('amount_pence__gt', 0)), name='pledge_amount_positive'),
                ),
                migrations.AddConstraint(
                    model_name='donation',
                    constraint=models.CheckConstraint(condition=models.Q(('amount_pence__gt', 0)), name='donation_amount_positive'),
                ),
                migrations.AddIndex(
                    model_name='spendrequest',
                    index=models.Index(fields=['source_type', 'source_id'], name='spend_request_source'),
                ),
                migrations.AddConstraint(
                    model_name='spendrequest',
                    constraint=models.CheckConstraint(condition=models.Q(('amount_pence__gt', 0)), name='spend_request_amount_positive'),
                ),
                migrations.AddConstraint(
                    model_name='spendrequest',
                    constraint=models.CheckConstraint(condition=models.Q(('approvals_needed__in', [1, 2])), name='spend_request_approvals'),
                ),
                migrations.AddConstraint(
                    model_name='spendrequest',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('approvals_needed', 2), ('status', 'approved'), _negated=True), models.Q(('first_approved_by__isnull', False), models.Q(('first_approved_by', models.F('decided_by')), _negated=True)), _connector='OR'), name='spend_request_two_approvers'),
                ),
                migrations.AddConstraint(
                    model_name='spendrequest',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('status__in', ['rejected', 'changes']), _negated=True), models.Q(('decision_note', ''), _negated=True), _connector='OR'), name='spend_request_refusal_has_note'),
                ),
                migrations.AddConstraint(
                    model_name='spendrequest',
                    constraint=models.UniqueConstraint(condition=models.Q(('status', 'pending')), fields=('source_type', 'source_id'), name='spend_request_one_pending'),
                ),
                ],
            database_operations=[migrations.RunPython(forward, backward)],
        ),
    ]
