"""Recurring pledges to a fund (a trustee's £10,000 a year), finance's reminders when one is overdue,
and the donation and pledge lists finance reads.

A donation itself is recorded by ``funds.services.ledger.fund_donation_record``; one recorded against a pledge
moves the pledge's ``next_due`` on. A pledge whose ``next_due`` is more than ``REMINDER_GRACE_DAYS``
in the past has not been paid: every active finance user is e-mailed once for that due date
(``Pledge.last_reminded_for`` remembers it), by the daily task ``funds.remind_due_pledges``.
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import models, transaction
from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from funds.filters import DonationFilter
from funds.models import Donation, Fund, Pledge
from funds.selectors import donation_is_reversed, donations_visible_to, pledges_visible_to
from funds.selectors.gift_aid import with_gift_aid_state
from funds.services.ledger import (
    SPEND_CATEGORIES,
    category_label,
    financial_year_for,
    next_due_after,
)
from support.audit import audit_record
from support.bounds import DATE_MAX, DATE_MIN
from support.errors import ConflictError, SupportError
from support.jobs import enqueue_on_commit
from support.models import Membership, Role
from support.money import pounds
from support.scopes import scope_for

logger = logging.getLogger(__name__)

User = AbstractBaseUser | AnonymousUser

# Money promised for 1 September may arrive a few days late without anyone needing to chase it.
REMINDER_GRACE_DAYS = 7
# How far ahead a payment counts as "due soon" on the pledges page.
DUE_SOON_DAYS = {Pledge.Frequency.ANNUAL: 30, Pledge.Frequency.MONTHLY: 7}


# --- Services ------------------------------------------------------------------------------------


def _require_finance(actor: AbstractBaseUser, doing: str) -> None:
    # The same test as fund_donation_record: finance, or a trust admin (who holds every role).
    if not scope_for(actor).has_role(Role.FINANCE):
        raise SupportError(f"Only finance can {doing}.", code="forbidden")


@transaction.atomic
def pledge_create(
    *,
    fund: Fund,
    donor: str,
    amount_pence: int,
    frequency: str,
    next_due: datetime.date,
    gift_aid: bool,
    restricted_purpose: str = "",
    actor: AbstractBaseUser,
) -> Pledge:
    """Finance (or a trust admin) records a promise of regular giving to ``fund``.

    Checked like a donation: a positive whole number of pence, a donor, a purpose that is empty or one
    of ``SPEND_CATEGORIES``, an open fund. ``next_due`` is when the first (or next) payment is expected.
    """
    _require_finance(actor, "record pledges")
    if isinstance(amount_pence, bool) or not isinstance(amount_pence, int) or amount_pence <= 0:
        raise SupportError("A pledge must be a positive amount.", field="amount_pence", code="invalid")
    donor = donor.strip()
    if not donor:
        raise SupportError("Say who has pledged the money.", field="donor", code="required")
    if frequency not in Pledge.Frequency.values:
        raise SupportError("Choose how often the money comes.", field="frequency")
    if not isinstance(next_due, datetime.date):
        raise SupportError("Enter when the next payment is due.", field="next_due", code="required")
    if not DATE_MIN <= next_due <= DATE_MAX:  # a donation moves it on a period: year 10000 overflows
        raise SupportError(
            f"Enter a due date between {DATE_MIN.year} and {DATE_MAX.year}.", field="next_due", code="invalid"
        )
    restricted_purpose = restricted_purpose.strip()
    if restricted_purpose and restricted_purpose not in SPEND_CATEGORIES:
        raise SupportError("Choose what the pledge may pay for.", field="restricted_purpose")
    fund = Fund.objects.select_for_update().get(pk=fund.pk)
    if not fund.is_active:
        raise ConflictError(f"{fund.name} is closed.", code="fund_inactive", field="fund")
    pledge = Pledge.objects.create(
        fund=fund,
        donor=donor,
        amount_pence=amount_pence,
        frequency=frequency,
        next_due=next_due,
        gift_aid=gift_aid,
        restricted_purpose=restricted_purpose,
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="pledge.created",
        subject=pledge,
        after={
            "fund": fund.pk,
            "donor": donor,
            "amount_pence": amount_pence,
            "frequency": frequency,
            "next_due": next_due,
            "gift_aid": gift_aid,
            "restricted_purpose": restricted_purpose,
        },
    )
    return pledge


@transaction.atomic
def pledge_stop(*, pledge: Pledge, actor: AbstractBaseUser, reason: str) -> Pledge:
    """The donor has stopped giving: no more reminders, and no donation can be recorded against it."""
    _require_finance(actor, "stop pledges")
    reason = reason.strip()
    if not reason:
        raise SupportError("Give a reason for stopping the pledge.", field="reason", code="required")
    pledge = Pledge.objects.select_for_update().get(pk=pledge.pk)
    if not pledge.is_active:
        raise ConflictError("This pledge has already been stopped.", code="pledge_inactive")
    pledge.is_active = False
    pledge.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        action="pledge.stopped",
        subject=pledge,
        before={"is_active": True},
        after={"is_active": False},
        note=reason,
    )
    return pledge


def reminder_recipients() -> QuerySet:
    """Active users with an active finance membership and an e-mail address (not trust admins)."""
    finance = Membership.objects.filter(role=Role.FINANCE, is_active=True).values("user_id")
    return get_user_model().objects.filter(pk__in=finance, is_active=True).exclude(email="").order_by("pk")


def pledges_due_reminders(*, today: datetime.date | None = None) -> int:
    """Remind finance about each active pledge more than the grace period overdue, once per due date.

    For each such pledge not yet reminded about its current ``next_due``, claims it with a conditional
    update (so two runs at once cannot both send), audits it and queues one e-mail per finance user,
    sent only after the claim commits. Running it again sends nothing more. Returns how many pledges
    finance was reminded about.
    """
    today = today or timezone.localdate()
    cutoff = today - datetime.timedelta(days=REMINDER_GRACE_DAYS)
    recipient_ids = list(reminder_recipients().values_list("pk", flat=True))
    if not recipient_ids:
        # Leave the pledges unmarked, so that finance hears about them once someone can.
        logger.warning("Pledges are overdue but no active finance user has an e-mail address.")
        return 0
    due = (
        Pledge.objects.filter(is_active=True, fund__is_active=True, next_due__lt=cutoff)
        .exclude(last_reminded_for=models.F("next_due"))
        .order_by("pk")
        .values_list("pk", "next_due")
    )
    reminded = 0
    for pledge_id, next_due in list(due):
        with transaction.atomic():
            claimed = (
                Pledge.objects.filter(pk=pledge_id, is_active=True, next_due=next_due)
                .exclude(last_reminded_for=next_due)
                .update(last_reminded_for=next_due)
            )
            if not claimed:
                continue  # received, stopped or reminded since we looked
            pledge = Pledge.objects.get(pk=pledge_id)
            audit_record(
                actor=None,
                action="pledge.reminded",
                subject=pledge,
                after={"due": next_due, "days_overdue": (today - next_due).days, "recipients": recipient_ids},
            )
            enqueue_on_commit(
                "funds.send_pledge_reminder",
                pledge_id,
                next_due.isoformat(),
                recipient_ids,
                today.isoformat(),
            )
            reminded += 1
    return reminded


def pledge_reminder_send(
    *, pledge_id: int, due: datetime.date, user_ids: list[int], today: datetime.date | None = None
) -> int:
    """E-mail ``user_ids`` that the pledge's payment due on ``due`` has not arrived. Returns e-mails sent.

    ``today`` is the day the reminder run looked (the e-mail says how overdue the payment was then).
    Sends nothing when, by now, the payment has been recorded or the pledge stopped.
    """
    pledge = Pledge.objects.select_related("fund").filter(pk=pledge_id).first()
    if pledge is None or not pledge.is_active or pledge.next_due != due:
        return 0
    recipients = list(reminder_recipients().filter(pk__in=user_ids))
    if not recipients:
        return 0
    today = today or timezone.localdate()
    record_url = f"{settings.SITE_URL}{reverse('finance_donation_new')}?pledge={pledge.pk}"
    context = {
        "pledge": pledge,
        "due": due,
        "days_overdue": (today - due).days,
        "amount": pounds(pledge.amount_pence),
        "purpose": category_label(pledge.restricted_purpose) if pledge.restricted_purpose else "",
        "record_url": record_url,
        "pledges_url": f"{settings.SITE_URL}{reverse('finance_pledges')}",
        "trust_name": settings.TRUST_NAME,
    }
    subject = f"Pledge not received: {pledge.donor}, {context['amount']} due {date_format(due, 'j F Y')}"
    messages = []
    for user in recipients:
        body = render_to_string("emails/pledge_reminder.txt", {**context, "recipient": user})
        html = render_to_string("emails/pledge_reminder.html", {**context, "recipient": user})
        message = EmailMultiAlternatives(subject=subject, body=body, to=[user.email])
        message.attach_alternative(html, "text/html")
        messages.append(message)
    return get_connection().send_messages(messages) or 0


# --- Selectors -----------------------------------------------------------------------------------


def _sees_funds(user: User) -> bool:
    return scope_for(user).has_role(Role.FINANCE)


def donation_list(*, user: User, fund: Fund, year: int) -> QuerySet[Donation]:
    """The donations to ``fund`` received in the financial year starting September ``year``, newest
    first, each with ``is_reversed`` and its Gift Aid state (``funds.selectors.gift_aid.gift_aid_state``)."""
    filters = DonationFilter(
        {"fund": fund.pk, "year": year},
        queryset=with_gift_aid_state(
            donations_visible_to(user)
            .select_related("pledge", "recorded_by")
            .annotate(is_reversed=donation_is_reversed())
        ).order_by("-received_on", "-pk"),
    )
    if not filters.is_valid():
        raise ValueError(f"Not a fund and financial year: {filters.errors.as_text()}")
    return filters.qs


@dataclass(frozen=True)
class DonationTotals:
    count: int
    total_pence: int
    gift_aided_pence: int
    reversed_count: int

    @property
    def gift_aid_claimable_pence(self) -> int:
        """What Gift Aid adds at the basic rate: 25p for every £1 given (rounded down to the penny)."""
        return self.gift_aided_pence // 4


def donation_totals(donations: QuerySet[Donation]) -> DonationTotals:
    """Totals of a ``donation_list``, leaving out reversed donations; one query."""
    kept = Q(is_reversed=False)
    zero = models.Value(0, output_field=models.BigIntegerField())
    totals = donations.aggregate(
        count=Count("pk", filter=kept),
        total=Coalesce(Sum("amount_pence", filter=kept), zero),
        gift_aided=Coalesce(Sum("amount_pence", filter=kept & Q(gift_aid=True)), zero),
        reversed=Count("pk", filter=Q(is_reversed=True)),
    )
    return DonationTotals(
        count=totals["count"],
        total_pence=int(totals["total"]),
        gift_aided_pence=int(totals["gift_aided"]),
        reversed_count=totals["reversed"],
    )


def donation_years(*, user: User, fund: Fund, today: datetime.date | None = None) -> list[int]:
    """Financial years (their start years, newest first) from the fund's first donation to its last, and
    always this one."""
    current = financial_year_for(today or timezone.localdate())
    span = (
        donations_visible_to(user)
        .filter(fund=fund)
        .aggregate(first=Min("received_on"), last=Max("received_on"))
    )
    earliest = min(current, financial_year_for(span["first"])) if span["first"] else current
    latest = max(current, financial_year_for(span["last"])) if span["last"] else current
    return list(range(latest, earliest - 1, -1))


def pledge_list(*, user: User) -> QuerySet[Pledge]:
    """Pledges, active ones first by next due date, each with ``last_received`` (its latest donation)."""
    return (
        pledges_visible_to(user)
        .select_related("fund")
        .annotate(last_received=Max("donations__received_on"))
        .order_by("-is_active", "next_due", "donor", "pk")
    )


@dataclass(frozen=True)
class PledgeStatus:
    key: str  # "stopped", "overdue", "due_soon", "received", "upcoming"
    label: str
    tag: str  # a govuk-tag modifier


def pledge_status(pledge: Pledge, *, today: datetime.date) -> PledgeStatus:
    """Where a pledge stands today. ``pledge.last_received`` comes from ``pledge_list``."""
    if not pledge.is_active:
        return PledgeStatus("stopped", "Stopped", "grey")
    if pledge.next_due < today:
        return PledgeStatus("overdue", "Overdue", "red")
    if (pledge.next_due - today).days <= DUE_SOON_DAYS.get(pledge.frequency, 30):
        return PledgeStatus("due_soon", "Due soon", "yellow")
    if getattr(pledge, "last_received", None):
        return PledgeStatus("received", "Received this period", "green")
    return PledgeStatus("upcoming", "Not due yet", "blue")


def pledge_period_after(pledge: Pledge) -> datetime.date:
    """The due date after the next one: where ``next_due`` moves once this payment is recorded."""
    return next_due_after(pledge.next_due, pledge.frequency)
