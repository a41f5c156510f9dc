"""The counter's redeem in one statement (PostgreSQL): the same rows as the step-by-step path, all or nothing,
exactly once under a storm, and committed by itself with no BEGIN and COMMIT around it."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from funds.models import LedgerEntry
from funds.services.ledger import fund_donation_record, standby_fund
from support.models import AuditEvent
from support.money import pounds, pounds_sql
from tests.concurrency import storm
from tests.factories import FamilyFactory, PupilFactory, SchoolFactory, consent_to, make_user
from vouchers import services
from vouchers.models import Redemption, Voucher, VoucherType
from vouchers.services import voucher_issue, voucher_redeem

pytestmark = pytest.mark.postgres


def written(voucher: Voucher) -> dict:
    """What a redemption of ``voucher`` wrote, without ids and times (a row's own id written as ``#``)."""
    redemption = Redemption.objects.get(voucher=voucher)
    entries = list(
        LedgerEntry.objects.filter(
            source_type=ContentType.objects.get_for_model(Voucher), source_id=str(voucher.pk)
        )
        .exclude(kind=LedgerEntry.Kind.COMMITMENT)
        .order_by("pk")
    )
    spend_ids = {str(e.pk): e for e in entries if e.kind == LedgerEntry.Kind.SPEND}
    events = list(
        AuditEvent.objects.filter(action__in=["voucher.redeemed", "fund.spend_actual"])
        .filter(subject_id__in=[str(voucher.pk), *spend_ids])
        .order_by("pk")
    )
    return {
        "voucher": Voucher.objects.filter(pk=voucher.pk).values_list("state", flat=True).get(),
        "redemption": (
            redemption.partner_id,
            redemption.redeemed_by_id,
            redemption.items_given,
            redemption.value_pence,
            redemption.redeemed_at.date(),
        ),
        "entries": [
            (
                e.fund_id,
                e.kind,
                e.amount_pence,
                e.source_type_id,
                e.school_id,
                e.category,
                e.reverses_id,
                e.note,
                e.override_reason,
                e.created_by_id,
                e.occurred_on,
            )
            for e in entries
        ],
        "audit": [
            (
                event.actor_id,
                event.actor_label,
                event.action,
                event.subject_type_id,
                event.subject_id == str(voucher.pk) or event.subject_id in spend_ids,
                event.subject_repr.replace(f"#{event.subject_id} ", "#").replace(str(voucher), "code"),
                event.before,
                {**event.after, "source_id": "·"} if "source_id" in event.after else event.after,
                event.note,
            )
            for event in events
        ],
    }


@pytest.mark.parametrize("value_pence", [None, 12_50])
def test_it_writes_what_the_step_by_step_path_writes(
    issue, family_a, paid_type, partner_1, charity_staff, monkeypatch, value_pence
):
    by_statement, by_steps = issue(family_a, paid_type), issue(family_a, paid_type)
    kwargs = {
        "partner": partner_1,
        "redeemed_by": charity_staff,
        "items_given": "  Parcel ",
        "value_pence": value_pence,
    }

    redemption = voucher_redeem(voucher=by_statement, **kwargs)
    monkeypatch.setattr(services, "_redeem_in_one_statement_here", lambda: False)
    voucher_redeem(voucher=by_steps, **kwargs)

    assert written(by_statement) == written(by_steps)
    assert written(by_statement)["entries"], "the fund's commitment became spend"
    # What it returns is the row it wrote.
    stored = Redemption.objects.get(pk=redemption.pk)
    assert (stored.voucher_id, stored.redeemed_at, stored.items_given) == (
        by_statement.pk,
        redemption.redeemed_at,
        "Parcel",
    )
    assert by_statement.state == Voucher.State.REDEEMED


def test_a_voucher_paid_from_no_fund_is_redeemed_and_audited_with_no_ledger_entry(
    issue, family_a, food_type, partner_1, charity_staff
):
    voucher = issue(family_a, food_type)
    entries = LedgerEntry.objects.count()
    voucher_redeem(voucher=voucher, partner=partner_1, redeemed_by=charity_staff)
    assert LedgerEntry.objects.count() == entries
    assert AuditEvent.objects.filter(action="voucher.redeemed", subject_id=str(voucher.pk)).count() == 1


def test_a_refused_claim_writes_nothing(issue, family_a, paid_type, partner_1, charity_staff):
    voucher = issue(family_a, paid_type)
    Voucher.objects.filter(pk=voucher.pk).update(
        expires_on=datetime.date.today() - datetime.timedelta(days=1)
    )
    counts = (Redemption.objects.count(), LedgerEntry.objects.count(), AuditEvent.objects.count())
    with pytest.raises(services.ConflictError) as refused:
        voucher_redeem(voucher=voucher, partner=partner_1, redeemed_by=charity_staff)
    assert refused.value.code == "expired"
    assert (Redemption.objects.count(), LedgerEntry.objects.count(), AuditEvent.objects.count()) == counts
    assert Voucher.objects.get(pk=voucher.pk).state == Voucher.State.ISSUED


@pytest.mark.parametrize("pence", [0, 5, 99, 100, 25_00, 1_234_56, 123_456_789_01])
def test_pounds_in_sql_reads_as_pounds_does(db, pence):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {pounds_sql('p.pence')} FROM (SELECT %s::bigint AS pence) p", [pence])
        assert cursor.fetchone()[0] == pounds(pence)


@pytest.mark.django_db(transaction=True)
def test_it_commits_by_itself_in_one_statement(partner_1, finance):
    """Outside a transaction (as the API view runs it) the redeem is one statement with no BEGIN/COMMIT."""
    voucher = _paid_voucher(partner_1, finance)
    staff = make_user("counter_alone", "charity", partner=partner_1)
    seen = []

    def watch(execute, sql, params, many, context):
        seen.append((sql.lstrip()[:4], connection.in_atomic_block))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        voucher_redeem(voucher=voucher, partner=partner_1, redeemed_by=staff)
    assert seen == [("WITH", False)]
    assert Redemption.objects.filter(voucher=voucher).exists()


@pytest.mark.django_db(transaction=True)
def test_it_spends_from_the_fund_exactly_once_under_30_concurrent_redeems(partner_1, finance):
    voucher = _paid_voucher(partner_1, finance)
    staff = [make_user(f"counter_storm_{n}", "charity", partner=partner_1) for n in range(3)]

    def redeem(i: int) -> str:
        try:
            voucher_redeem(
                voucher=Voucher.objects.get(pk=voucher.pk), partner=partner_1, redeemed_by=staff[i % 3]
            )
            return "won"
        except services.SupportError as exc:
            return exc.code

    results = storm(30, redeem)
    # The winner; the others find it redeemed (their claim waited on the row lock, then matched nothing).
    assert sorted(results) == ["redeemed"] * 29 + ["won"]
    source = {"source_type": ContentType.objects.get_for_model(Voucher), "source_id": str(voucher.pk)}
    kinds = sorted(LedgerEntry.objects.filter(**source).values_list("kind", flat=True))
    assert kinds == ["commitment", "commitment_release", "spend"]
    assert Redemption.objects.filter(voucher=voucher).count() == 1
    assert AuditEvent.objects.filter(action="voucher.redeemed", subject_id=str(voucher.pk)).count() == 1
    assert AuditEvent.objects.filter(action="fund.spend_actual").count() == 1


def _paid_voucher(partner, finance) -> Voucher:
    school, family = SchoolFactory(), FamilyFactory()
    PupilFactory(family=family, school=school)
    pastoral = make_user("pastoral_paid", "pastoral", schools=[school])
    consent_to(family, pastoral, partner)
    fund = standby_fund()
    fund_donation_record(
        fund=fund,
        donor="Trustee",
        amount_pence=100_00,
        received_on=datetime.date.today(),
        gift_aid=False,
        actor=finance,
    )
    paid = VoucherType.objects.create(
        partner=partner, service="food_parcel", name="Food parcel", face_value_pence=25_00, fund=fund
    )
    return voucher_issue(
        family=family, voucher_type=paid, school=school, issued_by=pastoral, referral_reason="debt"
    )


@pytest.mark.django_db(transaction=True)
def test_a_keyed_redeem_waits_for_the_disk_once(partner_1, finance, monkeypatch):
    """The key's claim commits without waiting for the disk; the redemption and the stored answer commit
    together, once. A retry during the work sees the claim at once and is told it is in progress."""
    import threading

    from rest_framework.test import APIClient

    from support.models import IdempotencyRecord

    voucher = _paid_voucher(partner_1, finance)
    staff = make_user("counter_keyed", "charity", partner=partner_1)
    retried = []
    original = services.voucher_redeem

    def retry_meanwhile(**kwargs):
        def run():
            try:
                client = APIClient()
                client.force_authenticate(staff)
                again = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="once")
                retried.append((again.status_code, again.json()["code"]))
            finally:
                connection.close()

        thread = threading.Thread(target=run)
        thread.start()
        thread.join(10)
        return original(**kwargs)

    monkeypatch.setattr(services, "voucher_redeem", retry_meanwhile)
    url = f"/api/v1/redeem/{voucher.code}/redeem/"
    client = APIClient()
    client.force_authenticate(staff)
    seen = []

    def watch(execute, sql, params, many, context):
        seen.append((sql.lstrip().split()[0], connection.in_atomic_block))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        response = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="once")
    assert response.status_code == 201
    assert retried == [(409, "idempotency_in_progress")]
    # The claim alone, with synchronous_commit off for it; then the voucher's lookup, and the work with the
    # answer in one statement that commits by itself: no transaction around them.
    claim = seen.index(("INSERT", False))  # after the caller's scope is read
    assert seen[claim + 1 :] == [("SELECT", False), ("WITH", False)]
    assert IdempotencyRecord.objects.get(key="once").status_code == 201
    replay = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="once")
    assert (replay.status_code, replay["Idempotent-Replayed"]) == (201, "true")


def test_the_keys_claim_turns_the_wait_for_the_disk_off_for_its_own_commit(db, charity_staff):
    """Outside a transaction the claim is its own transaction: set_config(..., true) lasts until its end."""
    from django.utils import timezone

    from support.api.idempotency import _UNFLUSHED_CLAIM_SQL

    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
        # (Inside the test's transaction here, so the setting can be read back before that transaction ends.)
        cursor.execute(_UNFLUSHED_CLAIM_SQL, [charity_staff.pk, "k", "POST", "/api/", "h", timezone.now()])
        assert cursor.fetchone()[0]
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "off"
