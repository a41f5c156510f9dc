"""Fixtures the fund's tests share."""

import datetime

import pytest
from django.utils import timezone

from funds.models import LedgerEntry


@pytest.fixture
def clock(monkeypatch):
    """``clock(day)``: ledger entries made from now on happen on ``day`` and are recorded at midday (or
    ``hour``). Only the ledger's stamps move; the rest of the run keeps the real time."""
    created_at = LedgerEntry._meta.get_field("created_at")

    def set_to(day: datetime.date, hour: int = 12) -> None:
        moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))
        monkeypatch.setattr(created_at, "_get_default", lambda: moment)
        monkeypatch.setattr("funds.services.ledger._trust_today", lambda: day)

    return set_to
