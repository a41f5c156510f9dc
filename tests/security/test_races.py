"""Deterministic races (CI's PostgreSQL pass): the competing call is injected between a use case's
read and its write, so a check-then-act bug fails every time rather than now and then.

``inject(module, name, competitor)`` wraps a function the use case calls at the chosen point. The
first call from the test's own thread runs ``competitor`` in another thread, on its own database
connection, and waits for it. If the competitor finishes, it really ran between the read and the
write; if it is still waiting after a second, the use case holds a lock it needs (``blocked``), and
it finishes once the use case commits. Either way the outcome must be consistent.
"""

import datetime
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from funds.models import LedgerEntry, SpendRequest
from funds.selectors.positions import fund_position
from funds.services import approvals
from funds.services import ledger as fund_module
from funds.services.ledger import fund_donation_record, fund_entry_reverse, fund_spend_commit, standby_fund
from support.errors import ConflictError, SupportError
from support.models import AuditEvent
from tests.concurrency import storm
from tests.factories import FamilyFactory, PartnerFactory, PupilFactory, SchoolFactory, consent_to, make_user
from vouchers import services as voucher_services
from vouchers.models import Redemption, Voucher, VoucherType
from vouchers.services import (
    voucher_cancel,
    voucher_expire_due,
    voucher_extend,
    voucher_issue,
    voucher_redeem,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TODAY = timezone.localdate


@dataclass
class Competitor:
    call: Callable[[], Any]
    result: Any = None
    error: BaseException | None = None
    blocked: bool = False
    thread: threading.Thread | None = None
    ran: bool = False

    def start(self) -> None:
        def run() -> None:
            try:
                self.result = self.call()
            except BaseException as exc:  # the test inspects it
                self.error = exc
            finally:
                connection.close()

        self.ran = True
        self.thread = threading.Thread(target=run)
        self.thread.start()
        self.thread.join(1.0)
        self.blocked = self.thread.is_alive()

    def finish(self) -> "Competitor":
        assert self.ran, "the injection point was never reached: the use case changed, move the hook"
        self.thread.join(30)
        assert not self.thread.is_alive(), "the competitor never finished (deadlock?)"
        return self


def inject(monkeypatch, module: Any, name: str, competitor: Callable[[], Any]) -> Competitor:
    """Run ``competitor`` in another thread the first time the test's thread calls ``module.name``."""
    original = getattr(module, name)
    main = threading.current_thread()
    race = Competitor(competitor)

    def hooked(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is main and not race.ran:
            race.start()
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, hooked)
    return race


# --- vouchers ----------------------------------------------------------------------------------


@dataclass
class VoucherWorld:
    voucher: Voucher
    partner: Any
    pastoral: Any
    lead: Any
    charity: Any


def _voucher_world(*, fund=None, face_value_pence: int = 25_00) -> VoucherWorld:
    school, partner = SchoolFactory(), PartnerFactory()
    family = FamilyFactory()
    PupilFactory(family=family, school=school)
    pastoral = make_user("pastoral_inject", "pastoral", schools=[school])
    lead = make_user("lead_inject", "lead", schools=[school])
    charity = make_user("counter_inject", "charity", partner=partner)
    consent_to(family, pastoral)
    food = VoucherType.objects.create(
        partner=partner, service="food_parcel", name="Food", face_value_pence=face_value_pence, fund=fund
    )
    voucher = voucher_issue(
        family=family,
        voucher_type=food,
        school=school,
        issued_by=pastoral,
        referral_reason="debt",
    )
    return VoucherWorld(voucher=voucher, partner=partner, pastoral=pastoral, lead=lead, charity=charity)


def _fresh(voucher: Voucher) -> Voucher:
    return Voucher.objects.select_related("voucher_type__partner", "school").get(pk=voucher.pk)


def test_it_refuses_a_cancel_when_the_voucher_is_redeemed_between_its_check_and_its_claim(monkeypatch):
    w = _voucher_world()
    race = inject(
        monkeypatch,
        voucher_services,
        "require_school",
        lambda: voucher_redeem(voucher=_fresh(w.voucher), partner=w.partner, redeemed_by=w.charity),
    )
    with pytest.raises(ConflictError) as refused:
        voucher_cancel(voucher=_fresh(w.voucher), actor=w.pastoral, reason="Family moved away")
    race.finish()
    assert race.error is None
    assert not race.blocked
    assert refused.value.code == "redeemed"
    assert Voucher.objects.get(pk=w.voucher.pk).state == Voucher.State.REDEEMED
    assert Redemption.objects.filter(voucher=w.voucher).count() == 1
    assert not AuditEvent.objects.filter(action="voucher.cancelled").exists()


def test_it_refuses_a_redemption_when_the_voucher_is_cancelled_between_its_check_and_its_claim(monkeypatch):
    w = _voucher_world()
    # voucher_redeem reads today's date right before its conditional update: the competitor goes there.
    race = inject(
        monkeypatch,
        voucher_services.timezone,
        "localdate",
        lambda: voucher_cancel(voucher=_fresh(w.voucher), actor=w.pastoral, reason="Sent in error"),
    )
    with pytest.raises(ConflictError) as refused:
        voucher_redeem(voucher=_fresh(w.voucher), partner=w.partner, redeemed_by=w.charity)
    race.finish()
    assert race.error is None
    assert refused.value.code == "cancelled"
    assert Voucher.objects.get(pk=w.voucher.pk).state == Voucher.State.CANCELLED
    assert not Redemption.objects.filter(voucher=w.voucher).exists()


@pytest.mark.parametrize("one_statement", [True, False], ids=["one statement", "step by step"])
def test_it_makes_a_cancel_wait_for_a_redemption_that_has_claimed_the_voucher(monkeypatch, one_statement):
    """The competitor arrives after the claim: it must wait for the row and then see it redeemed.

    On PostgreSQL the redeem is one statement that commits by itself, so nothing runs between its claim
    and its commit: the competitor comes while a caller's transaction still holds the claimed row. The
    step-by-step path (SQLite's) is raced from inside its own transaction, after the claim."""
    w = _voucher_world()

    def cancel() -> Voucher:
        return voucher_cancel(voucher=_fresh(w.voucher), actor=w.pastoral, reason="Too late")

    monkeypatch.setattr(voucher_services, "_redeem_in_one_statement_here", lambda: one_statement)
    if one_statement:
        race = Competitor(cancel)
        with transaction.atomic():
            voucher_redeem(voucher=_fresh(w.voucher), partner=w.partner, redeemed_by=w.charity)
            race.start()
    else:
        race = inject(monkeypatch, voucher_services, "audit_record", cancel)
        voucher_redeem(voucher=_fresh(w.voucher), partner=w.partner, redeemed_by=w.charity)
    race.finish()
    assert race.blocked, "the cancel did not wait for the redemption's row lock"
    assert isinstance(race.error, ConflictError)
    assert race.error.code == "redeemed"
    assert Voucher.objects.get(pk=w.voucher.pk).state == Voucher.State.REDEEMED
    assert Redemption.objects.filter(voucher=w.voucher).count() == 1


def test_it_releases_a_cancelled_vouchers_money_once_even_when_a_redemption_races_it(monkeypatch):
    finance = make_user("finance_inject", "finance")
    fund = standby_fund()
    fund_donation_record(
        fund=fund, donor="Rotary", amount_pence=100_00, received_on=TODAY(), gift_aid=False, actor=finance
    )
    w = _voucher_world(fund=fund)
    race = inject(
        monkeypatch,
        voucher_services,
        "require_school",
        lambda: voucher_redeem(voucher=_fresh(w.voucher), partner=w.partner, redeemed_by=w.charity),
    )
    with pytest.raises(ConflictError):
        voucher_cancel(voucher=_fresh(w.voucher), actor=w.pastoral, reason="Family moved away")
    race.finish()
    assert race.error is None
    kinds = list(LedgerEntry.objects.filter(fund=fund).exclude(kind="income").values_list("kind", flat=True))
    # Committed once, made actual once by the redemption (a release and a spend); the cancel released nothing.
    K = LedgerEntry.Kind
    assert sorted(kinds) == sorted([K.COMMITMENT, K.COMMITMENT_RELEASE, K.SPEND])
    position = fund_position(fund=fund)
    assert (position.balance_pence, position.available_pence) == (75_00, 75_00)


def test_it_does_not_expire_a_voucher_extended_after_the_expiry_job_listed_it(monkeypatch):
    w = _voucher_world()
    Voucher.objects.filter(pk=w.voucher.pk).update(expires_on=TODAY() + datetime.timedelta(days=1))
    later = TODAY() + datetime.timedelta(days=30)
    # voucher_expire_due lists the due vouchers, then opens a transaction per chunk to expire them.
    race = inject(
        monkeypatch,
        voucher_services.transaction,
        "atomic",
        lambda: voucher_extend(voucher=_fresh(w.voucher), actor=w.lead, expires_on=later, reason="Ill"),
    )
    expired = voucher_expire_due(today=TODAY() + datetime.timedelta(days=3))
    race.finish()
    assert race.error is None
    assert expired == 0
    voucher = Voucher.objects.get(pk=w.voucher.pk)
    assert (voucher.state, voucher.expires_on) == (Voucher.State.ISSUED, later)
    assert not AuditEvent.objects.filter(action="voucher.expired").exists()


def test_it_refuses_to_extend_a_voucher_expired_between_its_check_and_its_claim(monkeypatch):
    w = _voucher_world()
    race = inject(
        monkeypatch,
        voucher_services,
        "require_school",
        lambda: voucher_expire_due(today=TODAY() + datetime.timedelta(days=400)),
    )
    with pytest.raises(ConflictError) as refused:
        voucher_extend(
            voucher=_fresh(w.voucher),
            actor=w.lead,
            expires_on=TODAY() + datetime.timedelta(days=60),
            reason="Ill",
        )
    race.finish()
    assert race.error is None
    assert race.result == 1
    assert refused.value.code == "expired"
    voucher = Voucher.objects.get(pk=w.voucher.pk)
    assert voucher.state == Voucher.State.EXPIRED
    assert not AuditEvent.objects.filter(action="voucher.extended").exists()


def test_it_keeps_each_voucher_redeemed_or_cancelled_never_both_under_a_mixed_storm():
    w = _voucher_world()
    family, voucher_type, school = w.voucher.family, w.voucher.voucher_type, w.voucher.school
    vouchers = [w.voucher]
    for _ in range(7):
        vouchers.append(
            voucher_issue(
                family=family,
                voucher_type=voucher_type,
                school=school,
                issued_by=w.lead,
                referral_reason="debt",
                override_reason="Storm test",
            )
        )

    def act(i: int) -> str:
        # Four calls on each voucher, two redeems and two cancels.
        voucher = _fresh(vouchers[i % len(vouchers)])
        try:
            if (i // len(vouchers)) % 2:
                voucher_redeem(voucher=voucher, partner=w.partner, redeemed_by=w.charity)
                return "won:redeem"
            voucher_cancel(voucher=voucher, actor=w.pastoral, reason="Storm")
            return "won:cancel"
        except ConflictError as exc:
            return f"refused:{exc.code}"

    results = storm(32, act)
    assert results.count("won:redeem") + results.count("won:cancel") == len(vouchers)
    assert set(results) <= {"won:redeem", "won:cancel", "refused:redeemed", "refused:cancelled"}
    states = dict(Voucher.objects.filter(pk__in=[v.pk for v in vouchers]).values_list("pk", "state"))
    redeemed = {pk for pk, state in states.items() if state == Voucher.State.REDEEMED}
    cancelled = {pk for pk, state in states.items() if state == Voucher.State.CANCELLED}
    assert redeemed | cancelled == set(states)
    assert set(Redemption.objects.values_list("voucher_id", flat=True)) == redeemed
    assert Redemption.objects.count() == len(redeemed) == results.count("won:redeem")
    assert AuditEvent.objects.filter(action="voucher.cancelled").count() == len(cancelled)
    assert AuditEvent.objects.filter(action="voucher.redeemed").count() == len(redeemed)


# --- the fund ----------------------------------------------------------------------------------


@pytest.fixture
def decisions(monkeypatch):
    class Decisions:
        def __init__(self) -> None:
            self.calls: list[str] = []

        def approved(self, source, *, actor, note):
            self.calls.append("approved")

        def rejected(self, source, *, actor, note):
            self.calls.append("rejected")

        def sent_back(self, source, *, actor, note):
            self.calls.append("sent_back")

        def url(self, source) -> str:
            return f"/families/{source.pk}/"

    handler = Decisions()
    monkeypatch.setitem(approvals._HANDLERS, "support.family", handler)
    return handler


@dataclass
class FundWorld:
    fund: Any
    income: LedgerEntry
    finance: Any
    finance_2: Any
    lead: Any
    school: Any


def _fund_world(amount_pence: int) -> FundWorld:
    finance = make_user("finance_inject", "finance")
    finance_2 = make_user("finance_inject_2", "finance")
    school = SchoolFactory()
    lead = make_user("lead_fund_inject", "lead", schools=[school])
    fund = standby_fund()
    fund_donation_record(
        fund=fund,
        donor="Rotary",
        amount_pence=amount_pence,
        received_on=TODAY(),
        gift_aid=False,
        actor=finance,
    )
    income = LedgerEntry.objects.get(fund=fund, kind=LedgerEntry.Kind.INCOME)
    return FundWorld(fund=fund, income=income, finance=finance, finance_2=finance_2, lead=lead, school=school)


def _waiting(w: FundWorld, amount_pence: int) -> SpendRequest:
    request = approvals.spend_request_open(
        fund=w.fund,
        source=FamilyFactory(),
        amount_pence=amount_pence,
        category="coat",
        school=w.school,
        summary="Coats",
        reason="Outgrown",
        actor=w.lead,
    )
    if request.approvals_needed == 2:
        request = approvals.spend_request_approve(spend_request=request, actor=w.finance_2)
    return request


def test_it_refuses_an_approval_when_the_income_is_reversed_between_its_lock_and_its_commit(
    monkeypatch, decisions
):
    w = _fund_world(300_00)
    request = _waiting(w, 250_00)
    # Before the approval locks the request (and, joined to it, the fund).
    race = inject(
        monkeypatch,
        approvals,
        "_require_finance",
        lambda: fund_entry_reverse(entry=w.income, actor=w.finance_2, reason="Bounced cheque"),
    )
    with pytest.raises(SupportError) as refused:
        approvals.spend_request_approve(spend_request=request, actor=w.finance)
    race.finish()
    assert race.error is None
    assert not race.blocked
    assert refused.value.code == "insufficient_funds"
    assert SpendRequest.objects.get(pk=request.pk).status == SpendRequest.Status.PENDING
    assert not LedgerEntry.objects.filter(fund=w.fund, kind=LedgerEntry.Kind.COMMITMENT).exists()
    assert decisions.calls == []
    assert fund_position(fund=w.fund).available_pence == 0


@pytest.mark.parametrize(
    ("module", "hook"),
    # After the request's lock (which joins the fund), and inside fund_spend_commit after its own lock.
    [(approvals, "_source"), (fund_module, "_source_ref")],
    ids=["after_request_lock", "after_fund_lock"],
)
def test_it_makes_a_reversal_wait_for_an_approval_that_holds_the_funds_lock(
    monkeypatch, decisions, module, hook
):
    w = _fund_world(300_00)
    request = _waiting(w, 250_00)
    race = inject(
        monkeypatch,
        module,
        hook,
        lambda: fund_entry_reverse(entry=w.income, actor=w.finance_2, reason="Bounced cheque"),
    )
    approvals.spend_request_approve(spend_request=request, actor=w.finance)
    race.finish()
    assert race.blocked, "the reversal did not wait for the fund's lock"
    assert race.error is None
    assert SpendRequest.objects.get(pk=request.pk).status == SpendRequest.Status.APPROVED
    kinds = sorted(LedgerEntry.objects.filter(fund=w.fund).values_list("kind", flat=True))
    assert kinds == sorted([LedgerEntry.Kind.INCOME, LedgerEntry.Kind.COMMITMENT, LedgerEntry.Kind.REVERSAL])
    # A reversal records what happened even when it leaves the fund short (fund_entry_reverse's rule);
    # the approval itself was made with the money there.
    assert fund_position(fund=w.fund).available_pence == -250_00
    with pytest.raises(ConflictError):
        fund_entry_reverse(entry=w.income, actor=w.finance, reason="Twice")
    assert LedgerEntry.objects.filter(reverses=w.income).count() == 1


def test_it_reverses_an_entry_once_when_two_finance_users_race(monkeypatch):
    w = _fund_world(300_00)
    race = inject(
        monkeypatch,
        fund_module,
        "_lock_fund",
        lambda: fund_entry_reverse(entry=w.income, actor=w.finance_2, reason="Bounced"),
    )
    with pytest.raises(ConflictError) as refused:
        fund_entry_reverse(entry=w.income, actor=w.finance, reason="Bounced too")
    race.finish()
    assert race.error is None
    assert refused.value.code == "already_reversed"
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REVERSAL).count() == 1


@pytest.mark.parametrize("point", ["before_lock", "after_lock"])
def test_it_gives_the_last_pounds_to_exactly_one_of_two_commits(monkeypatch, point):
    w = _fund_world(10_00)
    first, second = FamilyFactory(), FamilyFactory()
    pastoral = make_user("pastoral_last_pounds", "pastoral", schools=[w.school])

    def commit(source):
        return fund_spend_commit(
            fund=w.fund, source=source, amount_pence=8_00, category="coat", actor=pastoral
        )

    race = inject(
        monkeypatch,
        fund_module,
        "_lock_fund" if point == "before_lock" else "_source_ref",
        lambda: commit(second),
    )
    if point == "before_lock":
        with pytest.raises(SupportError) as refused:
            commit(first)
        race.finish()
        assert race.error is None
        assert refused.value.code == "insufficient_funds"
    else:
        commit(first)
        race.finish()
        assert race.blocked, "the second commit did not wait for the fund's lock"
        assert isinstance(race.error, SupportError)
        assert race.error.code == "insufficient_funds"
    assert LedgerEntry.objects.filter(fund=w.fund, kind=LedgerEntry.Kind.COMMITMENT).count() == 1
    assert fund_position(fund=w.fund).available_pence == 2_00


# --- statements --------------------------------------------------------------------------------


def test_it_emails_a_statement_once_when_two_deliveries_of_the_task_race(monkeypatch, mailoutbox):
    """Found in review: the 'already sent?' check was not under a lock, so a redelivered task running
    beside the first could e-mail the charity twice. The send now holds the statement's row lock."""
    from vouchers import statements
    from vouchers.statements import previous_month, statement_generate, statement_send

    partner = PartnerFactory(email="counter@pantry.example")
    statement = statement_generate(partner=partner, month=previous_month())
    race = inject(monkeypatch, statements, "month_label", lambda: statement_send(statement_id=statement.pk))
    assert statement_send(statement_id=statement.pk) == "sent"
    race.finish()
    assert race.blocked, "the second delivery should wait for the first's lock"
    assert race.result == "already-sent"
    assert len(mailoutbox) == 1
