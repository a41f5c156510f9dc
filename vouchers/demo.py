"""Voucher types, a year and more of vouchers, and a few issued today for the demo trust. Idempotent like
the rest of the demo.

The history (from 1 September last year to yesterday) is bulk-created with the dates it happened: about
a food voucher a school day across the trust, more in winter and fewer in August, and a few white goods and
furniture vouchers a month; most are redeemed within days, some expire or are cancelled. The standby
fund pays for them, and a voucher the fund could not afford was never issued (the service refuses it):
by the autumn term the fund runs short, and finance sees approvals waiting.
"""

import datetime
import random
from collections import defaultdict

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from funds.models import LedgerEntry
from funds.selectors.positions import fund_position
from funds.services.ledger import financial_year_bounds, financial_year_for, standby_fund
from support.audit import audit_event, audit_record_many
from support.demo import BATCH, at_local, explicit_timestamps, school_staff
from support.errors import SupportError
from support.models import Family, PartnerCharity, Policy, Pupil, Service
from support.scopes import scope_for
from vouchers import codes
from vouchers.models import Fulfilment, Redemption, ReferralReason, Voucher, VoucherType

TYPES = [
    (Service.FOOD_PARCEL, "Food parcel", 25_00, 28),
    (Service.WHITE_GOODS, "White goods", 150_00, 56),
    (Service.FURNITURE, "Furniture", 100_00, 56),
]


@transaction.atomic
def voucher_demo_seed() -> list[str]:
    from django.contrib.auth import get_user_model

    from vouchers.services import voucher_issue, voucher_redeem

    partner = PartnerCharity.objects.filter(name="Riverton Community Pantry").first()
    if partner is None or VoucherType.objects.filter(partner=partner).exists():
        return []
    fund = standby_fund()
    types = {
        service: VoucherType.objects.create(
            partner=partner,
            service=service,
            name=name,
            face_value_pence=value,
            validity_days=days,
            fund=fund,  # the standby fund pays the partner (support's demo has put money in it)
        )
        for service, name, value, days in TYPES
    }
    lead = get_user_model().objects.get(username="lead_a")
    charity = get_user_model().objects.get(username="charity")
    history = _history(types=types, partner=partner, charity=charity, today=timezone.localdate())
    school_id = sorted(scope_for(lead).school_ids)[0]
    rng = random.Random(7)
    families = list(
        Family.objects.filter(
            consents__partner=partner, consents__withdrawn_on__isnull=True, pupils__school_id=school_id
        )
        .distinct()
        .order_by("pk")[:40]
    )
    issued = []
    for family in rng.sample(families, min(12, len(families))):
        school = Pupil.objects.filter(family=family, school_id=school_id).first().school
        try:
            voucher = voucher_issue(
                family=family,
                voucher_type=types[Service.FOOD_PARCEL],
                school=school,
                issued_by=lead,
                delivery="print",  # nothing is sent: demo families' addresses are made up
                referral_reason=rng.choice(
                    [ReferralReason.INCOME_DROP, ReferralReason.BENEFITS, ReferralReason.DEBT]
                ),
            )
        except SupportError:  # the family is at its limit from the history
            continue
        issued.append(voucher)
    # Some have been to the pantry already, so finance sees actual spend beside the commitments.
    for voucher in issued[:5]:
        voucher_redeem(voucher=voucher, partner=partner, redeemed_by=charity, items_given="Food parcel")
    return [
        f"Voucher types: {len(types)} at {partner.name}; {history} vouchers of history since "
        f"1 September last year and {len(issued)} issued today."
    ]


# Vouchers a school day across the trust, by month (September first): winter is harder, August quiet.
FOOD_PER_DAY = [1.2, 1.5, 1.8, 2.0, 1.9, 1.6, 1.4, 1.2, 1.1, 1.1, 0.9, 0.5]
OTHER_PER_DAY = {Service.WHITE_GOODS: 0.32, Service.FURNITURE: 0.2}
# Money the history leaves in the fund: the vouchers issued today and the coat requests still fit.
RESERVE_PENCE = 600_00
# Schools keep part of the fund back through the autumn and winter for coats and shoes (the uniform demo's
# history): this much on 1 September, none by 1 March.
WINTER_PENCE = 6_000_00
REASONS = [
    ReferralReason.INCOME_DROP,
    ReferralReason.BENEFITS,
    ReferralReason.DEBT,
    ReferralReason.BEREAVEMENT,
]


