"""Named personas and the objects in and out of their scope.

School A and school B; family_a has a pupil at A only, family_b at B only, family_ab at both.
"""

import datetime
import os

import pytest
from django.db import connection
from django.test import Client

from support.models import Role
from tests.factories import FamilyFactory, PartnerFactory, PupilFactory, SchoolFactory, make_user
from tests.http import make_request

PASSWORD = "correct-horse-battery"


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the message files when a .po is newer than its .mo (``make setup`` does it too), so a
    test run straight from pytest reads the translations as committed. Once, before any xdist worker."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    from pathlib import Path

    from django.conf import settings
    from django.core.management import call_command

    for locale in settings.LOCALE_PATHS:
        for po in Path(locale).glob("*/LC_MESSAGES/*.po"):
            mo = po.with_suffix(".mo")
            if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
                call_command(
                    "compilemessages",
                    locale=[po.parent.parent.name],
                    ignore_patterns=[".venv", "frontend", "staticfiles"],
                    verbosity=0,
                )


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        if os.environ.get("CI_REQUIRE_POSTGRES"):
            pytest.fail("This test needs PostgreSQL, and CI's PostgreSQL pass is not running on PostgreSQL")
        pytest.skip("needs PostgreSQL (row locks and real concurrency); runs in CI's PostgreSQL pass")
    if item.get_closest_marker("redis") and not os.environ.get("REDIS_URL"):
        if os.environ.get("CI_REQUIRE_POSTGRES"):
            pytest.fail("This test needs Redis (REDIS_URL), which CI's PostgreSQL pass sets")
        pytest.skip("needs Redis as the cache (REDIS_URL); runs in CI's PostgreSQL pass")
    if item.get_closest_marker("worker") and not os.environ.get("CI_CELERY_WORKER"):
        if os.environ.get("CI_REQUIRE_POSTGRES"):
            pytest.fail("This test needs the real Celery worker that CI's PostgreSQL pass starts")
        pytest.skip("needs a real Celery worker and broker; runs in CI's PostgreSQL pass")


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def pdf_renders(monkeypatch) -> list[str]:
    """The stylesheet of every real WeasyPrint render (a cache miss) through ``support.pdf``, in order."""
    from support import pdf

    calls: list[str] = []
    real = pdf._Renderer.write_pdf

    def counting(self, html: str, *, stylesheet: str, **kwargs) -> bytes:
        calls.append(stylesheet)
        return real(self, html, stylesheet=stylesheet, **kwargs)

    monkeypatch.setattr(pdf._Renderer, "write_pdf", counting)
    return calls


@pytest.fixture
def school_a(db):
    return SchoolFactory(name="Alpha Primary Academy", urn="140901")


@pytest.fixture
def school_b(db):
    return SchoolFactory(name="Beta Secondary Academy", urn="140902")


@pytest.fixture
def partner_1(db):
    return PartnerFactory(name="First Food Bank")


@pytest.fixture
def partner_2(db):
    return PartnerFactory(name="Second Food Bank")


@pytest.fixture
def pastoral_a(school_a):
    return make_user("pastoral_a", Role.PASTORAL, schools=[school_a])


@pytest.fixture
def lead_a(school_a):
    return make_user("lead_a", Role.LEAD, schools=[school_a])


@pytest.fixture
def pastoral_b(school_b):
    return make_user("pastoral_b", Role.PASTORAL, schools=[school_b])


@pytest.fixture
def lead_b(school_b):
    return make_user("lead_b", Role.LEAD, schools=[school_b])


@pytest.fixture
def finance(db):
    return make_user("finance", Role.FINANCE)


@pytest.fixture
def charity_staff(partner_1):
    return make_user("charity_1", Role.CHARITY, partner=partner_1)


@pytest.fixture
def other_charity_staff(partner_2):
    return make_user("charity_2", Role.CHARITY, partner=partner_2)


@pytest.fixture
def admin(db):
    return make_user("admin", Role.ADMIN, superuser=True)


@pytest.fixture
def no_role(db):
    return make_user("no_role", None)


@pytest.fixture
def family_a(school_a):
    family = FamilyFactory(lead_carer_name="Anna Able", postcode="RV1 1AA", phone="+441134960001")
    PupilFactory(family=family, school=school_a, legal_forename="Alfie", surname="Able")
    return family


