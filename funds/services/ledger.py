"""The fund ledger: donations in, spend committed and made actual, reversals. One service for every app.

Every ledger amount is positive pence and the entry's kind gives the direction (see
``funds.models``); a fund's position (income, spent, committed, balance, available) is summed by
``funds.selectors.positions``, the one home of the ledger's sums.

Commitments and releases are never reversed: a wrong commitment is released. Turning a commitment
into actual spend writes a release and a spend of the same amount, so it leaves ``available``
unchanged and is never refused.

Every write locks the fund row first (``select_for_update``) and reads the position after the
lock, so concurrent spends against one fund are serialised and none sees a stale position.
"""

import calendar
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from funds.models import (
    Donation,
    Fund,
    FundCheckpoint,
    FundCheckpointMonth,
    GiftAidClaim,
    GiftAidClaimItem,
    LedgerEntry,
    Pledge,
)
from funds.selectors.positions import (
    ZERO_POSITION,
    FundPosition,
    amount_sum,
    committed_effect,
    fund_position,
    month_sums,
    position_of,
    source_position,
)
from support.audit import audit_event, audit_record, audit_record_many
from support.dates import academic_year_bounds, academic_year_start_for
from support.errors import ConflictError, SupportError
from support.hot_queries import hot_query
from support.models import School
from support.money import pounds
from support.scopes import scope_for

STANDBY_FUND_NAME = "Standby fund"
Kind = LedgerEntry.Kind

# What money is for. A ledger entry's category is one of these keys, or "voucher:<service>" for a
# voucher of a partner's service (e.g. "voucher:food_parcel"); donations may be restricted to one.
CATEGORIES = {
    "donation": "Donations",
    "income": "Other income",
    "gift_aid": "Gift Aid",
    "voucher": "Vouchers",
    "coat": "Coats",
    "shoes": "Shoes",
    "uniform": "Uniform for need",
    "welcome_uniform": "Welcome uniform",
}
SPEND_CATEGORIES = ("voucher", "coat", "shoes", "uniform", "welcome_uniform")


def category_group(category: str) -> str:
    """The top-level category: "voucher:food_parcel" → "voucher"."""
    return category.split(":", 1)[0]


def category_label(category: str) -> str:
    """A category as finance reads it: "coat" → "Coats", "voucher:food_parcel" → "Vouchers: food parcel"."""
    group, _, detail = category.partition(":")
    label = CATEGORIES.get(group, group.replace("_", " ").capitalize() or "Uncategorised")
    return f"{label}: {detail.replace('_', ' ')}" if detail else label


# The financial year is the academic year (1 September to 31 August): one helper, named as finance says it.
financial_year_for = academic_year_start_for
financial_year_bounds = academic_year_bounds


def next_due_after(due: date, frequency: str) -> date:
    """The pledge's due date after ``due``: a year or a month on (the 31st becomes the month's last day)."""
    months = 12 if frequency == Pledge.Frequency.ANNUAL else 1
    month_index = due.month - 1 + months
    year, month = due.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(due.day, calendar.monthrange(year, month)[1]))


def _trust_today() -> date:
    return timezone.localdate()


def occurred_day(occurred_on: date | None, *, today: date | None = None) -> date:
    """The day a ledger entry happened: ``occurred_on`` as given (today when None), never in the future.

    ``today`` is the trust's today; the clock is read only when the caller passes neither.
    """
    today = today or _trust_today()
    day = occurred_on or today
    if day > today:
        raise SupportError(
            f"Money cannot be recorded for a day that has not come yet ({day:%-d %B %Y}).",
            field="occurred_on",
            code="future_date",
        )
    return day


def financial_year_label(year: int) -> str:
    return f"{year}–{str(year + 1)[-2:]}"


# --- What is behind a ledger entry ---------------------------------------------------------------
# The core never imports a feature app; each app registers, for the models it charges to a fund, a
# function that describes one of them for finance: a few plain facts, no case notes, no pupil names.


@dataclass(frozen=True)
class SourceFacts:
    title: str  # "Voucher 7K3M-…", "Coat request"
    facts: list[tuple[str, str]]  # [("School", "Alpha Primary Academy"), ("State", "Redeemed"), ...]


