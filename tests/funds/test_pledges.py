"""Pledges: recording and stopping them, reminding finance when one is overdue, the donation and pledge
selectors, and the demo trust's pledges."""

import datetime

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction

from funds.demo import ONE_OFF_DONATIONS, TRUSTEE_PLEDGES, fund_demo_seed
from funds.models import Donation, Fund, LedgerEntry, Pledge
from funds.selectors import pledges_visible_to
from funds.services.ledger import fund_donation_record, fund_entry_reverse, standby_fund
from funds.services.pledges import (
    REMINDER_GRACE_DAYS,
    donation_list,
    donation_totals,
    donation_years,
    pledge_create,
    pledge_list,
    pledge_status,
    pledge_stop,
    pledges_due_reminders,
)
from support.errors import ConflictError, SupportError
from support.models import AuditEvent, Membership, Role
from support.scopes import forget_scope
from tests.factories import make_user

TODAY = datetime.date(2026, 11, 23)
SEPT_1 = datetime.date(2026, 9, 1)


@pytest.fixture
def fund(db):
    return standby_fund()


def _pledge(fund, actor, **extra) -> Pledge:
    values = {
        "donor": "Trustee: Mrs A. Example",
        "amount_pence": 10_000_00,
        "frequency": Pledge.Frequency.ANNUAL,
        "next_due": SEPT_1,
        "gift_aid": True,
        "restricted_purpose": "",
    }
    values.update(extra)
    return pledge_create(fund=fund, actor=actor, **values)


def _donate(fund, actor, amount_pence=100_00, **extra) -> Donation:
    values = {"donor": "Riverton Rotary", "received_on": TODAY, "gift_aid": False}
    values.update(extra)
    return fund_donation_record(fund=fund, amount_pence=amount_pence, actor=actor, **values)


# --- pledge_create -------------------------------------------------------------------------------


def test_it_records_a_pledge_and_audits_it(fund, finance):
    pledge = _pledge(fund, finance, restricted_purpose="coat")
    assert (pledge.donor, pledge.amount_pence, pledge.next_due, pledge.is_active) == (
        "Trustee: Mrs A. Example",
        10_000_00,
        SEPT_1,
        True,
    )
    assert pledge.created_by == finance
    event = AuditEvent.objects.get(action="pledge.created")
    assert event.subject_id == str(pledge.pk)
    assert event.after["amount_pence"] == 10_000_00
    assert event.after["next_due"] == "2026-09-01"
    assert event.after["restricted_purpose"] == "coat"


def test_a_trust_admin_may_record_a_pledge_as_they_may_a_donation(fund, admin):
    # Both services ask scope.has_role("finance"), which admins hold, as has_perm gives admins every
    # permission: the pages and the services agree.
    assert _pledge(fund, admin).created_by == admin
    assert _donate(fund, admin).recorded_by == admin


@pytest.mark.parametrize("persona", ["pastoral_a", "lead_a", "charity_staff", "no_role"])
def test_only_finance_records_pledges(request, fund, persona):
    with pytest.raises(SupportError) as caught:
        _pledge(fund, request.getfixturevalue(persona))
    assert caught.value.code == "forbidden"
    assert not Pledge.objects.exists()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"amount_pence": 0}, "amount_pence"),
        ({"amount_pence": -500}, "amount_pence"),
        ({"amount_pence": True}, "amount_pence"),
        ({"amount_pence": 10.5}, "amount_pence"),
        ({"donor": "   "}, "donor"),
        ({"frequency": "weekly"}, "frequency"),
        ({"next_due": None}, "next_due"),
        ({"restricted_purpose": "holidays"}, "restricted_purpose"),
        ({"restricted_purpose": "donation"}, "restricted_purpose"),
    ],
)
def test_it_refuses_a_bad_pledge_and_saves_nothing(fund, finance, extra, field):
    with pytest.raises(SupportError) as caught:
        _pledge(fund, finance, **extra)
    assert caught.value.field == field
    assert not Pledge.objects.exists()
    assert not AuditEvent.objects.filter(action="pledge.created").exists()


def test_it_refuses_a_pledge_to_a_closed_fund(finance):
    closed = Fund.objects.create(name="Old appeal", is_active=False)
    with pytest.raises(ConflictError):
        _pledge(closed, finance)


# --- pledge_stop ---------------------------------------------------------------------------------


def test_it_stops_a_pledge_with_a_reason_and_audits_it(fund, finance):
    pledge = _pledge(fund, finance)
    pledge_stop(pledge=pledge, actor=finance, reason="  Stood down as a trustee ")
    pledge.refresh_from_db()
    assert not pledge.is_active
    event = AuditEvent.objects.get(action="pledge.stopped")
    assert event.note == "Stood down as a trustee"
    assert (event.before, event.after) == ({"is_active": True}, {"is_active": False})
    with pytest.raises(ConflictError):
        _donate(fund, finance, pledge=pledge)


