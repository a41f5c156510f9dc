"""The fund moved to the ``funds`` app (state only: the foreign key already points at the renamed table)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0001_initial"),
        ("uniform", "0003_request_priced_from_items"),
    ]
    # Before support drops the fund from its state (so no state points at a missing model) and before
    # funds renames the tables (so no later migration here rebuilds a table naming the old one).
    run_before = [("support", "0018_fund_moves_to_funds_app"), ("funds", "0002_tables_renamed")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="welcomepack",
                    name="fund",
                    field=models.ForeignKey(
                        blank=True,
                        help_text="The fund that pays for these packs: generating the gifts commits their cost, handing one over spends it. Blank when the school pays from its own budget.",
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