_DESCRIBERS: dict[str, Callable[[list[str]], dict[str, SourceFacts]]] = {}


def register_ledger_source(
    model: type[models.Model], describe_many: Callable[[list[str]], dict[str, SourceFacts]]
) -> None:
    """``describe_many(source ids) → {source id: SourceFacts}`` for ``model``, in bounded queries."""
    _DESCRIBERS[model._meta.label_lower] = describe_many


def _describe_donations(ids: list[str]) -> dict[str, SourceFacts]:
    """A donation as finance reads it on the ledger: who gave it, when, and on what terms."""
    facts = {}
    for donation in Donation.objects.filter(pk__in=[int(i) for i in ids if i.isdigit()]):
        facts[str(donation.pk)] = SourceFacts(
            title=f"Donation from {donation.donor}",
            facts=[
                ("Donor", donation.donor),
                ("Received", f"{donation.received_on:%-d %B %Y}"),
                ("Gift Aid", "Yes" if donation.gift_aid else "No"),
                (
                    "Restricted to",
                    category_label(donation.restricted_purpose) if donation.restricted_purpose else "–",
                ),
            ],
        )
    return facts


register_ledger_source(Donation, _describe_donations)


def describe_sources(entries: Iterable[LedgerEntry]) -> dict[tuple[int, str], SourceFacts]:
    """Facts about the things behind ``entries``, keyed by (content type id, source id)."""
    wanted: dict[int, set[str]] = {}
    for entry in entries:
        if entry.source_type_id and entry.source_id:
            wanted.setdefault(entry.source_type_id, set()).add(entry.source_id)
    facts: dict[tuple[int, str], SourceFacts] = {}
    for type_id, ids in wanted.items():
        content_type = ContentType.objects.get_for_id(type_id)
        describe = _DESCRIBERS.get(f"{content_type.app_label}.{content_type.model}")
        if describe is None:
            continue
        for source_id, fact in describe(sorted(ids)).items():
            facts[(type_id, source_id)] = fact
    return facts


def _source_ref(source: models.Model) -> tuple[ContentType, str]:
    if source.pk is None:
        raise ValueError("A ledger source must be saved before it can commit money.")
    return ContentType.objects.get_for_model(source), str(source.pk)


def _source_entries(source: models.Model) -> models.QuerySet:
    source_type, source_id = _source_ref(source)
    return LedgerEntry.objects.filter(source_type=source_type, source_id=source_id)


def _lock_fund(fund: Fund | int) -> Fund:
    pk = fund.pk if isinstance(fund, Fund) else fund
    found = _fund_locked(pk)
    if not found:
        raise Fund.DoesNotExist(f"Fund {pk} does not exist.")
    return found[0]


@hot_query
def _fund_locked(pk: int) -> models.QuerySet:
    """Every spend committed takes this lock: its SQL compiled once per connection (support.hot_queries)."""
    return Fund.objects.select_for_update().filter(pk=pk)


def _entry_after(entry: LedgerEntry) -> dict:
    return {
        "fund": entry.fund_id,
        "kind": entry.kind,
        "amount_pence": entry.amount_pence,
        "source_type": entry.source_type_id,
        "source_id": entry.source_id,
        "category": entry.category,
        "school": entry.school_id,
        "occurred_on": entry.occurred_on,
    }


def standby_fund() -> Fund:
    """The trust's standby fund, created on first use."""
    fund, created = Fund.objects.get_or_create(name=STANDBY_FUND_NAME)
    if created:
        audit_record(actor=None, action="fund.created", subject=fund, after={"name": fund.name})
    return fund


# A transaction writing a ledger entry is short (a use case, never minutes); entries older than this are
# settled: no entry with a lower id can still be on its way in.
CHECKPOINT_SETTLED_AFTER = timedelta(minutes=15)


