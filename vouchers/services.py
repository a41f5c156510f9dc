"""Voucher use cases. Every state change is a conditional update, so concurrent requests cannot both win."""

import datetime
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import date_format

from funds.models import LedgerEntry
from funds.services.ledger import (
    fund_commitment_release,
    fund_commitment_release_many,
    fund_spend_actual,
    fund_spend_commit,
    occurred_day,
)
from support.audit import audit_event, audit_record, audit_record_many, audit_together
from support.consents import family_consent_require
from support.contacts import barred_names, family_recipient, family_recipient_address, name_is_barred
from support.errors import ConflictError, SupportError
from support.hot_queries import hot_cursor, hot_query
from support.models import AuditEvent, Enrolment, Family, PartnerCharity, School
from support.money import pounds, pounds_sql
from support.permissions import has_perm
from support.scopes import require_school, scope_for
from vouchers import codes
from vouchers.models import (
    Delivery,
    Fulfilment,
    Redemption,
    ReferralReason,
    Voucher,
    VoucherSend,
    VoucherType,
)
from vouchers.notify import voucher_send_queue
from vouchers.selectors import voucher_limit_status, voucher_type_offered, vouchers_with_type_offered
from vouchers.transitions import VOUCHER_FLOW

if TYPE_CHECKING:
    from support.api.idempotency import Answer

State = Voucher.State


def _uk(day: datetime.date) -> str:
    return date_format(day, "j F Y")


def voucher_limit_overridable_by(user: AbstractBaseUser, schools: list[School]) -> bool:
    """Whether ``user`` may issue past a family's limit for one of ``schools`` (a lead there, or an admin)."""
    if not has_perm(user, "vouchers.override_limit"):
        return False
    scope = scope_for(user)
    return scope.is_admin or any(school.pk in scope.lead_school_ids for school in schools)


