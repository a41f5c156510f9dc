"""Round trips at the counter: SQL statements per check and per redeem, counted so a regression fails.

A partner's system authenticates with a token. After the first request (which may fill caches such
as content types), a check reads the token, the caller's scope and the voucher in two queries. A
redeem (with an Idempotency-Key, paid from the fund) reads the token and scope, claims the key, finds
the voucher, then on PostgreSQL claims it and writes the redemption, the ledger entries, both audit
rows and the answer under the key in one statement that commits by itself (no BEGIN and COMMIT): 4.
SQLite has no data-modifying CTEs and writes the same rows step by step in an atomic block: 9 (BEGIN,
COMMIT and savepoints are not counted).
(The cache's round trips, for the throttles and the lookup guard, are counted by the throttle tests.)
"""

import datetime
import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from funds.models import LedgerEntry
from support.models import AuditEvent
from vouchers.models import Redemption, Voucher

CHECK_QUERIES = 2
REDEEM_STATEMENTS = {"postgresql": 4, "sqlite": 9}
# The token with its scope, the 3 the body names, the rules, the writes.
ISSUE_STATEMENTS = 16
# Savepoints: only the issue's own transaction (a savepoint here, inside the test's transaction; BEGIN in
# production). The voucher and its commitment join it: each had a savepoint, two round trips, before.
ISSUE_SAVEPOINTS = 1
# From locking the fund's row to the end of the transaction: the fund's sums (checkpoint and entries
# since), the ledger entry, and the issue's audit rows in one statement (a new voucher has no entries of
# its own to add up). Every issue waits for this lock.
UNDER_FUND_LOCK = 4


@pytest.fixture
def token_client(charity_staff):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=charity_staff).key}")
    return client


def statements(context: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in context.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]


def test_it_checks_a_code_in_two_queries(token_client, issue, family_a, paid_type):
    first, *vouchers = [issue(family_a, paid_type) for _ in range(3)]
    assert token_client.get(f"/api/v1/redeem/{first.code}/").status_code == 200
    for voucher in vouchers:
        with CaptureQueriesContext(connection) as context:
            response = token_client.get(f"/api/v1/redeem/{voucher.code}/")
        assert response.status_code == 200
        assert response.json()["valid"] is True
        assert len(statements(context)) <= CHECK_QUERIES, statements(context)


def test_after_the_first_check_no_query_is_compiled_again(
    token_client, issue, family_a, paid_type, monkeypatch
):
    """The token with its scope and the voucher are read by SQL the ORM compiled once per connection
    (support.hot_queries): compiling was a third of a check's CPU."""
    from django.db.models.sql.compiler import SQLCompiler

    first, *vouchers = [issue(family_a, paid_type) for _ in range(3)]
    assert token_client.get(f"/api/v1/redeem/{first.code}/").status_code == 200
    compiled = []
    original = SQLCompiler.as_sql
    monkeypatch.setattr(
        SQLCompiler, "as_sql", lambda self, *a, **k: compiled.append(1) or original(self, *a, **k)
    )
    for voucher in vouchers:
        assert token_client.get(f"/api/v1/redeem/{voucher.code}/").json()["code"] == voucher.code
    assert compiled == []


def test_it_says_a_stopped_service_is_still_honoured_without_another_query(
    token_client, issue, family_a, paid_type, partner_1
):
    from support.models import PartnerService

    first, voucher = issue(family_a, paid_type), issue(family_a, paid_type)
    PartnerService.objects.update_or_create(
        partner=partner_1, service="food_parcel", defaults={"is_active": False}
    )
    token_client.get(f"/api/v1/redeem/{first.code}/")
    with CaptureQueriesContext(connection) as context:
        body = token_client.get(f"/api/v1/redeem/{voucher.code}/").json()
    assert "no longer offers this service" in body["notice"]
    assert len(statements(context)) <= CHECK_QUERIES


def test_it_issues_in_a_fixed_number_of_statements_with_the_fund_locked_last(
    lead_a, family_a, school_a, paid_type
):
    from tests.factories import consent_to

    consent_to(family_a, lead_a, paid_type.partner)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=lead_a).key}")
    body = {
        "family": family_a.pk,
        "voucher_type": paid_type.pk,
        "school": school_a.pk,
        "referral_reason": "low_income",
    }
    assert client.post("/api/v1/vouchers/", body, format="json").status_code == 201
    for _ in range(2):
        with CaptureQueriesContext(connection) as context:
            response = client.post("/api/v1/vouchers/", body, format="json")
        assert response.status_code == 201, response.content
        sql = statements(context)
        assert len(sql) <= ISSUE_STATEMENTS, "\n".join(sql)
        savepoints = [q["sql"] for q in context.captured_queries if q["sql"].startswith("SAVEPOINT")]
        assert len(savepoints) <= ISSUE_SAVEPOINTS, savepoints
        locked = next(i for i, q in enumerate(sql) if q.startswith('SELECT "funds_fund"."id"'))
        assert len(sql) - 1 - locked <= UNDER_FUND_LOCK, "\n".join(sql[locked:])
        # Still done: the voucher, its commitment, and both audit rows.
        voucher = Voucher.objects.get(code=response.json()["code"])
        assert LedgerEntry.objects.get(source_id=str(voucher.pk)).kind == LedgerEntry.Kind.COMMITMENT
        audited = AuditEvent.objects.filter(subject_id=str(voucher.pk), action="voucher.issued").count()
        assert audited == 1
        assert AuditEvent.objects.filter(action="fund.spend_committed", at__gte=voucher.issued_at).exists()


