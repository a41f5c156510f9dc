"""/healthz for a load balancer, and the load test's bare endpoint (off unless asked for)."""

import importlib
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client, override_settings
from django.urls import clear_url_caches, resolve
from django.urls.exceptions import Resolver404
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from support import health


@pytest.fixture(autouse=True)
def _fresh_probes():
    health.reset_probe_cache()
    yield
    health.reset_probe_cache()


def test_it_answers_ok_without_signing_in_or_a_session(db, django_assert_max_num_queries):
    client = Client(enforce_csrf_checks=True)
    with django_assert_max_num_queries(1):  # the SELECT 1: no session, user or axes queries
        response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    # SQLite pass: Celery eager, per-process cache. PostgreSQL pass: the real broker and Redis.
    assert body["broker"] in ("ok", "eager")
    assert body["cache"] in ("ok", "local")
    assert set(body) == {"status", "database", "broker", "cache"}
    assert "sessionid" not in response.cookies
    assert "csrftoken" not in response.cookies
    assert "no-cache" in response["Cache-Control"]
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


@override_settings(
    CELERY_TASK_ALWAYS_EAGER=True,
    CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
)
def test_it_reports_eager_celery_and_a_local_cache_as_healthy(db):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "eager", "cache": "local"}


def test_it_answers_503_when_the_database_is_down(db):
    broken = mock.MagicMock()
    broken.cursor.side_effect = OperationalError("connection refused to 10.0.0.9 with password hunter2")
    with mock.patch.object(health, "connections", {"default": broken}):
        response = Client().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == "unreachable"
    assert "hunter2" not in response.content.decode()  # nothing of the error leaks


@override_settings(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL="redis://127.0.0.1:1/0")
def test_it_says_degraded_but_stays_in_rotation_when_the_broker_is_down(db):
    """Requests still succeed without the broker (their work waits in the outbox): 200, "degraded"."""
    with mock.patch("kombu.Connection.ensure_connection", side_effect=ConnectionRefusedError("no")) as probe:
        response = Client().get("/healthz")
    assert probe.called
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["broker"] == "unreachable"
    assert response.json()["database"] == "ok"


@override_settings(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL="redis://127.0.0.1:1/0")
def test_a_real_unreachable_broker_fails_within_the_timeout(db):
    import time

    started = time.monotonic()
    assert health.broker_status() == "unreachable"
    assert time.monotonic() - started < 3 * health.BROKER_TIMEOUT_SECONDS


@override_settings(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL="redis://127.0.0.1:1/0")
def test_the_broker_answer_is_reused_for_a_few_seconds(db):
    with mock.patch("kombu.Connection.ensure_connection") as probe:
        for _ in range(5):
            assert Client().get("/healthz").json()["broker"] == "ok"
    assert probe.call_count == 1
    with (
        mock.patch("kombu.Connection.ensure_connection", side_effect=OSError("down")) as probe,
        mock.patch.object(health.time, "monotonic", return_value=10**9),
    ):
        assert health.broker_status() == "unreachable"  # the cached answer has aged out
    assert probe.call_count == 1


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
)
def test_it_says_degraded_but_stays_in_rotation_when_the_shared_cache_is_down(db):
    """The counter goes on without Redis (its limits count in the database): 200, "degraded"."""
    with mock.patch("django.core.cache.cache.get", side_effect=ConnectionError("down")):
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["cache"] == "unreachable"


def test_it_finds_a_really_unreachable_cache(db, redis_down):
    body = Client().get("/healthz").json()
    assert body["cache"] == "unreachable"
    assert body["status"] == "degraded"


@override_settings(SECURE_SSL_REDIRECT=True, DEBUG=False, ALLOWED_HOSTS=["testserver"])
def test_it_is_not_redirected_to_https_when_the_rest_is(db):
    client = Client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/accounts/login/").status_code == 301


def test_the_bare_endpoint_does_not_exist_unless_switched_on(db, pastoral_a):
    from django.conf import settings

    assert settings.LOAD_TEST_BARE_ENDPOINT is False
    with pytest.raises(Resolver404):
        resolve("/api/v1/_bare/")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=pastoral_a).key}")
    assert client.get("/api/v1/_bare/").status_code == 404


def test_the_bare_endpoint_authenticates_and_returns_a_constant(db, pastoral_a):
    import config.urls

    try:
        with override_settings(LOAD_TEST_BARE_ENDPOINT=True):
            clear_url_caches()
            importlib.reload(config.urls)
            token = Token.objects.create(user=pastoral_a)
            client = APIClient()
            assert client.get("/api/v1/_bare/").status_code == 401
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
            response = client.get("/api/v1/_bare/")
            assert response.status_code == 200
            assert response.json() == {"ok": True}
    finally:
        clear_url_caches()
        importlib.reload(config.urls)
    with pytest.raises(Resolver404):
        resolve("/api/v1/_bare/")


def test_the_bare_view_refuses_even_if_routed_while_switched_off(db, pastoral_a, request_for):
    request = request_for(pastoral_a, "/api/v1/_bare/")
    response = health.BareView.as_view()(request)
    assert response.status_code == 404


# --- The production-like run's tooling: bin/prod refuses a taken port; the benchmark report ------------


def test_it_refuses_to_start_the_stack_on_a_port_already_in_use(tmp_path):
    import socket
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "PROD_NAME": "pytest-port-taken",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "TRUSTSUPPORT_STATE_DIR": str(tmp_path / "state"),
        }
        done = subprocess.run(
            [str(root / "bin" / "prod"), "start"], env=env, capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 1
    assert f"something else is listening on 127.0.0.1:{port}" in done.stderr
    assert not (root / ".prod" / "pytest-port-taken" / "web.pid").exists()  # nothing was started


def test_it_collects_benchmark_results_into_one_report(tmp_path, capsys):
    from bench.common import RESULT_PREFIX, emit_result
    from bench.report import BENCHES, Outcome, write_report

    record = emit_result(
        bench="redeem",
        figure="redeem throughput",
        value=40.0,
        unit="req/s",
        baseline=100.0,
        target=">= 0.5",
        passed=False,
    )
    line = capsys.readouterr().out.strip()
    assert line.startswith(RESULT_PREFIX)
    assert record["ratio"] == 0.4
    bench = next(b for b in BENCHES if b.name == "redeem")
    crashed = next(b for b in BENCHES if b.name == "gifts")
    import datetime
    import json

    outcomes = [
        Outcome(bench, 3.0, 0, [json.loads(line[len(RESULT_PREFIX) :])], tmp_path / "redeem.log"),
        Outcome(crashed, 1.0, 1, [], tmp_path / "gifts.log"),
    ]
    report = tmp_path / "RESULTS.md"
    write_report(outcomes, report, datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC), "0.1")
    text = report.read_text()
    assert "| redeem | redeem throughput | 40.0 req/s | 100 req/s | 0.40 | >= 0.5 | **MISS** |" in text
    assert "gifts | **did not complete** (exit code 1" in text
    assert "- redeem: redeem throughput" in text
    assert "- gifts: did not complete" in text
