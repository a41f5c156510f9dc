"""Days, months and years as the trust counts them (its time zone; the year from 1 September)."""

from datetime import date, datetime, time

from django.utils import timezone


def local_midnight(day: date) -> datetime:
    """Midnight starting ``day`` in the trust's time zone: the bound for filtering records by day."""
    return timezone.make_aware(datetime.combine(day, time.min))
