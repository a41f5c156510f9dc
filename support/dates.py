"""Days, months and years as the trust counts them (its time zone; the year from 1 September).

The one home of month and year arithmetic: the academic year of the pupil import and the uniform
calendar and the financial year of the fund are the same year, 1 September to 31 August.
"""

from datetime import date, datetime, time, timedelta

from django.utils import timezone


def local_midnight(day: date) -> datetime:
    """Midnight starting ``day`` in the trust's time zone (``settings.TIME_ZONE``, whatever zone a request
    has activated): the bound for filtering records by day."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


# --- Years ---------------------------------------------------------------------------------------


def academic_year_start_for(day: date) -> int:
    """The calendar year in which the trust's year (1 September to 31 August) containing ``day`` starts.

    >>> academic_year_start_for(date(2026, 11, 23))
    2026
    >>> academic_year_start_for(date(2026, 8, 31))
    2025
    """
    return day.year if day.month >= 9 else day.year - 1


def academic_year_bounds(year: int) -> tuple[date, date]:
    """The first and last day of the year starting in September ``year``."""
    return date(year, 9, 1), date(year + 1, 8, 31)


# --- Months --------------------------------------------------------------------------------------


# (1, "January") … (12, "December"): a month number as people choose it.
MONTH_CHOICES = [(number, date(2000, number, 1).strftime("%B")) for number in range(1, 13)]


def next_month(month: date) -> date:
    """The first day of the month after the one containing ``month``."""
    return (month.replace(day=1) + timedelta(days=32)).replace(day=1)


def previous_month(month: date) -> date:
    """The first day of the month before the one containing ``month``."""
    return (month.replace(day=1) - timedelta(days=1)).replace(day=1)


def month_bounds(month: date) -> tuple[date, date]:
    """The first and last day of the month containing ``month`` (both inclusive)."""
    return month.replace(day=1), next_month(month) - timedelta(days=1)


def month_instants(month: date) -> tuple[datetime, datetime]:
    """Midnight starting the month containing ``month`` and midnight starting the next, in the trust's
    time zone: ``start <= moment < end`` is "in that month" for a timestamp."""
    first, last = month_bounds(month)
    return local_midnight(first), local_midnight(last + timedelta(days=1))
