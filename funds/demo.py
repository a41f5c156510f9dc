"""The demo trust's standby fund: two trustees' pledges and a year and more of donations."""

import datetime

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from support.audit import audit_event, audit_record_many
from support.demo import at_local

# --- The standby fund: two trustees' pledges and a few donations, so the ledger starts with money ---
TRUSTEE_PLEDGES = ("Trustee: Mrs H. Pemberton", "Trustee: Mr R. Okonjo")
TRUSTEE_PLEDGE_PENCE = 10_000_00
ONE_OFF_DONATIONS = [
    # donor, pence, days after 1 September, Gift Aid (individuals can declare it; businesses cannot)
    ("Riverton Builders' Merchants Ltd", 750_00, 20, False),
    ("Mrs J. Carter (sponsored walk)", 180_00, 45, True),
    # Recorded twice by mistake: the demo's wrong entry, for finance to reverse with a reason.
    ("Mrs J. Carter (sponsored walk)", 180_00, 46, True),
]
# A year and more of money in, bulk-created with the dates it happened: (financial year, 0 this one and -1
# the last; donor; pence; days after 1 September received; Gift Aid; days later finance typed it in).
HISTORY_DONATIONS = [
    (-1, TRUSTEE_PLEDGES[0], TRUSTEE_PLEDGE_PENCE, 2, True, 1),
    (-1, TRUSTEE_PLEDGES[1], TRUSTEE_PLEDGE_PENCE, 9, True, 0),
    (-1, "St Mark's Church harvest appeal", 420_00, 40, False, 2),
    (-1, "Riverton Round Table (Christmas collection)", 1_250_00, 110, False, 3),
    (-1, "Riverton Building Society community fund", 2_000_00, 150, False, 6),
    (-1, "Staff sponsored swim", 365_00, 230, True, 1),
    (-1, "Riverton Rotary", 1_500_00, 270, False, 4),
    (0, "St Mark's Church harvest appeal", 460_00, 38, False, 2),
    (0, "Riverton Round Table (Christmas collection)", 1_300_00, 110, False, 3),
    (0, "Riverton Building Society community fund", 2_000_00, 150, False, 6),
    (0, "Staff sponsored swim", 390_00, 230, True, 1),
    (0, "Riverton Rotary", 1_500_00, 270, False, 4),
]


def fund_demo_seed(*, today: datetime.date | None = None) -> int:
    """Both trustees pledge £10,000 a year to the standby fund, due 1 September of this financial year.

    The first trustee's payment has been received; the second's has not (it shows as overdue, and in
    the demo walk-through finance records it). Plus small one-off donations, one of them recorded twice
    by mistake (finance reverses the second in the walk-through). Does nothing once
    the pledges exist. Returns the number of donations recorded.
    """
    from funds.models import Pledge
    from funds.services.ledger import (
        financial_year_bounds,
        financial_year_for,
        fund_donation_record,
        standby_fund,
    )
    from funds.services.pledges import pledge_create

    finance = get_user_model().objects.filter(username="finance").first()
    if finance is None or Pledge.objects.filter(donor__in=TRUSTEE_PLEDGES).exists():
        return 0
    today = today or timezone.localdate()
    start, _ = financial_year_bounds(financial_year_for(today))
    fund = standby_fund()
    received, _overdue = (
        pledge_create(
            fund=fund,
            donor=donor,
            amount_pence=TRUSTEE_PLEDGE_PENCE,
            frequency=Pledge.Frequency.ANNUAL,
            next_due=start,
            gift_aid=True,
            restricted_purpose="",
            actor=finance,
        )
        for donor in TRUSTEE_PLEDGES
    )
    donations = [
        (received.donor, TRUSTEE_PLEDGE_PENCE, 2, True, received),
        *((donor, pence, days, gift_aid, None) for donor, pence, days, gift_aid in ONE_OFF_DONATIONS),
    ]
    for donor, pence, days, gift_aid, pledge in donations:
        fund_donation_record(
            fund=fund,
            donor=donor,
            amount_pence=pence,
            received_on=min(start + datetime.timedelta(days=days), today),
            gift_aid=gift_aid,
            pledge=pledge,
            actor=finance,
            today=today,
        )
    return len(donations) + _history_donations(fund=fund, finance=finance, start=start, today=today)


def _history_donations(*, fund, finance, start: datetime.date, today: datetime.date) -> int:
    """Last year's and this year's other donations, each recorded a few days after it was received (never
    after now): bulk-created, as the history of a real trust's ledger would be."""

    from funds.models import Donation, LedgerEntry

    now = timezone.now()
    rows = []
    for year, donor, pence, days, gift_aid, lag in HISTORY_DONATIONS:
        received = start.replace(year=start.year + year) + datetime.timedelta(days=days)
        if received <= today:
            recorded = min(at_local(received + datetime.timedelta(days=lag), 10, 15), now)
            rows.append(
                Donation(
                    fund=fund,
                    donor=donor,
                    amount_pence=pence,
                    received_on=received,
                    gift_aid=gift_aid,
                    recorded_by=finance,
                    created_at=recorded,
                )
            )
    Donation.objects.bulk_create(rows)
    source_type = ContentType.objects.get_for_model(Donation)
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            fund=fund,
            kind=LedgerEntry.Kind.INCOME,
            amount_pence=d.amount_pence,
            source_type=source_type,
            source_id=str(d.pk),
            category="donation",
            occurred_on=d.received_on,
            created_at=d.created_at,
            created_by=finance,
        )
        for d in rows
    )
    events = []
    for d in rows:
        event = audit_event(
            actor=finance,
            action="donation.recorded",
            subject=d,
            after={
                "fund": fund.pk,
                "donor": d.donor,
                "amount_pence": d.amount_pence,
                "received_on": d.received_on,
            },
        )
        event.at = d.created_at
        events.append(event)
    audit_record_many(events)
    return len(rows)
