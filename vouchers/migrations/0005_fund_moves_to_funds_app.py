"""The fund moved to the ``funds`` app (state only: the foreign key already points at the renamed table)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0001_initial"),
        ("vouchers", "0004_voucher_delivery_and_sends"),
    ]
    # Before support drops the fund from its state (so no state points at a missing model) and before
    # funds renames the tables (so no later migration here rebuilds a table naming the old one).
    run_before = [("support", "0018_fund_moves_to_funds_app"), ("funds", "0002_tables_renamed")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="vouchertype",
                    name="fund",
                    field=models.ForeignKey(
                        blank=True,
                        help_text="The fund that pays for these vouchers: issuing commits the face value, redeeming spends it. Blank when no fund pays (the charity gives it from its own stock).",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="funds.fund",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