@transaction.atomic
def voucher_issue(
    *,
    family: Family,
    voucher_type: VoucherType,
    school: School,
    issued_by: AbstractBaseUser,
    referral_reason: str,
    referral_other: str = "",
    household_size: int | None = None,
    dietary_needs: str | None = None,
    fulfilment: str = Fulfilment.COLLECTION,
    note_for_charity: str = "",
    override_reason: str = "",
    delivery: str = Delivery.PRINT,
    site_url: str | None = None,
) -> Voucher:
    """Give ``family`` a voucher for ``voucher_type``, issued by ``school``.

    Refused without the family's consent to share with the type's partner, or past the limit for the
    type in its rolling window unless a pastoral lead at the school gives a reason to override
    (audited). Sending the family its own voucher needs no consent (public task). ``delivery`` is
    how the family gets it: printed (nothing is sent), or e-mailed or texted to the family's address
    on record once the issue commits; ``site_url`` starts the message's link.
    """
    require_school(issued_by, school)
    if not _enrolled(family.pk, school.pk):
        raise SupportError("This family has no pupil at the school issuing the voucher.", field="school")
    if not voucher_type_offered(voucher_type):
        raise SupportError(
            "This voucher type is no longer offered: the charity has stopped this service.",
            field="voucher_type",
            code="service_stopped",
        )
    if referral_reason not in ReferralReason.values:
        raise SupportError("Choose a reason for the referral.", field="referral_reason")
    if referral_reason == ReferralReason.OTHER and not referral_other.strip():
        raise SupportError("Say what the reason for the referral is.", field="referral_other")
    if fulfilment not in Fulfilment.values:
        raise SupportError("Choose collection or delivery.", field="fulfilment")
    if delivery not in Delivery.values:
        raise SupportError("Choose how the family gets the voucher.", field="delivery")
    for name, value, limit in (
        ("referral_other", referral_other, 200),
        ("dietary_needs", dietary_needs or "", 200),
        ("note_for_charity", note_for_charity, 300),
        ("override_reason", override_reason, 300),
    ):
        if len(value.strip()) > limit:
            raise SupportError(f"Keep this to {limit} characters or fewer.", field=name)

    # Lock the family so two staff issuing at once cannot both slip under the limit.
    locked = _family_locked(family.pk)
    if not locked:
        raise Family.DoesNotExist(f"Family {family.pk} does not exist.")
    family = locked[0]
    if family.merged_into_id:
        # A merge committed while we waited for the lock: the household's vouchers are on the kept record.
        raise ConflictError("This family was merged into another record: issue the voucher from that one.")
    # Issuing shares the family's details with the partner: that needs consent naming the partner.
    family_consent_require(family=family, partner=voucher_type.partner)
    # The voucher names, and goes to, a contact with parental responsibility and no restriction.
    recipient = family_recipient(family, channel=None if delivery == Delivery.PRINT else delivery)
    if recipient is None:
        if delivery != Delivery.PRINT and family_recipient(family) is not None:
            raise SupportError(_no_address(delivery), field="delivery")
        raise SupportError(
            "No contact of this family has parental responsibility without a restriction: record one "
            "before issuing a voucher.",
            field="contact",
            code="no_allowed_contact",
        )
    if delivery != Delivery.PRINT and not recipient.address(delivery):
        raise SupportError(_no_address(delivery), field="delivery")
    household_size = family.household_size if household_size is None else household_size
    if household_size < 1:
        raise SupportError("A household has at least one person.", field="household_size")

    status = voucher_limit_status(family=family, voucher_type=voucher_type)
    override_reason = override_reason.strip()
    if status.reached:
        if not override_reason:
            how = (
                "You can override the limit: give your reason in “Override the limit: reason” "
                "and issue again."
                if voucher_limit_overridable_by(issued_by, [school])
                else f"A pastoral lead at {school.name} can override the limit with a reason."
            )
            raise SupportError(
                f"This family has had {status.count} {voucher_type.name.lower()} voucher"
                f"{'s' if status.count != 1 else ''} in the last {status.window_days} days, the limit is "
                f"{status.limit}. The next is allowed from {_uk(status.next_allowed)}. {how}",
                field="override_reason",
                code="limit",
            )
        require_school(issued_by, school, lead=True)
    elif override_reason:
        override_reason = ""  # nothing to override

    voucher = Voucher(
        voucher_type=voucher_type,
        family=family,
        school=school,
        face_value_pence=voucher_type.face_value_pence,
        issued_by=issued_by,
        expires_on=timezone.localdate() + datetime.timedelta(days=voucher_type.validity_days),
        referral_reason=referral_reason,
        referral_other=referral_other.strip() if referral_reason == ReferralReason.OTHER else "",
        lead_carer_name=recipient.name,
        household_size=household_size,
        dietary_needs=(family.dietary_needs if dietary_needs is None else dietary_needs).strip(),
        fulfilment=fulfilment,
        delivery=delivery,
        note_for_charity=note_for_charity.strip(),
        limit_override_reason=override_reason,
    )
    voucher.code = codes.generate_code()
    try:
        # No savepoint to draw again (two round trips on every issue): a code collision, about 1 in
        # 10**18, fails this issue cleanly and the next attempt draws a new code.
        voucher.save(force_insert=True)
    except IntegrityError as exc:
        if not _is_code_collision(exc):
            raise
        message = "Could not make a unique voucher code; try again."
        raise ConflictError(message, code="code_collision") from exc

    if delivery != Delivery.PRINT:
        voucher_send_queue(
            voucher=voucher,
            channel=delivery,
            address=recipient.address(delivery),
            kind=VoucherSend.Kind.VOUCHER,
            requested_by=issued_by,
            now=voucher.issued_at,
            site_url=site_url,
        )
    with audit_together():  # the voucher's and the fund's audit rows in one statement, at the end
        audit_record(
            actor=issued_by,
            action="voucher.issued",
            subject=voucher,
            after={
                "type": voucher_type.pk,
                "family": family.pk,
                "school": school.pk,
                "face_value_pence": voucher.face_value_pence,
                "expires_on": voucher.expires_on,
            },
        )
        if override_reason:
            audit_record(
                actor=issued_by,
                action="voucher.limit_overridden",
                subject=voucher,
                before={"count": status.count, "limit": status.limit},
                note=override_reason,
            )
        if voucher_type.fund_id and voucher.face_value_pence:
            # The face value is committed against the fund that pays for this type: refused when the
            # fund cannot afford it (only finance can add money or override, and finance does not
            # issue). Last, so the fund's lock (every issue waits for it) is held the shortest time.
            fund_spend_commit(
                fund=voucher_type.fund,
                source=voucher,
                amount_pence=voucher.face_value_pence,
                category=f"voucher:{voucher_type.service}",
                school=school,
                actor=issued_by,
                new_source=True,
            )
    return voucher


