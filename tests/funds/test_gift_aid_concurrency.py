"""Gift Aid claims under real concurrency (CI's PostgreSQL pass): a donation is claimed once, however many
finance users prepare a claim at the same moment."""

import datetime

import pytest

from funds.models import GiftAidClaim, GiftAidClaimItem
from funds.services.gift_aid import gift_aid_claim_prepare, gift_aid_declaration_record
from funds.services.ledger import fund_donation_record, standby_fund
from support.errors import SupportError
from tests.concurrency import storm
from tests.factories import make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TODAY = datetime.date(2026, 11, 23)


def _declare(finance) -> None:
    """Mrs Pemberton's declaration, covering every gift of these tests."""
    gift_aid_declaration_record(
        donor="Trustee: Mrs H. Pemberton",
        first_name="Helen",
        last_name="Pemberton",
        house="12",
        address="12 Mill Lane",
        postcode="RV1 2AB",
        declared_on=datetime.date(2026, 9, 1),
        covers_past=True,
        covers_future=True,
        actor=finance,
        today=TODAY,
    )


@pytest.mark.parametrize("shown", [True, False], ids=["from-the-check-page", "everything-claimable"])
def test_it_claims_each_donation_once_when_eight_claims_are_prepared_at_once(shown):
    fund = standby_fund()
    finance = make_user("finance_gift_aid_race", "finance")
    _declare(finance)
    donations = [
        fund_donation_record(
            fund=fund,
            donor="Trustee: Mrs H. Pemberton",
            amount_pence=100_00 + day,
            received_on=datetime.date(2026, 9, day),
            gift_aid=True,
            actor=finance,
            today=TODAY,
        )
        for day in range(1, 21)
    ]
    ids = [d.pk for d in donations] if shown else None

    def prepare(_i: int) -> str:
        try:
            gift_aid_claim_prepare(actor=finance, donation_ids=ids, today=TODAY)
            return "prepared"
        except SupportError as exc:
            return exc.code

    results = storm(8, prepare)
    assert results.count("prepared") == 1, results
    assert GiftAidClaim.objects.count() == 1
    assert GiftAidClaimItem.objects.count() == 20
    assert sorted(GiftAidClaimItem.objects.values_list("donation_id", flat=True)) == sorted(
        d.pk for d in donations
    )


def test_a_cancellation_racing_a_claim_never_leaves_an_uncovered_gift_in_it(monkeypatch):
    """The claim reads the declaration as covering, then the donor's cancellation (reaching back before
    some of the gifts) commits before the claim does: without a lock on the declaration both succeed, and
    the claim sends HMRC gifts no declaration covers."""
    import threading

    from funds.services import gift_aid as service
    from funds.services.gift_aid import gift_aid_declaration_cancel

    fund = standby_fund()
    finance = make_user("finance_cancel_race", "finance")
    declaration = gift_aid_declaration_record(
        donor="Trustee: Mr R. Okafor",
        first_name="Robert",
        last_name="Okafor",
        house="3",
        address="3 Weir Road",
        postcode="RV2 4CD",
        declared_on=datetime.date(2026, 9, 1),
        covers_past=False,
        covers_future=True,
        actor=finance,
        today=TODAY,
    )
    for day in range(1, 11):
        fund_donation_record(
            fund=fund,
            donor="Trustee: Mr R. Okafor",
            amount_pence=50_00,
            received_on=datetime.date(2026, 9, day),
            gift_aid=True,
            actor=finance,
            today=TODAY,
        )
    reached, go = threading.Event(), threading.Event()
    real_audit = service.audit_record

    def pausing_audit(**kwargs):
        if kwargs.get("action") == "gift_aid.claim_prepared":
            reached.set()
            go.wait(10)
        return real_audit(**kwargs)

    monkeypatch.setattr(service, "audit_record", pausing_audit)
    results = {}

    def prepare() -> None:
        try:
            gift_aid_claim_prepare(actor=finance, today=TODAY)
            results["prepare"] = "prepared"
        except SupportError as exc:
            results["prepare"] = exc.code
        finally:
            from django.db import connection

            connection.close()

    def cancel() -> None:
        try:
            gift_aid_declaration_cancel(
                declaration=declaration, cancelled_on=datetime.date(2026, 9, 5), actor=finance
            )
            results["cancel"] = "cancelled"
        except SupportError as exc:
            results["cancel"] = exc.code
        finally:
            from django.db import connection

            connection.close()

    preparing = threading.Thread(target=prepare)
    preparing.start()
    assert reached.wait(10)
    cancelling = threading.Thread(target=cancel)
    cancelling.start()
    cancelling.join(1.5)  # a lock makes it wait for the claim; without one it is done already
    go.set()
    preparing.join(10)
    cancelling.join(10)
    declaration.refresh_from_db()
    claimed = sorted(GiftAidClaimItem.objects.values_list("donation__received_on", flat=True))
    if declaration.cancelled_on is not None:
        assert all(day < declaration.cancelled_on for day in claimed), (results, claimed)
    assert results.get("prepare") == "prepared", results