def _history(*, types: dict[str, VoucherType], partner: PartnerCharity, charity, today: datetime.date) -> int:
    """Vouchers from 1 September last year to yesterday, with their redemptions, ledger entries and audit
    events, bulk-created in batches with the dates they happened. Returns how many were made."""
    rng = random.Random(20260901)
    fund = standby_fund()
    first = financial_year_bounds(financial_year_for(today) - 1)[0]
    # Families that gave consent, weighted to those with free school meals; each at one of its schools.
    families = list(
        Family.objects.filter(consents__partner=partner, consents__withdrawn_on__isnull=True)
        .filter(Q(pupils__fsm=True) | Q(pupils__in_need=True))
        .values_list("pk", "pupils__school_id", "lead_carer_name", "adults", "children", "dietary_needs")
        .distinct()
        .order_by("pk", "pupils__school_id")
    )
    homes: dict[int, tuple] = {}
    for pk, school_id, carer, adults, children, diet in families:
        homes.setdefault(pk, (school_id, carer, adults + children, diet))
    family_ids = sorted(homes)
    staff = {school_id: school_staff(school_id) for school_id in {home[0] for home in homes.values()}}
    income = sorted(
        LedgerEntry.objects.filter(fund=fund, kind=LedgerEntry.Kind.INCOME).values_list(
            "occurred_on", "amount_pence"
        )
    )
    position = fund_position(fund=fund)
    # The money not spent or committed before the history starts (the demo's donations are all income).
    available = position.available_pence - sum(amount for _, amount in income)
    policy = Policy.current()  # the demo's types use the trust's limit
    recent: dict[tuple[int, str], list[datetime.date]] = defaultdict(list)
    now = timezone.now()
    vouchers: list[Voucher] = []
    day = first
    while day < today:
        available += sum(amount for when, amount in income if when == day)
        if day.weekday() < 5:
            month = (day.month - 9) % 12
            wanted = [Service.FOOD_PARCEL] * _count(rng, FOOD_PER_DAY[month])
            for service, rate in OTHER_PER_DAY.items():
                wanted += [service] * _count(rng, rate)
            for service in wanted:
                vtype = types[service]
                if available - vtype.face_value_pence < RESERVE_PENCE + _kept_for_winter(day):
                    continue  # refused: the fund is short
                family_id = family_ids[rng.randrange(len(family_ids))]
                window = day - datetime.timedelta(days=policy.voucher_window_days)
                if len([d for d in recent[(family_id, service)] if d > window]) >= policy.food_voucher_limit:
                    continue
                recent[(family_id, service)].append(day)
                school_id, carer, household, diet = homes[family_id]
                issued_at = at_local(day, rng.randint(9, 15), rng.randrange(60))
                voucher = Voucher(
                    code=codes.generate_code(),
                    voucher_type=vtype,
                    family_id=family_id,
                    school_id=school_id,
                    face_value_pence=vtype.face_value_pence,
                    issued_by=staff[school_id],
                    issued_at=issued_at,
                    updated_at=issued_at,
                    expires_on=day + datetime.timedelta(days=vtype.validity_days),
                    referral_reason=rng.choice(REASONS),
                    lead_carer_name=carer,
                    household_size=max(1, household),
                    dietary_needs=diet,
                    fulfilment=Fulfilment.COLLECTION
                    if service == Service.FOOD_PARCEL
                    else Fulfilment.DELIVERY,
                )
                # What became of it: most are used within days; some expire unused, a few are cancelled.
                fate = rng.random()
                if fate < 0.04:
                    voucher.state = Voucher.State.CANCELLED
                    voucher.cancelled_at = min(issued_at + datetime.timedelta(days=rng.randint(1, 5)), now)
                    voucher.cancelled_by = voucher.issued_by
                    voucher.cancel_reason = "The family was helped another way"
                elif fate < 0.12:
                    voucher.state = (
                        Voucher.State.EXPIRED if voucher.expires_on < today else Voucher.State.ISSUED
                    )
                else:
                    redeemed_at = issued_at + datetime.timedelta(
                        days=rng.randint(0, 9), hours=rng.randint(0, 3)
                    )
                    voucher.state = Voucher.State.REDEEMED if redeemed_at < now else Voucher.State.ISSUED
                    voucher.redeemed_at = redeemed_at
                voucher.updated_at = (
                    voucher.cancelled_at or getattr(voucher, "redeemed_at", None) or issued_at
                )
                available -= vtype.face_value_pence
                if voucher.state in (Voucher.State.CANCELLED, Voucher.State.EXPIRED):
                    available += vtype.face_value_pence
                vouchers.append(voucher)
        day += datetime.timedelta(days=1)
    with explicit_timestamps(Voucher, Redemption):
        for start in range(0, len(vouchers), BATCH):
            _write(vouchers[start : start + BATCH], fund=fund, partner=partner, charity=charity)
    return len(vouchers)