def _is_code_collision(exc: IntegrityError) -> bool:
    """The voucher's code (or its public token, drawn at random too) already taken."""
    cause = exc.__cause__
    constraint = getattr(getattr(cause, "diag", None), "constraint_name", None)  # PostgreSQL names it
    return any(column in (constraint or str(cause or exc)) for column in ("code", "public_token"))


@hot_query
def _family_locked(pk: int):
    return Family.objects.select_for_update().filter(pk=pk)


@hot_query
def _enrolled(family_id: int, school_id: int):
    """A pupil of the family on the school's roll now: every voucher issued asks it (support.hot_queries)."""
    return Enrolment.objects.current().filter(pupil__family_id=family_id, school_id=school_id).order_by()[:1]


def _no_address(channel: str) -> str:
    how = "an e-mail address" if channel == Delivery.EMAIL else "a phone number"
    return (
        f"The family has no {how} on record for a contact who may be told: add it to the family's "
        "details, or choose another way."
    )


def voucher_refusal(voucher: Voucher) -> ConflictError:
    if voucher.state == State.REDEEMED:
        redemption = Redemption.objects.filter(voucher=voucher).first()
        when = f" on {_uk(timezone.localdate(redemption.redeemed_at))}" if redemption else ""
        return ConflictError(f"This voucher has already been redeemed{when}.", code="redeemed")
    if voucher.state == State.CANCELLED:
        return ConflictError("This voucher was cancelled by the school and cannot be used.", code="cancelled")
    if voucher.state == State.EXPIRED or voucher.expires_on < timezone.localdate():
        return ConflictError(f"This voucher expired on {_uk(voucher.expires_on)}.", code="expired")
    return ConflictError("This voucher cannot be used.", code="invalid")


@transaction.atomic
def voucher_cancel(*, voucher: Voucher, actor: AbstractBaseUser, reason: str) -> Voucher:
    if not reason.strip():
        raise SupportError("Give a reason for cancelling.", field="reason")
    require_school(actor, voucher.school)
    now = timezone.now()
    cancel = VOUCHER_FLOW["cancel"]
    claimed = Voucher.objects.filter(pk=voucher.pk, state__in=cancel.sources).update(
        state=State.CANCELLED,
        cancelled_at=now,
        cancelled_by=actor,
        cancel_reason=reason.strip(),
        updated_at=now,
    )
    voucher.refresh_from_db()
    if not claimed:
        raise voucher_refusal(voucher)
    audit_record(
        actor=actor,
        action="voucher.cancelled",
        subject=voucher,
        before={"state": State.ISSUED},
        after={"state": State.CANCELLED},
        note=reason.strip(),
    )
    fund_commitment_release(source=voucher, actor=actor, note="Voucher cancelled")
    _tell_family_cancelled(voucher=voucher, actor=actor, now=now)
    return voucher


def _tell_family_cancelled(*, voucher: Voucher, actor: AbstractBaseUser, now: datetime.datetime) -> None:
    """A message not yet sent is not sent; where the voucher went (or may have gone), word that it was
    cancelled follows by the same channel to the same address, once for each."""
    Send = VoucherSend
    Send.objects.filter(voucher=voucher, kind=Send.Kind.VOUCHER, status=Send.Status.QUEUED).update(
        status=Send.Status.SKIPPED, note="The voucher was cancelled before it was sent."
    )
    reached = (
        Send.objects.filter(
            voucher=voucher, kind=Send.Kind.VOUCHER, status__in=[Send.Status.SENT, Send.Status.SENDING]
        )
        .order_by("channel", "address")
        .values_list("channel", "address")
        .distinct()
    )
    for channel, address in reached:
        voucher_send_queue(
            voucher=voucher,
            channel=channel,
            address=address,
            kind=Send.Kind.CANCELLED,
            requested_by=actor,
            now=now,
        )


