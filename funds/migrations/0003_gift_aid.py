"""Gift Aid declarations, claims and their rows; a donation's ``sponsored`` flag.

Existing data: a donation's ``gift_aid`` flag keeps its value and now means "Gift Aid asked for on this
gift". No declaration was ever recorded, so none is invented (HMRC needs the donor's name and home
address as they declared them): a flagged donation becomes claimable once finance records a declaration
that covers it, which may reach back four years. ``sponsored`` is added nullable (no default), so the
append-only donation table is altered in place rather than rebuilt, and its triggers stay; an empty value
reads as "not sponsored".
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0002_tables_renamed"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="donation",
            name="sponsored",
            field=models.BooleanField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name="GiftAidClaim",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("prepared", "Prepared"),
                            ("submitted", "Submitted to HMRC"),
                            ("paid", "Paid by HMRC"),
                            ("withdrawn", "Withdrawn"),
                        ],
                        db_index=True,
                        default="prepared",
                        max_length=10,
                    ),
                ),
                ("prepared_on", models.DateField()),
                ("donations_pence", models.BigIntegerField(help_text="The donations claimed on.")),
                ("gift_aid_pence", models.BigIntegerField(help_text="25p for every £1 claimed on.")),
                ("submitted_on", models.DateField(blank=True, null=True)),
                ("hmrc_reference", models.CharField(blank=True, max_length=40)),
                ("paid_on", models.DateField(blank=True, null=True)),
                ("withdrawn_reason", models.TextField(blank=True, max_length=500)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "paid_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "prepared_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "submitted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-prepared_on", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="GiftAidDeclaration",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "donor",
                    models.CharField(
                        db_index=True, help_text="As the donor's donations name them.", max_length=200
                    ),
                ),
                ("title", models.CharField(blank=True, max_length=4)),
                ("first_name", models.CharField(max_length=35)),
                ("last_name", models.CharField(max_length=35)),
                ("house", models.CharField(max_length=40, verbose_name="house name or number")),
                ("address", models.TextField(max_length=500, verbose_name="home address")),
                ("postcode", models.CharField(max_length=8)),
                ("declared_on", models.DateField(help_text="The date on the declaration.")),
                (
                    "covers_past",
                    models.BooleanField(help_text="Covers gifts in the four years before the declaration."),
                ),
                (
                    "covers_future",
                    models.BooleanField(help_text="Covers gifts from the declaration on, until cancelled."),
                ),
                ("covers_from", models.DateField()),
                ("covers_to", models.DateField(blank=True, null=True)),
                (
                    "cancelled_on",
                    models.DateField(
                        blank=True, help_text="Gifts on or after this day are not covered.", null=True
                    ),
                ),
                ("cancel_reason", models.TextField(blank=True, max_length=500)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("anonymised_at", models.DateTimeField(blank=True, null=True)),
                (
                    "cancelled_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["donor", "-declared_on", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="GiftAidClaimItem",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("amount_pence", models.BigIntegerField()),
                ("gift_aid_pence", models.BigIntegerField()),
                (
                    "released",
                    models.BooleanField(
                        default=False, help_text="Its claim was withdrawn before submission."
                    ),
                ),
                (
                    "claim",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="items",
                        to="funds.giftaidclaim",
                    ),
                ),
                (
                    "donation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="gift_aid_items",
                        to="funds.donation",
                    ),
                ),
                (
                    "declaration",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="claim_items",
                        to="funds.giftaiddeclaration",
                    ),
                ),
            ],
            options={
                "ordering": ["claim", "donation__received_on", "donation_id"],
            },
        ),
        migrations.AddConstraint(
            model_name="giftaidclaim",
            constraint=models.CheckConstraint(
                condition=models.Q(("donations_pence__gt", 0)), name="gift_aid_claim_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="giftaidclaim",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "paid"), _negated=True), ("paid_on__isnull", False), _connector="OR"
                ),
                name="gift_aid_claim_paid_on",
            ),
        ),
        migrations.AddConstraint(
            model_name="giftaiddeclaration",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("covers_to__isnull", True), ("covers_to__gte", models.F("covers_from")), _connector="OR"
                ),
                name="gift_aid_declaration_span",
            ),
        ),
        migrations.AddConstraint(
            model_name="giftaiddeclaration",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("cancelled_on__isnull", True),
                    ("cancelled_on__gte", models.F("declared_on")),
                    _connector="OR",
                ),
                name="gift_aid_declaration_cancelled_after",
            ),
        ),
        migrations.AddConstraint(
            model_name="giftaidclaimitem",
            constraint=models.UniqueConstraint(
                condition=models.Q(("released", False)),
                fields=("donation",),
                name="gift_aid_donation_claimed_once",
            ),
        ),
    ]