@transaction.atomic
def fund_checkpoint(
    *, fund: Fund, settled_after: timedelta = CHECKPOINT_SETTLED_AFTER
) -> FundCheckpoint | None:
    """Record ``fund``'s totals up to its last settled entry (nightly, Celery beat). Idempotent.

    Totals are the previous checkpoint's plus the entries since, so each run reads only the new entries;
    those entries are also kept summed per month, kind, school and category (``FundCheckpointMonth``),
    which a period's figures read instead of the ledger's whole history.
    Returns the new checkpoint, or None when nothing has settled since the last one.
    """
    fund = _lock_fund(fund)  # two runs at once take turns: the second finds nothing new
    previous = FundCheckpoint.objects.filter(fund=fund).order_by("-up_to_entry_id").first()
    after = previous.up_to_entry_id if previous else 0
    up_to = LedgerEntry.objects.filter(
        fund=fund, pk__gt=after, created_at__lt=timezone.now() - settled_after
    ).aggregate(last=models.Max("pk"))["last"]
    if up_to is None:
        return None
    base = ZERO_POSITION
    if previous is not None:
        base = FundPosition(previous.income_pence, previous.spent_pence, previous.committed_pence)
    totals = base + position_of(LedgerEntry.objects.filter(fund=fund, pk__gt=after, pk__lte=up_to))
    checkpoint = FundCheckpoint.objects.create(
        fund=fund,
        up_to_entry_id=up_to,
        income_pence=totals.income_pence,
        spent_pence=totals.spent_pence,
        committed_pence=totals.committed_pence,
    )
    FundCheckpointMonth.objects.bulk_create(
        FundCheckpointMonth(checkpoint=checkpoint, **month)
        for month in month_sums(fund_id=fund.pk, after=after, up_to=up_to)
    )
    return checkpoint


def fund_checkpoint_all(*, settled_after: timedelta = CHECKPOINT_SETTLED_AFTER) -> int:
    """A checkpoint for every fund with settled entries since its last one. Returns how many were made."""
    return sum(
        fund_checkpoint(fund=fund, settled_after=settled_after) is not None for fund in Fund.objects.all()
    )


@transaction.atomic
def fund_donation_record(
    *,
    fund: Fund,
    donor: str,
    amount_pence: int,
    received_on: date,
    gift_aid: bool,
    restricted_purpose: str = "",
    pledge: Pledge | None = None,
    sponsored: bool = False,
    actor: AbstractBaseUser,
    today: date | None = None,
) -> Donation:
    """Finance (or a trust admin) records a donation; it becomes an income entry in the fund.

    ``restricted_purpose`` is empty or one of ``SPEND_CATEGORIES`` (the donor asked for it to pay only
    for that). ``gift_aid`` asks for Gift Aid on it; it is claimed only while a declaration covers it
    (``funds.services.gift_aid``). ``sponsored``: sponsorship of a charity event. A donation against a
    ``pledge`` moves the pledge's next due date on by its frequency.
    Its income entry is dated ``received_on``, which cannot be after ``today``.
    """
    if not scope_for(actor).has_role("finance"):
        raise SupportError("Only finance can record donations.", code="forbidden")
    if isinstance(amount_pence, bool) or not isinstance(amount_pence, int) or amount_pence <= 0:
        raise SupportError("A donation must be a positive amount.", field="amount_pence", code="invalid")
    if not donor.strip():
        raise SupportError("Say who the donation is from.", field="donor", code="required")
    try:
        received_on = occurred_day(received_on, today=today)
    except SupportError:
        raise SupportError(
            "The date received must be today or in the past.", field="received_on", code="future_date"
        ) from None
    restricted_purpose = restricted_purpose.strip()
    if restricted_purpose and restricted_purpose not in SPEND_CATEGORIES:
        raise SupportError("Choose what the donation may pay for.", field="restricted_purpose")
    fund = _lock_fund(fund)
    if not fund.is_active:
        raise ConflictError(f"{fund.name} is closed.", code="fund_inactive")
    if pledge is not None:
        pledge = Pledge.objects.select_for_update().get(pk=pledge.pk)
        if pledge.fund_id != fund.pk:
            raise SupportError(f"This pledge is to {pledge.fund.name}.", field="pledge")
        if not pledge.is_active:
            raise ConflictError("This pledge has been stopped.", code="pledge_inactive", field="pledge")
        due_before = pledge.next_due
        pledge.next_due = next_due_after(pledge.next_due, pledge.frequency)
        pledge.save(update_fields=["next_due"])
        audit_record(
            actor=actor,
            action="pledge.received",
            subject=pledge,
            before={"next_due": due_before},
            after={"next_due": pledge.next_due},
        )
    donation = Donation.objects.create(
        fund=fund,
        donor=donor.strip(),
        amount_pence=amount_pence,
        received_on=received_on,
        gift_aid=gift_aid,
        sponsored=bool(sponsored),
        restricted_purpose=restricted_purpose,
        pledge=pledge,
        recorded_by=actor,
    )
    source_type, source_id = _source_ref(donation)
    LedgerEntry.objects.create(
        fund=fund,
        kind=Kind.INCOME,
        amount_pence=amount_pence,
        source_type=source_type,
        source_id=source_id,
        category="donation",
        occurred_on=received_on,
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="donation.recorded",
        subject=donation,
        after={
            "fund": fund.pk,
            "donor": donation.donor,
            "amount_pence": amount_pence,
            "received_on": received_on,
            "gift_aid": gift_aid,
            "sponsored": bool(sponsored),
            "restricted_purpose": donation.restricted_purpose,
            "pledge": pledge.pk if pledge else None,
        },
    )
    return donation