@transaction.atomic
def voucher_extend(
    *, voucher: Voucher, actor: AbstractBaseUser, expires_on: datetime.date, reason: str
) -> Voucher:
    """A pastoral lead moves an issued voucher's expiry later, with a reason."""
    if not reason.strip():
        raise SupportError("Give a reason for extending.", field="reason")
    require_school(actor, voucher.school, lead=True)
    today = timezone.localdate()
    if expires_on <= max(voucher.expires_on, today):
        raise SupportError(f"Choose a date after {_uk(max(voucher.expires_on, today))}.", field="expires_on")
    if expires_on > today + datetime.timedelta(days=365):
        raise SupportError("A voucher can be extended by at most a year from today.", field="expires_on")
    before = voucher.expires_on
    # Only an issued voucher that has not yet expired can be extended: expiry is final.
    claimed = Voucher.objects.filter(pk=voucher.pk, state=State.ISSUED, expires_on__gte=today).update(
        expires_on=expires_on, updated_at=timezone.now()
    )
    voucher.refresh_from_db()
    if not claimed:
        raise voucher_refusal(voucher)
    audit_record(
        actor=actor,
        action="voucher.extended",
        subject=voucher,
        before={"expires_on": before},
        after={"expires_on": expires_on},
        note=reason.strip(),
    )
    return voucher


@dataclass(frozen=True)
class CodeLookup:
    voucher: Voucher | None
    error: SupportError | None


# One answer for a code that matches no voucher and for another charity's voucher, so the counter
# cannot learn which codes exist elsewhere; said so that a volunteer knows what to do next.
UNKNOWN_CODE_MESSAGE = (
    "No voucher for your charity has this code. Check the code with the family (or scan the QR code); "
    "if it is right, the voucher may be for another charity: the name at the top of the voucher says which."
)


def voucher_find_for_partner(*, code: str, partner_ids: frozenset[int]) -> Voucher:
    """The voucher for a typed or scanned code, if it is one of these partners'. Raises SupportError.

    A mistyped code is refused by its check character before any lookup (code ``mistyped``). A code
    that matches nothing and another charity's voucher get the same answer (code ``unknown``).
    """
    try:
        normalised = codes.validate(code)
    except codes.CodeError as exc:
        raise SupportError(exc.args[0], field="code", code="mistyped") from None
    found = _voucher_for_code(normalised, tuple(sorted(partner_ids)))
    if not found:
        raise SupportError(UNKNOWN_CODE_MESSAGE, field="code", code="unknown")
    return found[0]


@hot_query
def _voucher_for_code(code: str, partner_ids: tuple[int, ...]):
    """The counter's lookup, compiled once per connection and number of partners (support.hot_queries)."""
    return (
        vouchers_with_type_offered(Voucher.objects.select_related("voucher_type__partner", "school"))
        .filter(code=code, voucher_type__partner_id__in=partner_ids)
        # The family's language only (the counter greets them in it), in the same query.
        .annotate(family_language=F("family__language"), family_language_noted=F("family__language_noted"))
        .order_by()[:1]
    )


def voucher_service_notice(voucher: Voucher) -> str | None:
    """What the counter is told about a valid voucher whose service is no longer offered, else None."""
    if not voucher.is_valid or voucher_type_offered(voucher.voucher_type, voucher=voucher):
        return None
    return (
        "The charity no longer offers this service for new vouchers, but this one was given before it "
        f"stopped: honour it (it is valid until {_uk(voucher.expires_on)})."
    )


def voucher_redeem(
    *,
    voucher: Voucher,
    partner: PartnerCharity,
    redeemed_by: AbstractBaseUser,
    items_given: str = "",
    value_pence: int | None = None,
    answer: "Answer | None" = None,
) -> Redemption:
    """Redeem ``voucher`` at ``partner``: exactly once, only while issued and not past its expiry date.

    Claims the voucher, records the redemption, makes the fund's commitment actual spend (a release and
    a spend per fund) and audits both, all or nothing. On PostgreSQL that is one statement
    (``_redeem_in_one_statement``); elsewhere the same rows are written step by step.

    ``answer`` (an API request's, support.api.idempotency.Answer): built from the redemption and, under an
    Idempotency-Key, written to the key's record with the redemption, all or nothing.
    """
    if voucher.voucher_type.partner_id != partner.pk:
        raise SupportError(
            "This voucher is for another charity, so it cannot be used here.", code="other_partner"
        )
    if value_pence is not None and value_pence < 0:
        raise SupportError("The value given cannot be negative.", field="value_pence")
    if value_pence is not None and value_pence > voucher.face_value_pence:
        raise SupportError(
            f"The value given can be at most the voucher's face value, {pounds(voucher.face_value_pence)}.",
            field="value_pence",
            code="over_face_value",
        )
    today, now = timezone.localdate(), timezone.now()
    items_given = items_given.strip()
    redeem = {
        "voucher": voucher,
        "partner": partner,
        "redeemed_by": redeemed_by,
        "items_given": items_given,
        "value_pence": value_pence,
        "today": today,
        "now": now,
    }
    if _redeem_in_one_statement_here():
        # The redemption as it is about to be written, so that the answer can be written with it.
        voucher.state, voucher.updated_at = State.REDEEMED, now
        redemption = Redemption(
            voucher=voucher,
            partner=partner,
            redeemed_by=redeemed_by,
            redeemed_at=now,
            items_given=items_given,
            value_pence=value_pence,
        )
        if answer is not None:
            answer.render(redemption)
        redemption_id = _redeem_in_one_statement(**redeem, answer=answer)
        if redemption_id is None:
            voucher.refresh_from_db()
            raise voucher_refusal(voucher)
        redemption.pk = redemption_id
        redemption._state.adding, redemption._state.db = False, connection.alias
        if answer is not None:
            answer.kept = answer.record_id is not None
        return redemption
    with transaction.atomic():
        redemption = _redeem_step_by_step(**redeem)
        if answer is not None:
            answer.render(redemption)
            answer.keep()
        return redemption