def test_it_needs_a_reason_and_stops_a_pledge_once(fund, finance):
    pledge = _pledge(fund, finance)
    with pytest.raises(SupportError) as caught:
        pledge_stop(pledge=pledge, actor=finance, reason=" ")
    assert caught.value.field == "reason"
    pledge_stop(pledge=pledge, actor=finance, reason="Stopped")
    with pytest.raises(ConflictError):
        pledge_stop(pledge=pledge, actor=finance, reason="Again")
    assert AuditEvent.objects.filter(action="pledge.stopped").count() == 1


def test_only_finance_stops_pledges(fund, finance, lead_a):
    pledge = _pledge(fund, finance)
    with pytest.raises(SupportError) as caught:
        pledge_stop(pledge=pledge, actor=lead_a, reason="Not mine to stop")
    assert caught.value.code == "forbidden"
    pledge.refresh_from_db()
    assert pledge.is_active


# --- Reminders -----------------------------------------------------------------------------------


@pytest.fixture
def finance_team(finance, admin, pastoral_a):
    """Two finance users who should hear, and finance-ish users who should not."""
    second = make_user("finance_2", Role.FINANCE)
    make_user("finance_left", Role.FINANCE).memberships.update(is_active=False)
    gone = make_user("finance_gone", Role.FINANCE)
    gone.is_active = False
    gone.save()
    no_address = make_user("finance_no_address", Role.FINANCE)
    no_address.email = ""
    no_address.save()
    return [finance, second]


def test_it_emails_every_finance_user_once_about_an_overdue_pledge(
    eager, fund, finance_team, django_capture_on_commit_callbacks
):
    pledge = _pledge(fund, finance_team[0])
    with django_capture_on_commit_callbacks(execute=True):
        assert pledges_due_reminders(today=TODAY) == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["finance@trust.example", "finance_2@trust.example"]
    assert all(len(m.to) == 1 for m in mail.outbox)
    message = mail.outbox[0]
    assert "Trustee: Mrs A. Example" in message.subject
    assert "£10,000.00" in message.subject
    assert "1 September 2026" in message.subject
    assert f"/finance/donations/new/?pledge={pledge.pk}" in message.body
    assert "83 days ago" in message.body
    assert message.alternatives[0][1] == "text/html"
    pledge.refresh_from_db()
    assert pledge.last_reminded_for == SEPT_1
    event = AuditEvent.objects.get(action="pledge.reminded")
    assert event.after["due"] == "2026-09-01"

    # The next day's run, and the one after, send nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert pledges_due_reminders(today=TODAY + datetime.timedelta(days=1)) == 0
        assert pledges_due_reminders(today=TODAY + datetime.timedelta(days=2)) == 0
    assert len(mail.outbox) == 2
    assert AuditEvent.objects.filter(action="pledge.reminded").count() == 1


def test_it_waits_for_the_grace_period(eager, fund, finance, django_capture_on_commit_callbacks):
    _pledge(fund, finance, next_due=TODAY - datetime.timedelta(days=REMINDER_GRACE_DAYS))
    with django_capture_on_commit_callbacks(execute=True):
        assert pledges_due_reminders(today=TODAY) == 0
        assert pledges_due_reminders(today=TODAY - datetime.timedelta(days=3)) == 0
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        assert pledges_due_reminders(today=TODAY + datetime.timedelta(days=1)) == 1
    assert len(mail.outbox) == 1


def test_it_does_not_remind_about_stopped_received_or_future_pledges(
    eager, fund, finance, django_capture_on_commit_callbacks
):
    stopped = _pledge(fund, finance, donor="Stopped donor")
    pledge_stop(pledge=stopped, actor=finance, reason="Moved away")
    received = _pledge(fund, finance, donor="Paid donor")
    _donate(fund, finance, 10_000_00, donor="Paid donor", pledge=received, received_on=SEPT_1)
    _pledge(fund, finance, donor="Future donor", next_due=TODAY + datetime.timedelta(days=10))
    closed = Fund.objects.create(name="Old appeal")
    _pledge(closed, finance, donor="Closed fund donor")
    closed.is_active = False
    closed.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert pledges_due_reminders(today=TODAY) == 0
    assert mail.outbox == []