def test_it_redeems_in_a_fixed_number_of_statements_with_every_guarantee(
    token_client, issue, family_a, paid_type, charity_staff
):
    first, *vouchers = [issue(family_a, paid_type) for _ in range(3)]
    token_client.post(f"/api/v1/redeem/{first.code}/redeem/", {}, format="json", HTTP_IDEMPOTENCY_KEY="k0")
    for n, voucher in enumerate(vouchers, start=1):
        with CaptureQueriesContext(connection) as context:
            response = token_client.post(
                f"/api/v1/redeem/{voucher.code}/redeem/",
                {"items_given": "Parcel"},
                format="json",
                HTTP_IDEMPOTENCY_KEY=f"k{n}",
            )
        assert response.status_code == 201, response.content
        sql = statements(context)
        assert len(sql) <= REDEEM_STATEMENTS[connection.vendor], "\n".join(sql)
        if connection.vendor == "postgresql":
            assert sum(s.lstrip().startswith("WITH claimed AS") for s in sql) == 1, "\n".join(sql)
        # What the statements must still have done: claimed once, recorded, spent from the fund, audited.
        voucher.refresh_from_db()
        assert voucher.state == Voucher.State.REDEEMED
        assert Redemption.objects.filter(voucher=voucher, redeemed_by=charity_staff).count() == 1
        kinds = sorted(
            LedgerEntry.objects.filter(
                source_type=ContentType.objects.get_for_model(Voucher), source_id=str(voucher.pk)
            ).values_list("kind", flat=True)
        )
        assert kinds == sorted(
            [LedgerEntry.Kind.COMMITMENT, LedgerEntry.Kind.COMMITMENT_RELEASE, LedgerEntry.Kind.SPEND]
        )
        actions = set(AuditEvent.objects.filter(at__gte=voucher.issued_at).values_list("action", flat=True))
        assert {"voucher.redeemed", "fund.spend_actual"} <= actions
        # The same key again replays the answer and redeems nothing twice.
        again = token_client.post(
            f"/api/v1/redeem/{voucher.code}/redeem/",
            {"items_given": "Parcel"},
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"k{n}",
        )
        assert again.status_code == 201
        assert again["Idempotent-Replayed"] == "true"
        assert Redemption.objects.filter(voucher=voucher).count() == 1


def test_a_second_redeem_of_the_same_voucher_is_refused_and_writes_nothing(
    token_client, issue, family_a, paid_type
):
    voucher = issue(family_a, paid_type)
    assert token_client.post(f"/api/v1/redeem/{voucher.code}/redeem/", {}, format="json").status_code == 201
    entries = LedgerEntry.objects.count()
    response = token_client.post(f"/api/v1/redeem/{voucher.code}/redeem/", {}, format="json")
    assert response.status_code == 409
    assert LedgerEntry.objects.count() == entries
    assert Redemption.objects.filter(voucher=voucher).count() == 1


def test_an_expired_idempotency_record_is_replaced_when_its_key_comes_back(
    token_client, issue, family_a, paid_type
):
    from django.utils import timezone

    from support.models import IdempotencyRecord

    old, new = issue(family_a, paid_type), issue(family_a, paid_type)
    token_client.post(f"/api/v1/redeem/{old.code}/redeem/", {}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    IdempotencyRecord.objects.update(created_at=timezone.now() - datetime.timedelta(hours=25))
    response = token_client.post(
        f"/api/v1/redeem/{new.code}/redeem/", {}, format="json", HTTP_IDEMPOTENCY_KEY="same"
    )
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert IdempotencyRecord.objects.get(key="same").path.endswith(f"/{new.code}/redeem/")


def test_an_issue_answers_as_the_voucher_serializer(lead_a, family_a, school_a, paid_type):
    """The answer is built from fields bound once per role set: the same as VoucherSerializer's."""
    from tests.factories import consent_to
    from tests.http import make_request
    from vouchers.api import VoucherSerializer

    consent_to(family_a, lead_a, paid_type.partner)
    client = APIClient()
    client.force_authenticate(lead_a)
    body = {"family": family_a.pk, "voucher_type": paid_type.pk, "school": school_a.pk}
    response = client.post("/api/v1/vouchers/", {**body, "referral_reason": "debt"}, format="json")
    assert response.status_code == 201, response.content
    voucher = Voucher.objects.select_related("voucher_type", "school").get(code=response.json()["code"])
    expected = VoucherSerializer(voucher, context={"request": make_request(lead_a, "/", api=True)}).data
    assert response.json() == json.loads(json.dumps(expected, cls=DjangoJSONEncoder))


def test_each_issue_binds_its_own_copy_of_the_declared_fields(lead_a, pastoral_a):
    from tests.http import make_request
    from vouchers.api import VoucherIssueSerializer

    first = VoucherIssueSerializer(data={}, context={"request": make_request(lead_a, "/", api=True)})
    second = VoucherIssueSerializer(data={}, context={"request": make_request(pastoral_a, "/", api=True)})
    assert first.fields["family"] is not second.fields["family"]
    assert first.fields["family"]._user() == lead_a
    assert second.fields["family"]._user() == pastoral_a
    assert VoucherIssueSerializer._declared_fields["family"].parent is None  # the template stays unbound