def _redeem_in_one_statement_here() -> bool:
    # SQLite has no data-modifying CTEs: there the step-by-step path writes the same rows.
    return connection.vendor == "postgresql"


def _redeem_step_by_step(
    *,
    voucher: Voucher,
    partner: PartnerCharity,
    redeemed_by: AbstractBaseUser,
    items_given: str,
    value_pence: int | None,
    today: datetime.date,
    now: datetime.datetime,
) -> Redemption:
    redeem = VOUCHER_FLOW["redeem"]
    claimed = Voucher.objects.filter(pk=voucher.pk, state__in=redeem.sources, expires_on__gte=today).update(
        state=State.REDEEMED, updated_at=now
    )
    if not claimed:
        voucher.refresh_from_db()
        raise voucher_refusal(voucher)
    voucher.state, voucher.updated_at = State.REDEEMED, now
    redemption = Redemption.objects.create(
        voucher=voucher,
        partner=partner,
        redeemed_by=redeemed_by,
        items_given=items_given,
        value_pence=value_pence,
    )
    with audit_together():  # the redemption's and the fund's audit rows in one statement
        audit_record(
            actor=redeemed_by,
            action="voucher.redeemed",
            subject=voucher,
            before={"state": State.ISSUED},
            after={"state": State.REDEEMED, "partner": partner.pk, "value_pence": value_pence},
            note=items_given,
        )
        # The claim above locked the voucher's row: the ledger needs no second lock.
        fund_spend_actual(source=voucher, actor=redeemed_by, today=today, source_locked=True)
    return redemption