@pytest.fixture
def family_b(school_b):
    family = FamilyFactory(lead_carer_name="Bella Brook", postcode="RV2 2BB", phone="+441134960002")
    PupilFactory(
        family=family,
        school=school_b,
        legal_forename="Bobby",
        surname="Brook",
        year_group=8,
        date_of_birth="2013-01-05",
    )
    return family


@pytest.fixture
def family_ab(school_a, school_b):
    family = FamilyFactory(lead_carer_name="Cara Cross", postcode="RV3 3CC", phone="+441134960003")
    PupilFactory(family=family, school=school_a, legal_forename="Cleo", surname="Cross")
    PupilFactory(
        family=family,
        school=school_b,
        legal_forename="Caspar",
        surname="Cross",
        year_group=9,
        date_of_birth="2012-02-02",
    )
    return family


@pytest.fixture
def eager():
    """Run Celery tasks in-process, even in CI's pass with a real broker and worker.

    For tests about what a task does or when it is sent; the real worker has its own test.
    """
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def client_for():
    """``client_for(user)``: a test client signed in as ``user`` (anonymous for None)."""

    def make(user) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def request_for():
    """``request_for(user, path="/", api=False, **query)``: a request by hand (see ``tests.http``)."""
    return make_request


def _moved_clock(value: str) -> datetime.datetime:
    """``TEST_CLOCK``: a date (``2028-02-29``), a date and time, or ``+N`` days from now."""
    now = datetime.datetime.now(datetime.UTC)
    if value.startswith("+"):
        return now + datetime.timedelta(days=int(value[1:]))
    moved = datetime.datetime.fromisoformat(value)
    if moved.tzinfo is None:
        # A bare date keeps today's time of day, so the run sees an ordinary working day's hours.
        moved = moved.replace(hour=now.hour, minute=now.minute, second=now.second, tzinfo=datetime.UTC)
    return moved


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    # Hashing passwords properly costs ~0.2 s a user; tests make hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    # CI runs the suite again with the clock moved (TEST_CLOCK), so a test that only passes on the
    # day it was written fails at once rather than on some later morning.
    clock = os.environ.get("TEST_CLOCK")
    if clock:
        import time_machine

        traveller = time_machine.travel(_moved_clock(clock), tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)


def pytest_report_header(config: pytest.Config) -> str | None:
    clock = os.environ.get("TEST_CLOCK")
    if not clock:
        return None
    return f"clock moved to {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC (TEST_CLOCK={clock})"


def closed_port() -> int:
    """A local port nothing listens on (bound, then released): connecting to it is refused at once."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_down(settings):
    """The shared cache is a Redis that refuses connections (as when it is stopped), on SQLite and
    PostgreSQL alike; the rate limiter's breaker is reset before and after."""
    from support import ratelimit

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
        }
    }
    ratelimit.reset_breaker()
    yield
    ratelimit.reset_breaker()


@pytest.fixture
def count_redis_round_trips(monkeypatch):
    """``with count_redis_round_trips() as trips:`` ... then ``trips == [n]``: the commands or pipelines
    sent to Redis meanwhile (each is one round trip: redis-py sends a pipeline as one packet)."""
    import contextlib

    import redis

    from support import ratelimit

    ratelimit.reset_breaker()  # a Redis-down test before this one may have left the limiter in the database
    sent = [0]
    real = redis.connection.AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        sent[0] += 1
        return real(self, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)

    @contextlib.contextmanager
    def count():
        trips: list[int] = []
        before = sent[0]
        yield trips
        trips.append(sent[0] - before)

    return count


@pytest.fixture
def broker_at():
    """``broker_at(url)``: Celery sends to the broker at ``url``, not eagerly, until the test ends (then
    as before). ``broker_at(f"redis://127.0.0.1:{closed_port()}/0")`` is a broker that is down."""
    from config.celery import app
    from support import jobs

    def reset_pools() -> None:
        app._pool = None
        app.amqp._producer_pool = None
        jobs.broker.reset()

    before = app.conf.broker_url, app.conf.broker_write_url, app.conf.task_always_eager

    def point(url: str) -> None:
        app.conf.broker_url, app.conf.broker_write_url, app.conf.task_always_eager = url, url, False
        reset_pools()

    yield point
    app.conf.broker_url, app.conf.broker_write_url, app.conf.task_always_eager = before
    reset_pools()