@transaction.atomic
def fund_income_record(
    *,
    fund: Fund,
    source: models.Model,
    amount_pence: int,
    category: str,
    occurred_on: date,
    actor: AbstractBaseUser | None,
    note: str = "",
    today: date | None = None,
) -> LedgerEntry:
    """Income other than a donation (Gift Aid HMRC paid on a claim): one income entry for ``source``,
    dated the day the money came, which cannot be after ``today``. The caller checks who may record it."""
    if isinstance(amount_pence, bool) or not isinstance(amount_pence, int) or amount_pence <= 0:
        raise SupportError("Income must be a positive amount.", field="amount_pence", code="invalid")
    occurred_on = occurred_day(occurred_on, today=today)
    fund = _lock_fund(fund)
    source_type, source_id = _source_ref(source)
    entry = LedgerEntry.objects.create(
        fund=fund,
        kind=Kind.INCOME,
        amount_pence=amount_pence,
        source_type=source_type,
        source_id=source_id,
        category=category,
        occurred_on=occurred_on,
        note=note,
        created_by=actor,
    )
    audit_record(actor=actor, action="fund.income", subject=entry, after=_entry_after(entry))
    return entry


def fund_spend_commit(
    *,
    fund: Fund,
    source: models.Model,
    amount_pence: int,
    category: str,
    school: School | None = None,
    actor: AbstractBaseUser,
    override_reason: str = "",
    occurred_on: date | None = None,
    today: date | None = None,
    new_source: bool = False,
) -> LedgerEntry:
    """Commit ``amount_pence`` of ``fund`` to ``source`` (a voucher issued, a request approved) on
    ``occurred_on`` (default: today; never after ``today``).

    Refused ("insufficient_funds") when it would take available below zero, unless a finance user
    gives ``override_reason``. A source with an open commitment or actual spend cannot commit again.
    The caller has already checked that ``actor`` may do the thing the money is for.

    ``new_source``: the caller inserted ``source`` in the transaction it is in, so the source has no
    entries to look for, and the commitment joins that transaction without a savepoint (a refusal
    rolls back the caller's work too). Two round trips and a read fewer under the fund's lock.
    """
    kwargs = locals()
    if new_source:
        if not transaction.get_connection().in_atomic_block:
            raise TransactionManagementError("new_source=True needs the caller's transaction")
        return _spend_commit(**kwargs)
    with transaction.atomic():
        return _spend_commit(**kwargs)