def test_it_reminds_again_for_the_next_due_date(eager, fund, finance, django_capture_on_commit_callbacks):
    pledge = _pledge(fund, finance)
    with django_capture_on_commit_callbacks(execute=True):
        pledges_due_reminders(today=TODAY)
    _donate(fund, finance, 10_000_00, donor=pledge.donor, pledge=pledge, received_on=TODAY)
    with django_capture_on_commit_callbacks(execute=True):
        assert pledges_due_reminders(today=TODAY) == 0
        assert pledges_due_reminders(today=datetime.date(2027, 9, 20)) == 1
    assert [m.subject.endswith("due 1 September 2027") for m in mail.outbox] == [False, True]


def test_no_email_leaves_before_the_claim_commits(fund, finance, django_capture_on_commit_callbacks):
    _pledge(fund, finance)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        pledges_due_reminders(today=TODAY)
    assert mail.outbox == []
    assert len(queued) == 1


def test_a_rolled_back_run_sends_nothing_and_marks_nothing(fund, finance, django_capture_on_commit_callbacks):
    pledge = _pledge(fund, finance)

    def run_then_fail() -> None:
        with transaction.atomic():
            pledges_due_reminders(today=TODAY)
            raise RuntimeError("the beat task died")

    with django_capture_on_commit_callbacks(execute=True) as queued, pytest.raises(RuntimeError):
        run_then_fail()
    assert queued == []
    assert mail.outbox == []
    pledge.refresh_from_db()
    assert pledge.last_reminded_for is None


def test_a_payment_recorded_before_the_email_goes_stops_it(
    eager, fund, finance, django_capture_on_commit_callbacks
):
    pledge = _pledge(fund, finance)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        pledges_due_reminders(today=TODAY)
    _donate(fund, finance, 10_000_00, donor=pledge.donor, pledge=pledge)
    for callback in queued:
        callback()
    assert mail.outbox == []


def test_with_no_finance_user_to_tell_it_leaves_the_pledge_for_later(
    eager, fund, admin, django_capture_on_commit_callbacks
):
    pledge = _pledge(fund, admin)
    with django_capture_on_commit_callbacks(execute=True):
        assert pledges_due_reminders(today=TODAY) == 0
    pledge.refresh_from_db()
    assert pledge.last_reminded_for is None
    make_user("finance", Role.FINANCE)
    with django_capture_on_commit_callbacks(execute=True):
        assert pledges_due_reminders(today=TODAY) == 1
    assert [m.to for m in mail.outbox] == [["finance@trust.example"]]


def test_the_daily_task_runs_the_reminders(eager, fund, finance, django_capture_on_commit_callbacks):
    from funds.tasks import remind_due_pledges

    _pledge(fund, finance, next_due=datetime.date(2000, 1, 1))
    with django_capture_on_commit_callbacks(execute=True):
        assert remind_due_pledges.delay().get() == 1
    assert len(mail.outbox) == 1


def test_beat_runs_the_reminders_every_morning():
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "funds.remind_due_pledges")
    assert entry["schedule"].hour == {7}
    assert entry["schedule"].minute == {30}
    from config.celery import app

    app.loader.import_default_modules()
    assert "funds.remind_due_pledges" in app.tasks
    assert "funds.send_pledge_reminder" in app.tasks


# --- Selectors -----------------------------------------------------------------------------------


def test_only_finance_and_admins_see_donations_and_pledges(fund, finance, admin, pastoral_a, charity_staff):
    _pledge(fund, finance)
    _donate(fund, finance, received_on=SEPT_1)
    for user in (finance, admin):
        assert pledges_visible_to(user).count() == 1
        assert donation_list(user=user, fund=fund, year=2026).count() == 1
    for user in (pastoral_a, charity_staff, None):
        assert pledges_visible_to(user).count() == 0
        assert donation_list(user=user, fund=fund, year=2026).count() == 0
    Membership.objects.filter(user=finance).update(is_active=False)
    forget_scope(finance)
    assert pledges_visible_to(finance).count() == 0


def test_the_donation_list_keeps_to_the_fund_and_financial_year(fund, finance):
    other = Fund.objects.create(name="Riverside hardship budget")
    _donate(fund, finance, 1_00, received_on=datetime.date(2026, 8, 31))
    first = _donate(fund, finance, 2_00, received_on=datetime.date(2026, 9, 1))
    last = _donate(
        fund, finance, 4_00, received_on=datetime.date(2027, 8, 31), today=datetime.date(2027, 9, 1)
    )
    _donate(other, finance, 8_00, received_on=datetime.date(2026, 10, 1))
    assert list(donation_list(user=finance, fund=fund, year=2026)) == [last, first]
    assert donation_years(user=finance, fund=fund, today=TODAY) == [2026, 2025]