# The redemption in one round trip, with no BEGIN and COMMIT around it: a statement is atomic on its own.
# It writes what _redeem_step_by_step writes (tests/vouchers/test_redeem_statement.py compares the rows):
# the claim (a conditional update: a concurrent redeem waits on the row lock, re-checks the state and
# claims nothing), the redemption, per fund the commitment's release and the spend (as fund_spend_actual
# does), and the two audit rows; under an Idempotency-Key, the request's answer too (``kept_answer``,
# support.api.idempotency.Answer). Every write reads from ``claimed``, so a refused claim writes nothing.
# The ledger is read in the statement's snapshot, taken before any wait on the row lock: enough, because a
# voucher's commitment entries change only when it is issued or when it leaves "issued" (cancelled,
# expired, redeemed), and then the claim finds it no longer issued.
# It is prepared on the server (support.hot_queries.hot_cursor): its parameters are typed there, so those in
# a select list, whose type PostgreSQL cannot infer from a column, are cast.
_REDEEM_SQL = """
WITH claimed AS (
    UPDATE {voucher} SET state = %(redeemed)s, updated_at = %(now)s
    WHERE id = %(voucher_id)s AND state = ANY(%(sources)s) AND expires_on >= %(today)s
    RETURNING id
), redemption AS (
    INSERT INTO {redemption} (voucher_id, partner_id, redeemed_by_id, redeemed_at, items_given, value_pence)
    SELECT id, %(partner_id)s, %(actor_id)s, %(now)s, %(items_given)s::text, %(value_pence)s::integer
    FROM claimed
    RETURNING id
), open_commitment AS (
    SELECT fund_id,
           SUM(CASE WHEN kind = %(commitment)s THEN amount_pence ELSE -amount_pence END) AS open_pence,
           MAX(id) FILTER (WHERE kind = %(commitment)s) AS latest_id
    FROM {ledger}
    WHERE source_type_id = %(voucher_type_id)s AND source_id = %(source_id)s
      AND kind IN (%(commitment)s, %(release)s) AND EXISTS (SELECT 1 FROM claimed)
    GROUP BY fund_id
), entry AS (
    INSERT INTO {ledger} (fund_id, kind, amount_pence, source_type_id, source_id, school_id, category,
                          reverses_id, note, override_reason, created_by_id, occurred_on, created_at)
    SELECT o.fund_id, k.kind, o.open_pence, c.source_type_id, c.source_id, c.school_id, c.category,
           NULL, k.note, '', %(actor_id)s, %(occurred_on)s, %(now)s
    FROM open_commitment o
    JOIN {ledger} c ON c.id = o.latest_id
    CROSS JOIN (VALUES (1, %(release)s::text, %(release_note)s::text), (2, %(spend)s, ''))
        AS k (n, kind, note)
    WHERE o.open_pence > 0
    ORDER BY o.fund_id, k.n
    RETURNING id, fund_id, kind, amount_pence, source_type_id, source_id, school_id, category, occurred_on
), audit AS (
    INSERT INTO {audit} (at, actor_id, actor_label, action, subject_type_id, subject_id, subject_repr,
                         before, after, note)
    SELECT %(now)s, %(actor_id)s, %(actor_label)s::text, a.action, a.subject_type_id, a.subject_id,
           a.subject_repr, a.before, a.after, a.note
    FROM (
        SELECT 0 AS n, 'voucher.redeemed' AS action, %(voucher_type_id)s::integer AS subject_type_id,
               %(source_id)s::text AS subject_id, %(voucher_repr)s::text AS subject_repr,
               %(before)s::jsonb AS before, %(after)s::jsonb AS after, %(note)s::text AS note
        FROM claimed
        UNION ALL
        SELECT e.id, 'fund.spend_actual', %(entry_type_id)s::integer, e.id::text,
               '#' || e.id || ' ' || %(spend_label)s::text || ' ' || {spend_pounds}
               || ' (' || e.fund_id || ')',
               '{{}}'::jsonb,
               jsonb_build_object(
                   'fund', e.fund_id, 'kind', e.kind, 'amount_pence', e.amount_pence,
                   'source_type', e.source_type_id, 'source_id', e.source_id, 'category', e.category,
                   'school', e.school_id, 'occurred_on', e.occurred_on
               ),
               ''
        FROM entry e WHERE e.kind = %(spend)s
    ) a
    ORDER BY a.n
){answer}
SELECT id FROM redemption
"""


def _redeem_in_one_statement(
    *,
    voucher: Voucher,
    partner: PartnerCharity,
    redeemed_by: AbstractBaseUser,
    items_given: str,
    value_pence: int | None,
    today: datetime.date,
    now: datetime.datetime,
    answer: "Answer | None",
) -> int | None:
    """The redemption's id, or None when the voucher was not claimable (nothing was written)."""
    keep = answer is not None and answer.record_id is not None
    sql = _REDEEM_SQL.format(
        voucher=Voucher._meta.db_table,
        redemption=Redemption._meta.db_table,
        ledger=LedgerEntry._meta.db_table,
        audit=AuditEvent._meta.db_table,
        spend_pounds=pounds_sql("e.amount_pence"),
        answer=", " + answer.cte(after="claimed") if keep else "",
    )
    voucher_event = audit_event(
        actor=redeemed_by,
        action="voucher.redeemed",
        subject=voucher,
        before={"state": State.ISSUED},
        after={"state": State.REDEEMED, "partner": partner.pk, "value_pence": value_pence},
        note=items_given,
    )
    params = {
        "redeemed": State.REDEEMED,
        "sources": list(VOUCHER_FLOW["redeem"].sources),
        "voucher_id": voucher.pk,
        "today": today,
        "now": now,
        "partner_id": partner.pk,
        "actor_id": voucher_event.actor_id,
        "actor_label": voucher_event.actor_label,
        "items_given": items_given,
        "value_pence": value_pence,
        "voucher_type_id": voucher_event.subject_type_id,
        "source_id": voucher_event.subject_id,
        "voucher_repr": voucher_event.subject_repr,
        "before": json.dumps(voucher_event.before),
        "after": json.dumps(voucher_event.after),
        "note": voucher_event.note,
        "commitment": LedgerEntry.Kind.COMMITMENT,
        "release": LedgerEntry.Kind.COMMITMENT_RELEASE,
        "release_note": "made actual",
        "spend": LedgerEntry.Kind.SPEND,
        "spend_label": str(LedgerEntry.Kind.SPEND.label),
        "occurred_on": occurred_day(None, today=today),
        "entry_type_id": ContentType.objects.get_for_model(LedgerEntry).pk,
        **(answer.params() if keep else {}),
    }
    with hot_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


