"""The standby fund's models leave ``support``'s state: ``funds`` 0001 took them, tables and rows.

State only: the tables were renamed, not dropped. ``vouchers`` and ``uniform`` point their foreign keys
at ``funds.Fund`` first (their migrations run before this one).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0017_family_contacts"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="fund",
                    name="school",
                ),
                migrations.RemoveField(
                    model_name="fundallocation",
                    name="fund",
                ),
                migrations.RemoveField(
                    model_name="ledgerentry",
                    name="fund",
                ),
                migrations.RemoveField(
                    model_name="pledge",
                    name="fund",
                ),
                migrations.RemoveField(
                    model_name="spendrequest",
                    name="fund",
                ),
                migrations.RemoveField(
                    model_name="fundcheckpoint",
                    name="fund",
                ),
                migrations.RemoveField(
                    model_name="fundallocation",
                    name="school",
                ),
                migrations.RemoveField(
                    model_name="ledgerentry",
                    name="created_by",
                ),
                migrations.RemoveField(
                    model_name="ledgerentry",
                    name="reverses",
                ),
                migrations.RemoveField(
                    model_name="ledgerentry",
                    name="school",
                ),
                migrations.RemoveField(
                    model_name="ledgerentry",
                    name="source_type",
                ),
                migrations.RemoveField(
                    model_name="spendrequest",
                    name="commitment",
                ),
                migrations.RemoveField(
                    model_name="pledge",
                    name="created_by",
                ),
                migrations.RemoveField(
                    model_name="spendrequest",
                    name="decided_by",
                ),
                migrations.RemoveField(
                    model_name="spendrequest",
                    name="first_approved_by",
                ),
                migrations.RemoveField(
                    model_name="spendrequest",
                    name="requested_by",
                ),
                migrations.RemoveField(
                    model_name="spendrequest",
                    name="school",
                ),
                migrations.RemoveField(
                    model_name="spendrequest",
                    name="source_type",
                ),
                migrations.DeleteModel(
                    name="Donation",
                ),
                migrations.DeleteModel(
                    name="Fund",
                ),
                migrations.DeleteModel(
                    name="FundCheckpoint",
                ),
                migrations.DeleteModel(
                    name="FundAllocation",
                ),
                migrations.DeleteModel(
                    name="LedgerEntry",
                ),
                migrations.DeleteModel(
                    name="Pledge",
                ),
                migrations.DeleteModel(
                    name="SpendRequest",
                ),
            ],
            database_operations=[],
        ),
    ]
