"""Faults: work that rolls back sends nothing, the database failing mid-request leaves nothing half
written, and a Celery worker killed mid-task finishes the job whole when the task is redelivered."""

import datetime
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import OperationalError, connection, transaction
from django.test import Client
from django.utils import timezone

from funds.models import LedgerEntry
from funds.selectors.positions import fund_position
from funds.services.ledger import fund_donation_record, standby_fund
from support import jobs
from support.models import AuditEvent, OutboxMessage
from tests.concurrency import storm
from tests.factories import FamilyFactory, PartnerFactory, PupilFactory, SchoolFactory, consent_to, make_user
from vouchers import services as voucher_services
from vouchers.models import PartnerStatement, Redemption, Voucher, VoucherType
from vouchers.services import voucher_issue, voucher_redeem, voucher_send_request

BASE_DIR = Path(__file__).resolve().parents[2]


# --- tasks are sent only after their transaction commits --------------------------------------


@pytest.fixture
def sent(monkeypatch):
    """Every task ``enqueue_on_commit`` actually sends, as (name, args)."""
    calls: list[tuple[str, tuple]] = []

    class Recorder:
        def __init__(self, name: str) -> None:
            self.name = name

        def delay(self, *args: object) -> None:
            calls.append((self.name, args))

        def apply_async(self, args: list, **options: object) -> None:  # the outbox's send
            calls.append((self.name, tuple(args)))

    monkeypatch.setattr(jobs, "task_named", Recorder)
    return calls


def _family_with_voucher_type(*, email: str = "carer@example.org"):
    school, partner = SchoolFactory(), PartnerFactory()
    family = FamilyFactory(email=email)
    PupilFactory(family=family, school=school)
    pastoral = make_user("pastoral_faults", "pastoral", schools=[school])
    consent_to(family, pastoral)
    family.refresh_from_db()
    food = VoucherType.objects.create(
        partner=partner, service="food_parcel", name="Food", face_value_pence=25_00
    )
    return family, food, school, pastoral


# The test's own transaction stands in for the request's: callbacks registered in a savepoint that
# rolls back are dropped, the rest run when django_capture_on_commit_callbacks "commits".


@pytest.mark.django_db
def test_it_sends_the_voucher_only_once_the_issue_commits(sent, django_capture_on_commit_callbacks):
    family, food, school, pastoral = _family_with_voucher_type()
    with django_capture_on_commit_callbacks(execute=True):
        voucher = voucher_issue(
            family=family,
            voucher_type=food,
            school=school,
            issued_by=pastoral,
            referral_reason="debt",
            delivery="email",
        )
    assert sent == [("vouchers.send_to_family", (str(voucher.sends.get().key), ""))]


def _issue_and_send_then_fail(family, food, school, pastoral) -> None:
    with transaction.atomic():
        voucher_issue(
            family=family, voucher_type=food, school=school, issued_by=pastoral, referral_reason="debt"
        )
        voucher_send_request(voucher=Voucher.objects.get(), actor=pastoral, channel="email")
        raise RuntimeError("something later in the same request failed")


@pytest.mark.django_db
def test_it_sends_nothing_when_the_issue_rolls_back(sent, django_capture_on_commit_callbacks):
    family, food, school, pastoral = _family_with_voucher_type()
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        _issue_and_send_then_fail(family, food, school, pastoral)
    assert callbacks == []
    assert sent == []
    assert not Voucher.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="voucher.").exists()
    # With a real broker the message was written to the outbox in the same transaction: gone with it.
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_it_sends_no_decision_email_when_an_approval_rolls_back(
    sent, monkeypatch, django_capture_on_commit_callbacks
):
    from funds.services import approvals

    finance = make_user("finance_faults", "finance")
    school = SchoolFactory()
    lead = make_user("lead_faults", "lead", schools=[school])
    fund = standby_fund()
    fund_donation_record(
        fund=fund,
        donor="Rotary",
        amount_pence=500_00,
        received_on=timezone.localdate(),
        gift_aid=False,
        actor=finance,
    )

    class Decisions:
        def approved(self, source, *, actor, note):
            raise OperationalError("the database went away after the commitment was written")

        def url(self, source) -> str:
            return "/"

    monkeypatch.setitem(approvals._HANDLERS, "support.family", Decisions())
    request = approvals.spend_request_open(
        fund=fund,
        source=FamilyFactory(),
        amount_pence=50_00,
        category="coat",
        school=school,
        summary="Coat",
        reason="Outgrown",
        actor=lead,
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(OperationalError):
        approvals.spend_request_approve(spend_request=request, actor=finance)
    assert callbacks == []
    assert sent == []
    request.refresh_from_db()
    assert request.status == request.Status.PENDING
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.COMMITMENT).exists()