def _spend_commit(
    *,
    fund: Fund,
    source: models.Model,
    amount_pence: int,
    category: str,
    school: School | None,
    actor: AbstractBaseUser,
    override_reason: str,
    occurred_on: date | None,
    today: date | None,
    new_source: bool,
) -> LedgerEntry:
    if isinstance(amount_pence, bool) or not isinstance(amount_pence, int) or amount_pence <= 0:
        raise SupportError("Spend must be a positive amount.", field="amount_pence", code="invalid")
    occurred_on = occurred_day(occurred_on, today=today)
    override_reason = override_reason.strip()
    if override_reason and not scope_for(actor).is_finance:
        raise SupportError("Only finance can override the fund's balance.", code="forbidden")
    fund = _lock_fund(fund)
    if not fund.is_active:
        raise ConflictError(f"{fund.name} is closed.", code="fund_inactive")
    if fund.school_id is not None and (school is None or school.pk != fund.school_id):
        raise SupportError(f"{fund.name} pays only for its own school.", code="wrong_fund")
    source_type, source_id = _source_ref(source)
    if not new_source:
        mine = source_position(source_type_id=source_type.pk, source_id=source_id)
        if mine.committed_pence or mine.spent_pence:
            raise ConflictError("This has already been paid for from a fund.", code="already_committed")
    position = fund_position(fund=fund)
    overridden = position.available_pence - amount_pence < 0
    if overridden and not override_reason:
        raise SupportError(
            f"{fund.name} has {pounds(position.available_pence)} available; "
            f"{pounds(amount_pence)} needs finance to override.",
            code="insufficient_funds",
        )
    entry = LedgerEntry.objects.create(
        fund=fund,
        kind=Kind.COMMITMENT,
        amount_pence=amount_pence,
        source_type=source_type,
        source_id=source_id,
        school=school,
        category=category,
        override_reason=override_reason if overridden else "",
        occurred_on=occurred_on,
        created_by=actor,
    )
    audit_record(actor=actor, action="fund.spend_committed", subject=entry, after=_entry_after(entry))
    if overridden:
        audit_record(
            actor=actor,
            action="fund.spend_overridden",
            subject=entry,
            before={"available_pence": position.available_pence},
            after={"available_pence": position.available_pence - amount_pence},
            note=override_reason,
        )
    return entry


def _open_commitments(source: models.Model, *, locked: bool = False) -> list[tuple[int, LedgerEntry, int]]:
    """Lock ``source``'s row (unless the caller already holds the lock: ``locked``) and return, per fund it
    committed money in, its latest commitment entry and the amount still open, read after the lock.

    Making a commitment actual or releasing it never lowers a fund's ``available``, so it needs no
    lock on the fund (a concurrent commit at worst sees a little less available than there is); the
    lock on the source row keeps two calls for the same source from both acting on one commitment.
    """
    if not locked:
        type(source)._base_manager.select_for_update().filter(pk=source.pk).values_list("pk").first()
    # A source has a handful of entries: read them in one query and add them up here.
    source_type, source_id = _source_ref(source)
    entries = _commitment_entries(source_type.pk, source_id)
    open_of: dict[int, int] = {}
    latest_of: dict[int, LedgerEntry] = {}
    for entry in entries:
        if entry.kind == Kind.COMMITMENT:
            open_of[entry.fund_id] = open_of.get(entry.fund_id, 0) + entry.amount_pence
            latest_of[entry.fund_id] = entry
        else:
            open_of[entry.fund_id] = open_of.get(entry.fund_id, 0) - entry.amount_pence
    return [
        (fund_id, latest_of[fund_id], open_pence)
        for fund_id, open_pence in sorted(open_of.items())
        if open_pence > 0 and fund_id in latest_of
    ]


@hot_query
def _commitment_entries(source_type_id: int, source_id: str) -> models.QuerySet:
    """A source's commitments and releases, oldest first (the counter's redeem reads them: compiled once,
    support.hot_queries)."""
    return LedgerEntry.objects.filter(
        source_type_id=source_type_id,
        source_id=source_id,
        kind__in=[Kind.COMMITMENT, Kind.COMMITMENT_RELEASE],
    ).order_by("pk")


