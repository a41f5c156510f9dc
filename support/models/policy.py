from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from support.hot_queries import hot_query


class Policy(models.Model):
    """The trust's policy settings: one row, edited by trust admins, every change audited."""

    food_voucher_limit = models.PositiveSmallIntegerField(
        default=3, help_text="Vouchers of one type a family may have in the rolling window."
    )
    voucher_window_days = models.PositiveSmallIntegerField(
        default=183,
        validators=[MinValueValidator(1)],
        help_text="The rolling window, in days (183 is six months).",
    )
    approval_threshold_pence = models.PositiveIntegerField(
        default=100_00, help_text="Fund spend above this (in pence) needs finance approval."
    )
    second_approval_threshold_pence = models.PositiveIntegerField(
        default=500_00, help_text="Fund spend above this (in pence) needs a second finance approver."
    )
    coat_season_start_month = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    coat_season_start_day = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    coat_season_end_month = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    coat_season_end_day = models.PositiveSmallIntegerField(
        default=31, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    coats_per_season = models.PositiveSmallIntegerField(default=1)
    shoes_per_year = models.PositiveSmallIntegerField(default=1)
    retention_years = models.PositiveSmallIntegerField(
        default=6,
        validators=[MinValueValidator(1)],
        help_text="Years after the last pupil left before anonymising.",
    )
    pupil_upload_days = models.PositiveSmallIntegerField(
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="Days an uploaded pupil file that was never applied is kept before it is deleted.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "policy"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="policy_single_row"),
            models.CheckConstraint(
                condition=Q(second_approval_threshold_pence__gte=models.F("approval_threshold_pence")),
                name="policy_thresholds_ordered",
            ),
        ]

    def __str__(self) -> str:
        return "Trust policy"

    @classmethod
    def current(cls) -> "Policy":
        found = _policy(1)  # every voucher issued reads it: compiled once per connection
        if found:
            return found[0]
        policy, _ = cls.objects.get_or_create(pk=1)
        return policy


@hot_query
def _policy(pk: int) -> models.QuerySet[Policy]:
    return Policy.objects.filter(pk=pk)