# --- the database going away mid-request ------------------------------------------------------


@pytest.mark.django_db
def test_it_shows_a_clean_error_page_and_keeps_no_half_issued_voucher_when_the_database_fails(
    monkeypatch, settings
):
    settings.DEBUG = False
    finance = make_user("finance_faults", "finance")
    fund = standby_fund()
    fund_donation_record(
        fund=fund,
        donor="Rotary",
        amount_pence=500_00,
        received_on=timezone.localdate(),
        gift_aid=False,
        actor=finance,
    )
    family, food, _school, pastoral = _family_with_voucher_type(email="")
    VoucherType.objects.filter(pk=food.pk).update(fund=fund)

    def gone(**kwargs):
        # The voucher row and its audit row are written by now; the ledger write fails.
        assert Voucher.objects.filter(family=family).exists()
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(voucher_services, "fund_spend_commit", gone)
    client = Client(raise_request_exception=False)
    client.force_login(pastoral)
    response = client.post(
        f"/families/{family.pk}/vouchers/new/",
        {
            "voucher_type": food.pk,
            "referral_reason": "income_drop",
            "referral_other": "",
            "household_size": 2,
            "dietary_needs": "",
            "fulfilment": "collection",
            "note_for_charity": "",
        },
    )
    # The database going away is a moment's outage: 503 and "try again in a minute", not a 500.
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert "The service is not available for a moment" in page
    assert "Try again in a minute" in page
    assert "Traceback" not in page
    assert "OperationalError" not in page
    assert "server closed the connection" not in page
    assert not Voucher.objects.exists()
    assert not AuditEvent.objects.filter(action="voucher.issued").exists()
    assert fund_position(fund=fund).committed_pence == 0


# --- a Celery worker killed mid-task ----------------------------------------------------------


def _children(pid: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False
    )
    return [int(line) for line in out.stdout.split()]


def _wait(predicate, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.worker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_finishes_the_monthly_statements_whole_after_the_worker_is_killed_mid_run(tmp_path):
    """Our own worker (its own queue and hostname, so CI's shared worker is untouched) runs the monthly
    statements; its pool process is killed with SIGKILL once the first statement is stored. The task is
    ``acks_late`` and ``reject_on_worker_lost``, so the message goes back on the queue and a fresh pool
    process runs it again: every partner ends with exactly one statement and one audit row."""
    from config.celery import app

    assert not app.conf.task_always_eager, "this test must send to a real broker"
    partners = [PartnerFactory(name=f"Larder {n}", email="") for n in range(6)]
    school = SchoolFactory()
    pastoral = make_user("pastoral_worker", "pastoral", schools=[school])
    charity = make_user("counter_worker", "charity", partner=partners[0])
    first_of_this_month = timezone.localdate().replace(day=1)
    last_month = (first_of_this_month - datetime.timedelta(days=1)).replace(day=1)
    for partner in partners:
        family = FamilyFactory()
        PupilFactory(family=family, school=school)
        consent_to(family, pastoral)
        food = VoucherType.objects.create(
            partner=partner, service="food_parcel", name="Food", face_value_pence=25_00
        )
        voucher = voucher_issue(
            family=family,
            voucher_type=food,
            school=school,
            issued_by=pastoral,
            referral_reason="debt",
        )
        voucher_redeem(voucher=voucher, partner=partner, redeemed_by=charity)
    Redemption.objects.update(
        redeemed_at=timezone.make_aware(datetime.datetime.combine(last_month, datetime.time(12)))
    )

    queue = f"faults-{uuid.uuid4().hex[:8]}"
    hostname = f"{queue}@%h"
    db = connection.settings_dict
    where = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": f"postgres://{db['USER']}@{where}"}
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "config",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "--loglevel=INFO",
            f"--hostname={hostname}",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait(
            lambda: "ready" in (tmp_path / "worker.log").read_text(), timeout=60, what="the worker to start"
        )
        jobs.task_named("vouchers.monthly_statements").apply_async(args=[f"{last_month:%Y-%m}"], queue=queue)
        _wait(lambda: PartnerStatement.objects.exists(), timeout=60, what="the first statement")
        children = _children(worker.pid)
        assert children, "the worker has no pool process"
        for child in children:
            os.kill(child, signal.SIGKILL)
        stored_at_kill = PartnerStatement.objects.count()
        assert stored_at_kill < len(partners), "the run finished before the kill: nothing was proved"
        _wait(
            lambda: PartnerStatement.objects.count() == len(partners),
            timeout=120,
            what="the redelivered task to finish the statements",
        )
        time.sleep(1)  # anything still running would add a duplicate now
    finally:
        worker.terminate()
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(5)
        log.close()
    text = (tmp_path / "worker.log").read_text()
    assert "WorkerLostError" in text or "SIGKILL" in text, text[-3000:]
    assert PartnerStatement.objects.count() == len(partners)
    for partner in partners:
        statement = PartnerStatement.objects.get(partner=partner, month=last_month)
        assert statement.voucher_count == 1
        assert statement.pdf.startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="statement.generated").count() == len(partners)