def test_totals_count_gift_aid_and_leave_out_reversed_donations(fund, finance):
    _donate(fund, finance, 100_00, gift_aid=True)
    _donate(fund, finance, 50_00, gift_aid=False)
    wrong = _donate(fund, finance, 999_00, gift_aid=True)
    entry = LedgerEntry.objects.get(source_id=str(wrong.pk), kind=LedgerEntry.Kind.INCOME)
    fund_entry_reverse(entry=entry, actor=finance, reason="Typed the wrong amount")
    donations = donation_list(user=finance, fund=fund, year=2026)
    assert {d.pk: d.is_reversed for d in donations}[wrong.pk] is True
    totals = donation_totals(donations)
    assert (totals.count, totals.total_pence, totals.gift_aided_pence, totals.reversed_count) == (
        2,
        150_00,
        100_00,
        1,
    )
    assert totals.gift_aid_claimable_pence == 25_00


def test_totals_of_no_donations_are_zero(fund, finance):
    totals = donation_totals(donation_list(user=finance, fund=fund, year=2026))
    assert (totals.count, totals.total_pence, totals.gift_aided_pence) == (0, 0, 0)


@pytest.mark.parametrize(
    ("next_due", "frequency", "received", "active", "key"),
    [
        (TODAY - datetime.timedelta(days=1), "annual", False, True, "overdue"),
        (TODAY, "annual", False, True, "due_soon"),
        (TODAY + datetime.timedelta(days=30), "annual", True, True, "due_soon"),
        (TODAY + datetime.timedelta(days=31), "annual", True, True, "received"),
        (TODAY + datetime.timedelta(days=8), "monthly", True, True, "received"),
        (TODAY + datetime.timedelta(days=31), "annual", False, True, "upcoming"),
        (TODAY - datetime.timedelta(days=100), "annual", False, False, "stopped"),
    ],
)
def test_a_pledges_status(next_due, frequency, received, active, key):
    pledge = Pledge(next_due=next_due, frequency=frequency, is_active=active, amount_pence=1)
    pledge.last_received = TODAY - datetime.timedelta(days=5) if received else None
    assert pledge_status(pledge, today=TODAY).key == key


def test_the_pledge_list_knows_when_each_was_last_paid(fund, finance):
    paid = _pledge(fund, finance, donor="Paid")
    _donate(fund, finance, 10_000_00, donor="Paid", pledge=paid, received_on=datetime.date(2026, 9, 3))
    unpaid = _pledge(fund, finance, donor="Unpaid")
    listed = {p.pk: p for p in pledge_list(user=finance)}
    assert listed[paid.pk].last_received == datetime.date(2026, 9, 3)
    assert listed[unpaid.pk].last_received is None
    assert pledge_status(listed[paid.pk], today=TODAY).key == "received"
    assert pledge_status(listed[unpaid.pk], today=TODAY).key == "overdue"


# --- Demo ----------------------------------------------------------------------------------------


def test_the_demo_has_one_trustee_paid_and_one_overdue_and_runs_once(finance):
    # The walk-through's four, last year's seven, and this year's harvest appeal (9 October).
    assert fund_demo_seed(today=TODAY) == 4 + 7 + 1
    fund = standby_fund()
    pledges = {p.donor: p for p in Pledge.objects.filter(fund=fund)}
    assert set(pledges) == set(TRUSTEE_PLEDGES)
    paid, overdue = (pledges[name] for name in TRUSTEE_PLEDGES)
    assert paid.next_due == datetime.date(2027, 9, 1)
    assert paid.donations.get().amount_pence == 10_000_00
    assert overdue.next_due == SEPT_1
    assert not overdue.donations.exists()
    assert all(p.amount_pence == 10_000_00 and p.frequency == "annual" for p in pledges.values())
    one_offs = Donation.objects.filter(pledge=None, donor__in=[donor for donor, *_ in ONE_OFF_DONATIONS])
    assert one_offs.count() == 3  # one of them recorded twice, for the walk-through's reversal
    assert one_offs.filter(gift_aid=True).count() == 2
    assert all(d.received_on <= TODAY for d in Donation.objects.all())
    assert pledge_status(pledge_list(user=finance).get(pk=overdue.pk), today=TODAY).key == "overdue"

    counts = (Pledge.objects.count(), Donation.objects.count(), AuditEvent.objects.count())
    assert fund_demo_seed(today=TODAY) == 0
    assert (Pledge.objects.count(), Donation.objects.count(), AuditEvent.objects.count()) == counts


def test_the_demo_never_dates_a_donation_in_the_future(finance):
    early = datetime.date(2026, 9, 2)
    fund_demo_seed(today=early)
    assert max(Donation.objects.values_list("received_on", flat=True)) == early