# No savepoint of its own: it refuses nothing, and a caller that is already in a transaction (a
# redemption at the counter) saves two round trips; an error still rolls the whole transaction back.
@transaction.atomic(savepoint=False)
def fund_spend_actual(
    *,
    source: models.Model,
    actor: AbstractBaseUser | None,
    occurred_on: date | None = None,
    today: date | None = None,
    source_locked: bool = False,
) -> list[LedgerEntry]:
    """The goods were handed over or the voucher redeemed (on ``occurred_on``, default today): the open
    commitment becomes actual spend.

    Writes a commitment release and a spend of the same amount. Idempotent: with no open commitment
    (already actual, released, or never committed) it does nothing and returns []. ``source_locked``:
    the caller has locked the source's row in this transaction (e.g. by the update that claimed it).
    The counter's redeem writes the same entries in its one statement on PostgreSQL
    (``vouchers.services._REDEEM_SQL``); tests/vouchers/test_redeem_statement.py holds the two equal.
    """
    occurred_on = occurred_day(occurred_on, today=today)
    written = []
    for fund_id, commitment, open_pence in _open_commitments(source, locked=source_locked):
        common = {
            "fund_id": fund_id,
            "amount_pence": open_pence,
            "source_type_id": commitment.source_type_id,
            "source_id": commitment.source_id,
            "school_id": commitment.school_id,
            "category": commitment.category,
            "occurred_on": occurred_on,
            "created_by": actor,
        }
        written += [
            LedgerEntry(kind=Kind.COMMITMENT_RELEASE, note="made actual", **common),
            LedgerEntry(kind=Kind.SPEND, **common),
        ]
    if not written:
        return []
    LedgerEntry.objects.bulk_create(written)
    spends = [entry for entry in written if entry.kind == Kind.SPEND]
    audit_record_many(
        [
            audit_event(actor=actor, action="fund.spend_actual", subject=s, after=_entry_after(s))
            for s in spends
        ]
    )
    return spends


@transaction.atomic
def fund_commitment_release(
    *,
    source: models.Model,
    actor: AbstractBaseUser | None,
    note: str = "",
    occurred_on: date | None = None,
    today: date | None = None,
    amount_pence: int | None = None,
) -> list[LedgerEntry]:
    """A voucher cancelled or expired, a request withdrawn (on ``occurred_on``, default today): give the
    open commitment back. ``amount_pence`` gives back only that much of it (a welcome pack handed over
    partly from donated second-hand stock), the rest staying open.

    Idempotent: with nothing open it does nothing and returns [].
    """
    occurred_on = occurred_day(occurred_on, today=today)
    releases = []
    left = amount_pence
    for fund_id, commitment, open_pence in _open_commitments(source):
        if left is not None:
            open_pence, left = min(open_pence, left), left - min(open_pence, left)
            if open_pence <= 0:
                continue
        release = LedgerEntry.objects.create(
            fund_id=fund_id,
            kind=Kind.COMMITMENT_RELEASE,
            amount_pence=open_pence,
            source_type=commitment.source_type,
            source_id=commitment.source_id,
            school=commitment.school,
            category=commitment.category,
            note=note,
            occurred_on=occurred_on,
            created_by=actor,
        )
        audit_record(
            actor=actor, action="fund.commitment_released", subject=release, after=_entry_after(release)
        )
        releases.append(release)
    return releases


@dataclass(frozen=True)
class SpendItem:
    source: models.Model
    amount_pence: int
    category: str
    school: School | None = None