# --- a 500 leaves a trace: the request id on the page, the traceback in the log (issue 13) ------------


def _break_family_list(monkeypatch):
    from support.api import views as api_views

    def broken(self):
        raise RuntimeError("the family list fell over")

    monkeypatch.setattr(api_views.FamilyViewSet, "get_queryset", broken)


@pytest.mark.django_db
def test_it_answers_an_api_500_as_json_with_the_request_id_and_logs_the_traceback(
    monkeypatch, caplog, settings
):
    settings.DEBUG = False
    _break_family_list(monkeypatch)
    client = Client(raise_request_exception=False)
    client.force_login(make_user("admin_faults", "admin", superuser=True))
    with caplog.at_level("ERROR", logger="django.request"):
        response = client.get("/api/v1/families/", headers={"Accept": "text/html"})
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "server_error"
    assert "quote the request id" in body["detail"]
    assert body["request_id"] == response["X-Request-ID"]
    assert "fell over" not in response.content.decode()
    [record] = [r for r in caplog.records if r.exc_info]
    assert record.request_id == body["request_id"]
    assert "RuntimeError: the family list fell over" in caplog.text


@pytest.mark.django_db
def test_it_shows_the_request_id_on_the_500_page_and_logs_it_with_the_traceback(
    monkeypatch, caplog, settings
):
    from support import views as support_views

    settings.DEBUG = False

    def broken(*args, **kwargs):
        raise RuntimeError("the family search fell over")

    monkeypatch.setattr(support_views, "render", broken)
    client = Client(raise_request_exception=False)
    client.force_login(make_user("admin_faults", "admin", superuser=True))
    with caplog.at_level("ERROR", logger="django.request"):
        response = client.get("/families/")
    assert response.status_code == 500
    page = response.content.decode()
    request_id = response["X-Request-ID"]
    assert f'id="request-id">{request_id}<' in page
    assert "fell over" not in page
    assert any(r.exc_info and r.request_id == request_id for r in caplog.records)


@pytest.mark.django_db
def test_it_answers_an_unknown_api_path_as_json(client_for, admin):
    response = client_for(admin).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_production_like_run_captures_the_apps_log_into_its_log_file():
    import runpy

    env = {"GUNICORN_ERROR_LOG": "/tmp/web.log"}
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        conf = runpy.run_path(str(BASE_DIR / "config" / "gunicorn.conf.py"))
    assert conf["capture_output"] is True
    assert "--capture-output" in (BASE_DIR / "bin" / "prod").read_text()


