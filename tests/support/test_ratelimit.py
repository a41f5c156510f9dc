"""The rate limiter's counters (support.ratelimit): atomic, one round trip, and still counting in the
database while Redis is unreachable."""

import pytest
from django.core.cache import cache, caches
from django.db import connection

from support import ratelimit
from support.models import RateLimitCounter
from support.ratelimit import Window, ratelimit_count, ratelimit_flag_set, ratelimit_flags
from tests.concurrency import storm

LIMIT = 120


def _store() -> str:
    return ratelimit.REDIS if ratelimit._redis_backend() is not None else ratelimit.CACHE


def test_it_lets_exactly_the_limit_through_when_200_hits_race():
    """200 threads released together on one window of 120 (the issue's attack): the counter is one
    atomic INCR (Redis in CI's PostgreSQL pass, the process's cache in the SQLite pass), so exactly
    120 see a count within the limit, and every count from 1 to 200 is handed out once."""
    window = Window(key="test:race", limit=LIMIT, seconds=60)
    results = storm(200, lambda i: ratelimit_count(windows=[window]))
    counts = sorted(result.counts[0] for result in results)
    assert counts == list(range(1, 201))
    assert sum(not result.over([window]) for result in results) == LIMIT
    assert {result.store for result in results} == {_store()}


def test_it_counts_each_window_apart_and_says_when_it_ends():
    short = Window(key="test:short", limit=2, seconds=60)
    long = Window(key="test:long", limit=5, seconds=3600)
    for _ in range(2):
        counted = ratelimit_count(windows=[short, long])
    assert counted.counts == (2, 2)
    assert counted.over([short, long]) == []
    counted = ratelimit_count(windows=[short, long])
    assert counted.over([short, long]) == [0]
    assert 0 < counted.resets_in[0] <= 60
    assert 60 < counted.resets_in[1] <= 3600


def test_it_reads_only_the_flags_that_are_set(db):
    assert ratelimit_flags(flags=["test:a", "test:b"]) == frozenset()
    assert ratelimit_flag_set(flag="test:a", seconds=60) is True
    assert ratelimit_flag_set(flag="test:a", seconds=60) is False, "already set: not newly set"
    assert ratelimit_flags(flags=["test:a", "test:b"]) == {"test:a"}
    counted = ratelimit_count(windows=[Window("test:w", 3, 60)], flags=["test:a", "test:b"])
    assert counted.flags == {"test:a"}
    # Written to the database too, so the lockout survives the cache's Redis going away.
    assert RateLimitCounter.objects.filter(key="test:a").exists()


@pytest.mark.redis
def test_a_window_is_one_redis_round_trip_and_always_expires(count_redis_round_trips):
    window = Window(key="test:trips", limit=10, seconds=30)
    ratelimit_count(windows=[window])  # the connection's own handshake happens here
    with count_redis_round_trips() as trips:
        counted = ratelimit_count(windows=[window, Window("test:trips2", 5, 60)], flags=["x", "y"])
    assert trips == [1]
    assert counted.counts == (2, 1)
    assert counted.store == ratelimit.REDIS
    client = caches["default"]._cache.get_client(write=True)
    key = cache.make_and_validate_key("test:trips")
    assert 0 < client.ttl(key) <= 30
    # A key found without an expiry gets one back in the same round trip: none lives for ever.
    client.set(key, 7)
    assert client.ttl(key) == -1
    with count_redis_round_trips() as trips:
        assert ratelimit_count(windows=[window]).counts == (8,)
    assert trips == [1]
    assert 0 < client.ttl(key) <= 30


# --- Redis unreachable: the database counts ----------------------------------------------------


@pytest.mark.django_db
def test_it_counts_in_the_database_while_redis_is_unreachable(redis_down):
    window = Window(key="test:degraded", limit=3, seconds=60)
    results = [ratelimit_count(windows=[window], now_ms=1_000_000) for _ in range(4)]
    assert [r.store for r in results] == [ratelimit.DATABASE] * 4
    assert [r.counts[0] for r in results] == [1, 2, 3, 4]
    assert results[-1].over([window]) == [0]
    assert results[-1].resets_in == (60.0,)
    # The window ends 60 s after its first hit; then the count starts again.
    assert ratelimit_count(windows=[window], now_ms=1_059_999).counts == (5,)
    assert ratelimit_count(windows=[window], now_ms=1_060_000).counts == (1,)


@pytest.mark.django_db
def test_a_lockout_set_before_redis_went_away_still_holds(redis_down):
    ratelimit_flag_set(flag="test:locked", seconds=60)
    assert ratelimit_flags(flags=["test:locked", "test:other"]) == {"test:locked"}


@pytest.mark.django_db
def test_it_stops_asking_redis_for_a_while_after_it_failed(redis_down, monkeypatch):
    import redis

    attempts = []
    real = redis.connection.Connection.connect

    def counted(self, *args, **kwargs):
        attempts.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(redis.connection.Connection, "connect", counted)
    for _ in range(5):
        assert ratelimit_count(windows=[Window("test:b", 9, 60)]).store == ratelimit.DATABASE
    assert len(attempts) == 1
    monkeypatch.setattr(ratelimit.breaker, "_down_until", 0.0)  # the breaker's time is up
    ratelimit_count(windows=[Window("test:b", 9, 60)])
    assert len(attempts) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_database_counter_is_atomic_under_concurrency(redis_down):
    """The degraded limiter on PostgreSQL: 20 threads, 200 hits, one upsert each: exactly the limit passes."""
    window = Window(key="test:pg-race", limit=LIMIT, seconds=60)

    def hits(i: int) -> list[int]:
        return [ratelimit_count(windows=[window]).counts[0] for _ in range(10)]

    counts = sorted(c for batch in storm(20, hits) for c in batch)
    assert counts == list(range(1, 201))
    assert sum(c <= LIMIT for c in counts) == LIMIT
    assert connection.vendor == "postgresql"