@transaction.atomic
def fund_spend_commit_many(
    *,
    fund: Fund,
    items: Sequence[SpendItem],
    actor: AbstractBaseUser,
    occurred_on: date | None = None,
    today: date | None = None,
) -> list[LedgerEntry]:
    """Commit money for many new sources at once (welcome packs made for a whole intake): all or nothing.

    The total is checked against ``available`` once, under the fund lock; there is no override (a
    commitment this size is finance's decision, not a side effect). Sources already paid for refuse it.
    A fixed number of queries whatever the number of items.
    """
    items = [item for item in items if item.amount_pence]
    if not items:
        return []
    occurred_on = occurred_day(occurred_on, today=today)
    if any(not isinstance(item.amount_pence, int) or item.amount_pence < 0 for item in items):
        raise SupportError("Spend must be a positive amount.", field="amount_pence", code="invalid")
    fund = _lock_fund(fund)
    if not fund.is_active:
        raise ConflictError(f"{fund.name} is closed.", code="fund_inactive")
    refs = [_source_ref(item.source) for item in items]
    for source_type in {ref[0] for ref in refs}:
        ids = [source_id for ref_type, source_id in refs if ref_type == source_type]
        if LedgerEntry.objects.filter(source_type=source_type, source_id__in=ids).exists():
            raise ConflictError(
                "Some of these have already been paid for from a fund.", code="already_committed"
            )
    for item in items:
        if fund.school_id is not None and (item.school is None or item.school.pk != fund.school_id):
            raise SupportError(f"{fund.name} pays only for its own school.", code="wrong_fund")
    total = sum(item.amount_pence for item in items)
    position = fund_position(fund=fund)
    if position.available_pence - total < 0:
        raise SupportError(
            f"{fund.name} has {pounds(position.available_pence)} available, not enough for "
            f"{pounds(total)}. Ask finance to add money to the fund first.",
            code="insufficient_funds",
        )
    entries = LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                fund=fund,
                kind=Kind.COMMITMENT,
                amount_pence=item.amount_pence,
                source_type=source_type,
                source_id=source_id,
                school=item.school,
                category=item.category,
                occurred_on=occurred_on,
                created_by=actor,
            )
            for item, (source_type, source_id) in zip(items, refs, strict=True)
        ],
        batch_size=1000,
    )
    audit_record_many(
        [
            audit_event(actor=actor, action="fund.spend_committed", subject=e, after=_entry_after(e))
            for e in entries
        ]
    )
    return entries


@transaction.atomic
def fund_commitment_release_many(
    *,
    sources: Sequence[models.Model],
    actor: AbstractBaseUser | None,
    note: str = "",
    occurred_on: date | None = None,
    today: date | None = None,
) -> list[LedgerEntry]:
    """Release the open commitments of many sources of one model at once (vouchers expiring overnight).

    Locks the sources' rows; a fixed number of queries whatever their number. Idempotent.
    """
    if not sources:
        return []
    occurred_on = occurred_day(occurred_on, today=today)
    model = type(sources[0])
    ids = sorted(source.pk for source in sources)
    list(model._base_manager.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
    source_type = ContentType.objects.get_for_model(model)
    entries = LedgerEntry.objects.filter(
        source_type=source_type,
        source_id__in=[str(pk) for pk in ids],
        kind__in=[Kind.COMMITMENT, Kind.COMMITMENT_RELEASE],
    )
    open_rows = (
        entries.values("fund_id", "source_id")
        .annotate(open=amount_sum(committed_effect()))
        .filter(open__gt=0)
    )
    open_amounts = {(row["fund_id"], row["source_id"]): int(row["open"]) for row in open_rows}
    if not open_amounts:
        return []
    latest: dict[tuple[int, str], LedgerEntry] = {}
    for commitment in entries.filter(kind=Kind.COMMITMENT).order_by("pk"):
        latest[(commitment.fund_id, commitment.source_id)] = commitment
    releases = LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                fund_id=fund_id,
                kind=Kind.COMMITMENT_RELEASE,
                amount_pence=amount,
                source_type=source_type,
                source_id=source_id,
                school_id=latest[(fund_id, source_id)].school_id,
                category=latest[(fund_id, source_id)].category,
                note=note,
                occurred_on=occurred_on,
                created_by=actor,
            )
            for (fund_id, source_id), amount in sorted(open_amounts.items())
        ],
        batch_size=1000,
    )
    audit_record_many(
        [
            audit_event(actor=actor, action="fund.commitment_released", subject=r, after=_entry_after(r))
            for r in releases
        ]
    )
    return releases


def fund_for_school(school: School) -> Fund:
    """The fund that pays for a school's requests: the school's own active fund if it has one (its
    hardship budget), otherwise the trust's standby fund."""
    own = Fund.objects.filter(school=school, is_active=True).order_by("pk").first()
    return own or standby_fund()


REVERSIBLE = (Kind.INCOME, Kind.SPEND)