def test_an_error_under_gunicorn_is_in_the_log_file_with_the_id_its_answer_shows(tmp_path):
    """The production-like run for real: gunicorn daemonised as bin/prod starts it, DEBUG off, a database
    it cannot open (every page that reads it answers 503), and the error log in a file."""
    import socket
    import urllib.error
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log, pid = tmp_path / "web.log", tmp_path / "web.pid"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "CELERY"))},
        "DEBUG": "false",
        "SECRET_KEY": "test-only-" + uuid.uuid4().hex,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SQLITE_PATH": str(tmp_path / "no-such-dir" / "db.sqlite3"),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    subprocess.run(
        [
            str(gunicorn),
            "-c",
            "config/gunicorn.conf.py",
            "--daemon",
            "--pid",
            str(pid),
            "--capture-output",
            "--error-logfile",
            str(log),
            "--access-logfile",
            str(tmp_path / "access.log"),
        ],
        cwd=BASE_DIR,
        env=env,
        check=True,
        timeout=60,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/families/", timeout=10)
            except urllib.error.HTTPError as error:
                answer = error
                if error.code != 502:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        # Token authentication reads the database: the database cannot be opened, so a 503.
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/families/", headers={"Authorization": "Token abc"}
        )
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(request, timeout=10)
        answer = failed.value
        assert answer.code == 503
        body = json.loads(answer.read())
        assert body["code"] == "database_unavailable"
        request_id = body["request_id"]
        assert answer.headers["X-Request-ID"] == request_id
        deadline = time.monotonic() + 10
        while f"[{request_id}]" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        text = log.read_text()
        assert f"[{request_id}] django.request: Service Unavailable (database): /api/v1/families/" in text
        assert "Traceback (most recent call last)" in text
        assert "OperationalError" in text
    finally:
        if pid.exists():
            os.kill(int(pid.read_text().strip()), signal.SIGTERM)
            time.sleep(1)


# --- the cache's Redis unreachable: the counter goes on (issue 16) ------------------------------
# The fixture points the cache at a port that refuses connections, as a stopped Redis does. Exactly
# once lives in PostgreSQL; the limits count in the database meanwhile (support.ratelimit).


@pytest.fixture
def counter_voucher(db, school_a, partner_1, pastoral_a, family_a):
    consent_to(family_a, pastoral_a, partner_1)
    family_a.refresh_from_db()
    food = VoucherType.objects.create(
        partner=partner_1, service="food_parcel", name="Food parcel", face_value_pence=25_00
    )
    return voucher_issue(
        family=family_a, voucher_type=food, school=school_a, issued_by=pastoral_a, referral_reason="debt"
    )


def test_the_counter_page_checks_and_redeems_while_redis_is_unreachable(
    redis_down, client_for, charity_staff, counter_voucher
):
    from vouchers.codes import generate_code

    client = client_for(charity_staff)
    page = client.get(f"/redeem/{counter_voucher.code}/")
    assert page.status_code == 200
    assert "Food parcel" in page.content.decode()
    done = client.post(f"/redeem/{counter_voucher.code}/", {"items_given": "Two bags", "value": ""})
    assert done.status_code == 302
    assert done["Location"].endswith("?redeemed=1")
    counter_voucher.refresh_from_db()
    assert counter_voucher.state == Voucher.State.REDEEMED
    assert Redemption.objects.filter(voucher=counter_voucher).count() == 1
    # A second press redeems nothing more: exactly once is PostgreSQL's, not Redis's.
    client.post(f"/redeem/{counter_voucher.code}/", {"items_given": "Two bags", "value": ""})
    assert Redemption.objects.filter(voucher=counter_voucher).count() == 1
    assert client.get(f"/redeem/{generate_code()}/").status_code == 404


def test_the_redeem_api_checks_and_redeems_while_redis_is_unreachable(
    redis_down, charity_staff, counter_voucher
):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(charity_staff)
    check = client.get(f"/api/v1/redeem/{counter_voucher.code}/")
    assert check.status_code == 200
    assert check.json()["valid"] is True
    headers = {"Idempotency-Key": "till-7-0001"}
    url = f"/api/v1/redeem/{counter_voucher.code}/redeem/"
    first = client.post(url, {"items_given": "Parcel"}, format="json", headers=headers)
    assert first.status_code == 201
    replay = client.post(url, {"items_given": "Parcel"}, format="json", headers=headers)
    assert replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert client.post(url, {}, format="json").status_code == 409
    assert Redemption.objects.filter(voucher=counter_voucher).count() == 1


def test_pastoral_pages_work_while_redis_is_unreachable(redis_down, client_for, pastoral_a, family_a):
    client = client_for(pastoral_a)
    for url in ["/", "/families/", f"/families/{family_a.pk}/", "/families/?q=Able"]:
        assert client.get(url).status_code == 200, url


# --- the Celery broker unreachable: the request succeeds, the work waits in the outbox (issue 16) -------