def _kept_for_winter(day: datetime.date) -> int:
    into_year = (day - financial_year_bounds(financial_year_for(day))[0]).days
    return max(0, WINTER_PENCE * (181 - into_year) // 181)


def _count(rng: random.Random, rate: float) -> int:
    """A whole number of events whose mean is ``rate``."""
    whole = int(rate)
    return whole + (rng.random() < rate - whole)


def _write(vouchers: list[Voucher], *, fund, partner: PartnerCharity, charity) -> None:
    """One batch: the vouchers, their redemptions, ledger entries and audit events, a query or two each."""
    Voucher.objects.bulk_create(vouchers, batch_size=BATCH)
    source_type = ContentType.objects.get_for_model(Voucher)
    redemptions, entries, events = [], [], []

    def entry(voucher: Voucher, kind: str, at: datetime.datetime, by, note: str = "") -> LedgerEntry:
        return LedgerEntry(
            fund=fund,
            kind=kind,
            amount_pence=voucher.face_value_pence,
            source_type=source_type,
            source_id=str(voucher.pk),
            school_id=voucher.school_id,
            category=f"voucher:{voucher.voucher_type.service}",
            note=note,
            occurred_on=timezone.localdate(at),
            created_at=at,
            created_by=by,
        )

    def event(voucher: Voucher, action: str, at: datetime.datetime, by, state: str) -> None:
        made = audit_event(actor=by, action=action, subject=voucher, after={"state": state})
        made.at = at
        events.append(made)

    for voucher in vouchers:
        entries.append(entry(voucher, LedgerEntry.Kind.COMMITMENT, voucher.issued_at, voucher.issued_by))
        event(voucher, "voucher.issued", voucher.issued_at, voucher.issued_by, Voucher.State.ISSUED)
        if voucher.state == Voucher.State.REDEEMED:
            at = voucher.redeemed_at
            redemptions.append(
                Redemption(
                    voucher=voucher, partner=partner, redeemed_by=charity, redeemed_at=at, items_given=""
                )
            )
            entries.append(entry(voucher, LedgerEntry.Kind.COMMITMENT_RELEASE, at, charity, "made actual"))
            entries.append(entry(voucher, LedgerEntry.Kind.SPEND, at, charity))
            event(voucher, "voucher.redeemed", at, charity, Voucher.State.REDEEMED)
        elif voucher.state == Voucher.State.CANCELLED:
            at = voucher.cancelled_at
            entries.append(
                entry(
                    voucher, LedgerEntry.Kind.COMMITMENT_RELEASE, at, voucher.issued_by, "Voucher cancelled"
                )
            )
            event(voucher, "voucher.cancelled", at, voucher.issued_by, Voucher.State.CANCELLED)
        elif voucher.state == Voucher.State.EXPIRED:
            at = min(at_local(voucher.expires_on + datetime.timedelta(days=1), 2), timezone.now())
            entries.append(entry(voucher, LedgerEntry.Kind.COMMITMENT_RELEASE, at, None, "Voucher expired"))
            event(voucher, "voucher.expired", at, None, Voucher.State.EXPIRED)
    Redemption.objects.bulk_create(redemptions, batch_size=BATCH)
    LedgerEntry.objects.bulk_create(entries, batch_size=BATCH)
    audit_record_many(events)