def voucher_expire_due(*, today: datetime.date | None = None) -> int:
    """Mark issued vouchers past their expiry date as expired. Idempotent; returns how many changed."""
    today = today or timezone.localdate()
    expire = VOUCHER_FLOW["expire"]
    due = list(
        Voucher.objects.filter(state__in=expire.sources, expires_on__lt=today).values_list("pk", flat=True)
    )
    expired = 0
    for start in range(0, len(due), 500):
        chunk = due[start : start + 500]
        with transaction.atomic():
            # Re-check the state in the update: a voucher redeemed or cancelled meanwhile stays so.
            now_expired = list(
                Voucher.objects.select_for_update()
                .filter(pk__in=chunk, state__in=expire.sources, expires_on__lt=today)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            Voucher.objects.filter(pk__in=now_expired).update(state=State.EXPIRED, updated_at=timezone.now())
            vouchers = list(Voucher.objects.filter(pk__in=now_expired))
            fund_commitment_release_many(sources=vouchers, actor=None, note="Voucher expired", today=today)
            audit_record_many(
                [
                    audit_event(
                        actor=None,
                        action="voucher.expired",
                        subject=v,
                        before={"state": State.ISSUED},
                        after={"state": State.EXPIRED},
                    )
                    for v in vouchers
                ]
            )
            expired += len(now_expired)
    return expired


@transaction.atomic
def voucher_send_request(
    *,
    voucher: Voucher,
    actor: AbstractBaseUser,
    channel: str,
    key: str | None = None,
    site_url: str | None = None,
    now: datetime.datetime | None = None,
) -> VoucherSend:
    """Send the voucher to the family again, by e-mail or text message, to the address on record now.

    A deliberate act of staff, sent after commit and audited. ``key`` (the form's) makes asking twice
    with the same key one send: the first is returned.
    """
    require_school(actor, voucher.school)
    if key:
        earlier = VoucherSend.objects.filter(key=key).first()
        if earlier is not None:
            if earlier.voucher_id != voucher.pk:
                raise SupportError("This form was for another voucher. Try again.", field="channel")
            return earlier
    if not voucher.is_valid:
        raise voucher_refusal(voucher)
    if channel not in (Delivery.EMAIL, Delivery.SMS):
        raise SupportError("Choose e-mail or text message.", field="channel")
    address = family_recipient_address(voucher.family, channel)
    if not address:
        raise SupportError(_no_address(channel), field="channel")
    return voucher_send_queue(
        voucher=voucher,
        channel=channel,
        address=address,
        kind=VoucherSend.Kind.VOUCHER,
        requested_by=actor,
        now=now or timezone.now(),
        site_url=site_url,
        key=key,
    )


def voucher_record_print(*, vouchers: list[Voucher], actor: AbstractBaseUser | None) -> None:
    """Refuse to print a voucher that is not valid; audit each print."""
    # A voucher that names a contact restricted since it was issued is not printed for them.
    names = barred_names(sorted({v.family_id for v in vouchers}))
    barred = [v for v in vouchers if name_is_barred(v.family_id, v.lead_carer_name, names)]
    if barred:
        raise ConflictError(
            f"Voucher {barred[0].display_code} names a contact who must not be contacted: cancel it and "
            "issue a new one.",
            code="not_printable",
        )
    invalid = [v for v in vouchers if not v.is_valid]
    if invalid:
        first = invalid[0]
        state = "past its expiry date" if first.state == State.ISSUED else first.get_state_display().lower()
        raise ConflictError(
            f"Voucher {first.display_code} is {state}: only valid vouchers can be printed.",
            code="not_printable",
        )
    audit_record_many([audit_event(actor=actor, action="voucher.printed", subject=v) for v in vouchers])