def _issue_by_email(family, food, school, pastoral) -> Voucher:
    return voucher_issue(
        family=family,
        voucher_type=food,
        school=school,
        issued_by=pastoral,
        referral_reason="debt",
        delivery="email",
    )


@pytest.mark.django_db
def test_a_voucher_is_issued_while_the_broker_is_down_and_sent_when_it_returns(
    broker_at, client_for, django_capture_on_commit_callbacks, mailoutbox
):
    from config.celery import app
    from support.jobs import outbox_relay
    from tests.conftest import closed_port

    family, food, _school, pastoral = _family_with_voucher_type()
    broker_at(f"redis://127.0.0.1:{closed_port()}/0")
    client = client_for(pastoral)
    form = {
        "voucher_type": food.pk,
        "referral_reason": "income_drop",
        "referral_other": "",
        "household_size": 2,
        "dietary_needs": "",
        "fulfilment": "collection",
        "delivery": "email",
        "note_for_charity": "",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/families/{family.pk}/vouchers/new/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    voucher = Voucher.objects.get(family=family)
    send = voucher.sends.get()
    assert send.status == send.Status.QUEUED
    [message] = OutboxMessage.objects.all()
    assert (message.task_name, message.args) == ("vouchers.send_to_family", [str(send.key), message.args[1]])
    assert message.attempts == 1
    assert "Connection refused" in message.last_error or "connecting" in message.last_error

    # Still down: the relay sends nothing and keeps the message.
    assert outbox_relay(grace=datetime.timedelta(0)) == 0
    message.refresh_from_db()
    assert message.attempts == 2
    assert mailoutbox == []

    # The broker is back (here: Celery runs the task in this process): the relay sends it, once.
    app.conf.task_always_eager = True
    assert outbox_relay(grace=datetime.timedelta(0)) == 1
    assert not OutboxMessage.objects.exists()
    send.refresh_from_db()
    assert send.status == send.Status.SENT
    assert len(mailoutbox) == 1
    assert outbox_relay(grace=datetime.timedelta(0)) == 0


@pytest.mark.django_db
def test_the_relay_leaves_a_fresh_message_to_the_send_after_its_commit(broker_at):
    from support.jobs import outbox_relay
    from tests.conftest import closed_port

    broker_at(f"redis://127.0.0.1:{closed_port()}/0")
    message = OutboxMessage.objects.create(task_name="support.send_email", args=[["a@example.org"], "s", "b"])
    assert outbox_relay(now=message.created_at + datetime.timedelta(seconds=10)) == 0
    message.refresh_from_db()
    assert message.attempts == 0, "not even tried: it is younger than the relay's grace"


@pytest.mark.django_db
def test_it_does_not_ask_a_broker_that_just_failed_again_for_a_while(
    broker_at, monkeypatch, django_capture_on_commit_callbacks
):
    from config.celery import app
    from tests.conftest import closed_port

    family, food, school, pastoral = _family_with_voucher_type()
    broker_at(f"redis://127.0.0.1:{closed_port()}/0")
    attempts = []
    real = app.send_task

    def counted(*args, **kwargs):
        attempts.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(app, "send_task", counted)
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            _issue_by_email(family, food, school, pastoral)
    assert OutboxMessage.objects.count() == 3
    assert len(attempts) == 1, "only the first send asked the broker"
    assert list(OutboxMessage.objects.values_list("attempts", flat=True).order_by("pk")) == [1, 0, 0]


@pytest.mark.django_db
def test_a_batch_print_says_plainly_that_it_could_not_start_while_the_broker_is_down(
    broker_at, monkeypatch, django_capture_on_commit_callbacks
):
    from tests.conftest import closed_port
    from vouchers import printing

    family, food, school, pastoral = _family_with_voucher_type(email="")
    vouchers = [
        voucher_issue(
            family=family, voucher_type=food, school=school, issued_by=pastoral, referral_reason="debt"
        )
        for _ in range(2)
    ]
    monkeypatch.setattr(printing, "SYNC_LIMIT", 1)
    broker_at(f"redis://127.0.0.1:{closed_port()}/0")
    with django_capture_on_commit_callbacks(execute=True):
        result = printing.print_job_start(voucher_ids=[v.pk for v in vouchers], actor=pastoral)
    job = printing.print_job_get(job_id=result.job.id, actor=pastoral)
    assert job.error == printing.BROKER_DOWN
    assert not job.ready


@pytest.mark.worker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_what_waited_in_the_outbox_once_the_broker_is_back(broker_at):
    """CI's pass: the broker at a closed port while a voucher is issued by e-mail, then the real broker
    again; the relay sends the message and CI's own Celery worker delivers it."""
    from django.conf import settings

    from support.jobs import outbox_relay
    from tests.conftest import closed_port

    real_broker = settings.CELERY_BROKER_URL
    family, food, school, pastoral = _family_with_voucher_type()
    broker_at(f"redis://127.0.0.1:{closed_port()}/0")
    voucher = _issue_by_email(family, food, school, pastoral)  # autocommit: sent (or not) at once
    send = voucher.sends.get()
    assert OutboxMessage.objects.count() == 1
    broker_at(real_broker)
    assert outbox_relay(grace=datetime.timedelta(0)) == 1
    _wait(lambda: voucher.sends.get().status == send.Status.SENT, timeout=60, what="the worker to send it")
    assert not OutboxMessage.objects.exists()


# --- PostgreSQL restarting: the request fails cleanly, the next one works (issue 16) ------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("health_checks", [True, False], ids=["health-checks", "no-health-checks"])
def test_the_counter_survives_its_database_connection_being_killed(
    tmp_path, counter_voucher, charity_staff, health_checks
):
    """A real gunicorn worker keeps its PostgreSQL connection between requests (DB_CONN_MAX_AGE). The
    server ends that connection, as a restart or a failover does (``pg_terminate_backend`` from this
    test's own connection: the shared server keeps running). The next check either reconnects at once
    (with the health check) or fails cleanly with a 503 in the API's JSON, never a 500; the one after
    works, and the worker holds exactly one live connection: nothing broken is left behind."""
    import urllib.error
    import urllib.request

    from rest_framework.authtoken.models import Token

    from tests.servers import free_port, gunicorn, this_database_url

    token = Token.objects.create(user=charity_staff).key
    app_name = f"faults-{uuid.uuid4().hex[:10]}"
    port = free_port()
    env = {
        "DATABASE_URL": this_database_url(application_name=app_name),
        "DB_CONN_MAX_AGE": "600",
        "DB_CONN_HEALTH_CHECKS": "true" if health_checks else "false",
        "API_VOUCHER_LOOKUP_RATE": "1000/minute",
    }

    def check() -> tuple[int, dict, dict]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/redeem/{counter_voucher.code}/",
            headers={"Authorization": f"Token {token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=20) as answer:
                return answer.status, json.loads(answer.read()), dict(answer.headers)
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read()), dict(error.headers)

    def backends() -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND pid <> pg_backend_pid()",
                [app_name],
            )
            return [row[0] for row in cursor.fetchall()]

    with gunicorn(port=port, log=tmp_path / "web.log", env=env):
        status, body, _ = check()
        assert status == 200, body
        [pid] = backends()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        _wait(lambda: pid not in backends(), timeout=10, what="the connection to end")

        status, body, headers = check()
        if health_checks:
            assert status == 200, body  # the health check found the dead connection and replaced it
        else:
            assert status == 503, body
            assert body["code"] == "database_unavailable"
            assert "try again in a minute" in body["detail"]
            assert headers["Retry-After"] == "30"
            assert "terminating connection" not in json.dumps(body)
        status, body, _ = check()
        assert status == 200, body
        assert body["valid"] is True
        assert len(backends()) == 1, "one live connection, the broken one gone"
    assert "Internal Server Error" not in (tmp_path / "web.log").read_text()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_relays_at_once_send_each_waiting_message_once(eager, mailoutbox):
    """Beat on two nodes by mistake, or the command run while beat's relay runs: the rows are locked
    with SKIP LOCKED and deleted in the transaction that sent them, so no message goes twice."""
    from support.jobs import outbox_relay

    OutboxMessage.objects.bulk_create(
        OutboxMessage(task_name="support.send_email", args=[[f"carer{n}@example.org"], f"Message {n}", "b"])
        for n in range(40)
    )
    sent = storm(2, lambda i: outbox_relay(grace=datetime.timedelta(0)))
    assert sum(sent) == 40
    assert not OutboxMessage.objects.exists()
    assert sorted(m.subject for m in mailoutbox) == sorted(f"Message {n}" for n in range(40))