def _refuse_reversing_a_claimed_gift(entry: LedgerEntry) -> None:
    """A donation's income in a prepared Gift Aid claim is not reversed: the claim would send HMRC a gift
    the trust no longer holds. Finance withdraws the claim first (its other gifts go in a new one). The
    donation's row is locked as ``gift_aid_claim_prepare`` locks it, so a claim racing this reversal
    either sees it reversed or is seen here."""
    if (
        entry.source_type_id != ContentType.objects.get_for_model(Donation).pk
        or not entry.source_id.isdigit()
    ):
        return
    list(Donation.objects.select_for_update().filter(pk=int(entry.source_id)).values_list("pk"))
    held = (
        GiftAidClaimItem.objects.filter(
            donation_id=int(entry.source_id), released=False, claim__status=GiftAidClaim.Status.PREPARED
        )
        .values_list("claim_id", flat=True)
        .first()
    )
    if held is not None:
        raise ConflictError(
            f"Gift Aid claim {held} holds this donation: withdraw the claim first (prepare a new one for its "
            "other gifts), then reverse the income.",
            code="gift_aid_claimed",
        )


def _refuse_reversing_gift_aid_being_given_back(entry: LedgerEntry) -> None:
    """A Gift Aid claim's income for a fund is not reversed while a prepared claim gives back one of that
    claim's gifts for the fund ("Adjustment for Gift Aid overclaimed"): with the income reversed, HMRC has
    that Gift Aid back already, and the prepared claim would give it back a second time. Finance withdraws
    the prepared claim first. The rows are locked as ``gift_aid_claim_prepare`` locks them."""
    if (
        entry.category != "gift_aid"
        or entry.source_type_id != ContentType.objects.get_for_model(GiftAidClaim).pk
        or not entry.source_id.isdigit()
    ):
        return
    rows = GiftAidClaimItem.objects.filter(claim_id=int(entry.source_id), donation__fund_id=entry.fund_id)
    list(rows.select_for_update(of=("self",)).order_by("pk").values_list("pk"))
    held = (
        rows.filter(adjusted_in__status=GiftAidClaim.Status.PREPARED)
        .values_list("adjusted_in_id", flat=True)
        .first()
    )
    if held is not None:
        raise ConflictError(
            f"Gift Aid claim {held} gives back Gift Aid from this claim: withdraw it first (prepare a new "
            "one), then reverse the income.",
            code="gift_aid_claimed",
        )


@transaction.atomic
def fund_entry_reverse(
    *,
    entry: LedgerEntry,
    actor: AbstractBaseUser,
    reason: str,
    occurred_on: date | None = None,
    today: date | None = None,
) -> LedgerEntry:
    """Finance corrects a mistaken income or spend entry with a reversing entry (never an edit), dated
    ``occurred_on`` (default today: the day the correction is made, so a closed month stays as reported).

    A reversal cannot itself be reversed, and an entry is reversed at most once (the database's
    one-to-one ``reverses`` holds that too). A reversal may leave ``available`` below zero: it
    records what really happened, and further spend is then refused until money comes in.
    """
    if not scope_for(actor).is_finance:
        raise SupportError("Only finance can reverse ledger entries.", code="forbidden")
    reason = reason.strip()
    if not reason:
        raise SupportError("Give a reason for the reversal.", field="reason", code="required")
    occurred_on = occurred_day(occurred_on, today=today)
    _lock_fund(entry.fund_id)
    entry = LedgerEntry.objects.get(pk=entry.pk)
    if entry.kind == Kind.REVERSAL:
        raise ConflictError("A reversal cannot be reversed; record a new entry.", code="not_reversible")
    if entry.kind not in REVERSIBLE:
        raise ConflictError(
            "Commitments are not reversed; release the commitment instead.", code="not_reversible"
        )
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise ConflictError("This entry has already been reversed.", code="already_reversed")
    _refuse_reversing_a_claimed_gift(entry)
    _refuse_reversing_gift_aid_being_given_back(entry)
    reversal = LedgerEntry.objects.create(
        fund_id=entry.fund_id,
        kind=Kind.REVERSAL,
        amount_pence=entry.amount_pence,
        source_type=entry.source_type,
        source_id=entry.source_id,
        school=entry.school,
        category=entry.category,
        reverses=entry,
        note=reason,
        occurred_on=occurred_on,
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="fund.entry_reversed",
        subject=reversal,
        after={**_entry_after(reversal), "reverses": entry.pk},
        note=reason,
    )
    return reversal