def test_a_reversal_racing_a_claim_never_leaves_a_reversed_gift_in_it(monkeypatch):
    import threading

    from django.db import connection

    from funds.models import LedgerEntry
    from funds.services import gift_aid as service
    from funds.services.ledger import fund_entry_reverse

    fund = standby_fund()
    finance = make_user("finance_reverse_race", "finance")
    gift_aid_declaration_record(
        donor="Trustee: Mrs H. Pemberton", first_name="Helen", last_name="Pemberton", house="12",
        address="12 Mill Lane", postcode="RV1 2AB", declared_on=datetime.date(2026, 9, 1), covers_past=True,
        covers_future=True, actor=finance, today=TODAY,
    )  # fmt: skip
    donation = fund_donation_record(
        fund=fund, donor="Trustee: Mrs H. Pemberton", amount_pence=500_00,
        received_on=datetime.date(2026, 9, 2), gift_aid=True, actor=finance, today=TODAY,
    )  # fmt: skip
    entry = LedgerEntry.objects.get(source_id=str(donation.pk), kind=LedgerEntry.Kind.INCOME)
    reached, go = threading.Event(), threading.Event()
    real_audit = service.audit_record

    def pausing_audit(**kwargs):
        if kwargs.get("action") == "gift_aid.claim_prepared":
            reached.set()
            go.wait(10)
        return real_audit(**kwargs)

    monkeypatch.setattr(service, "audit_record", pausing_audit)
    results = {}

    def run(name, call):
        try:
            call()
            results[name] = "done"
        except SupportError as exc:
            results[name] = exc.code
        finally:
            connection.close()

    preparing = threading.Thread(
        target=run, args=("prepare", lambda: gift_aid_claim_prepare(actor=finance, today=TODAY))
    )
    preparing.start()
    assert reached.wait(10)
    reversing = threading.Thread(
        target=run,
        args=("reverse", lambda: fund_entry_reverse(entry=entry, actor=finance, reason="It bounced")),
    )
    reversing.start()
    reversing.join(1.5)
    go.set()
    preparing.join(10)
    reversing.join(10)
    reversed_ = LedgerEntry.objects.filter(reverses=entry).exists()
    claimed = GiftAidClaimItem.objects.filter(donation=donation, released=False).exists()
    assert not (reversed_ and claimed), results
    assert results == {"prepare": "done", "reverse": "gift_aid_claimed"}, results


def test_overclaimed_gift_aid_is_given_back_once_when_claims_are_prepared_at_once():
    from funds.models import LedgerEntry
    from funds.services.gift_aid import gift_aid_claim_paid, gift_aid_claim_submit
    from funds.services.ledger import fund_entry_reverse

    fund = standby_fund()
    finance = make_user("finance_overclaim_race", "finance")
    _declare(finance)

    def give(day: int, pence: int):
        return fund_donation_record(
            fund=fund,
            donor="Trustee: Mrs H. Pemberton",
            amount_pence=pence,
            received_on=datetime.date(2026, 9, day),
            gift_aid=True,
            actor=finance,
            today=TODAY,
        )

    returned = give(1, 100_00)
    sent = gift_aid_claim_prepare(actor=finance, today=TODAY)
    gift_aid_claim_submit(claim=sent, hmrc_reference="CH-1", actor=finance, today=TODAY)
    gift_aid_claim_paid(claim=sent, paid_on=TODAY, actor=finance, today=TODAY)
    income = LedgerEntry.objects.get(
        source_id=str(returned.pk), kind=LedgerEntry.Kind.INCOME, category="donation"
    )
    fund_entry_reverse(entry=income, actor=finance, reason="Returned", today=TODAY)
    later = [give(day, 1_000_00) for day in range(2, 10)]  # each claim's Gift Aid could give it all back

    def prepare(i: int) -> str:
        try:
            gift_aid_claim_prepare(actor=finance, donation_ids=[later[i].pk], today=TODAY)
            return "prepared"
        except SupportError as exc:
            return exc.code

    results = storm(8, prepare)
    assert results.count("prepared") == 8, results
    claims = GiftAidClaim.objects.exclude(pk=sent.pk)
    assert sorted(claims.values_list("adjustment_pence", flat=True)) == [0] * 7 + [25_00]
    assert GiftAidClaimItem.objects.get(claim=sent).adjusted_in_id == claims.get(adjustment_pence=25_00).pk
