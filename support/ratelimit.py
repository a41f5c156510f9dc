"""Fixed-window counters and flags: the API's throttles (support.api.throttles) and the code-lookup
lockout (vouchers.lookup_guard) count here.

A window starts at its first hit and lasts ``seconds``; a hit is one atomic ``INCR``, so however many
requests race (in threads, processes or web nodes sharing the Redis), exactly ``limit`` of them see a
count within the limit. One request's counting is ONE Redis round trip, one Lua script run by
``EVALSHA``: for each window ``SET key 0 EX seconds NX`` (the window starts), ``INCR`` and ``PTTL``
(and ``EXPIRE`` if the key has no expiry, so no counter lives for ever), and ``EXISTS`` for each flag
asked about. The script is sent in full only the first time a Redis has not seen it.

Where the counts live:

- Redis (``REDIS_URL`` set): as above. If Redis does not answer, the counting moves to the database
  for ``BREAKER_SECONDS`` (then Redis is tried again): the same windows as rows of ``RateLimitCounter``,
  counted by one atomic upsert each. The limits still hold, shared by every node; what was counted in
  Redis before the outage is not carried over, so a client may get one fresh window's allowance.
- The per-process cache (no ``REDIS_URL``: the embedded default and the SQLite test pass): Django's
  cache ``add``/``incr``, atomic within the one process that serves everything.

Flags (a lockout) are written to the database always, and to Redis too when it answers: while Redis is
away, a lockout set before the outage still holds. Whether a flag was newly set is the database's
answer, so a lockout is audited once however many nodes raced to set it.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from redis.commands.core import Script

from support.breaker import Breaker
from support.models import RateLimitCounter

BREAKER_SECONDS = 10.0
PURGE_EVERY_SECONDS = 60.0

REDIS, CACHE, DATABASE = "redis", "cache", "database"


@dataclass(frozen=True)
class Window:
    """At most ``limit`` hits per ``seconds`` on ``key`` (the window starts at its first hit)."""

    key: str
    limit: int
    seconds: int


@dataclass(frozen=True)
class Counted:
    counts: tuple[int, ...]  # each window's count, this hit included
    resets_in: tuple[float, ...]  # seconds until each window ends
    flags: frozenset[str]  # the flags asked about that are set
    store: str  # REDIS, CACHE or DATABASE (DATABASE: Redis is unreachable, the limiter is degraded)

    def over(self, windows: Sequence[Window]) -> list[int]:
        """Indexes of the windows this hit went over."""
        return [i for i, window in enumerate(windows) if self.counts[i] > window.limit]


# --- Redis unreachable: a per-process breaker --------------------------------------------------

breaker = Breaker("Redis (the cache)", seconds=BREAKER_SECONDS, fallback="rate limits count in the database")
_last_purge = 0.0


def reset_breaker() -> None:
    """Try Redis again on the next hit (tests, and after a deliberate switch of cache)."""
    breaker.reset()


def _redis_backend() -> RedisCache | None:
    backend = caches["default"]
    return backend if isinstance(backend, RedisCache) else None


def _redis_errors() -> tuple[type[Exception], ...]:
    import redis

    return (redis.RedisError, OSError)


# --- The three stores ----------------------------------------------------------------------------


# Each window: start it (SET NX EX), count the hit (INCR) and read its time left (PTTL); a key found
# without an expiry gets one back. Then whether each flag is set. One EVALSHA: atomic, one packet each way,
# and one reply for redis-py to parse instead of a pipeline's seven.
_COUNT_SCRIPT = Script(
    None,
    b"""
local windows = tonumber(ARGV[1])
local out = {}
for i = 1, windows do
  local seconds = ARGV[i + 1]
  redis.call('SET', KEYS[i], 0, 'EX', seconds, 'NX')
  out[#out + 1] = redis.call('INCR', KEYS[i])
  local pttl = redis.call('PTTL', KEYS[i])
  if pttl < 0 then
    redis.call('EXPIRE', KEYS[i], seconds)
    pttl = tonumber(seconds) * 1000
  end
  out[#out + 1] = pttl
end
for i = windows + 1, #KEYS do
  out[#out + 1] = redis.call('EXISTS', KEYS[i])
end
return out
""",
)


def _redis_count(backend: RedisCache, windows: Sequence[Window], flags: Sequence[str]) -> Counted:
    client = backend._cache.get_client(write=True)
    keys = [backend.make_and_validate_key(window.key) for window in windows]
    keys += [backend.make_and_validate_key(flag) for flag in flags]
    replies = _COUNT_SCRIPT(keys=keys, args=[len(windows), *(w.seconds for w in windows)], client=client)
    n = len(windows)
    return Counted(
        counts=tuple(int(replies[2 * i]) for i in range(n)),
        resets_in=tuple(replies[2 * i + 1] / 1000 for i in range(n)),
        flags=frozenset(flag for flag, found in zip(flags, replies[2 * n :], strict=True) if found),
        store=REDIS,
    )


def _cache_count(windows: Sequence[Window], flags: Sequence[str]) -> Counted:
    counts = []
    for window in windows:
        cache.add(window.key, 0, timeout=window.seconds)
        try:
            counts.append(cache.incr(window.key))
        except ValueError:  # expired between add and incr
            cache.set(window.key, 1, timeout=window.seconds)
            counts.append(1)
    found = cache.get_many(list(flags)) if flags else {}
    return Counted(
        counts=tuple(counts),
        resets_in=tuple(float(window.seconds) for window in windows),
        flags=frozenset(flag for flag in flags if found.get(flag) is not None),
        store=CACHE,
    )


def _now_ms() -> int:
    return int(time.time() * 1000)


# One atomic statement on PostgreSQL and SQLite; every expression of SET reads the row as it was before.
_UPSERT = (
    "INSERT INTO support_ratelimitcounter (key, count, expires_ms) VALUES (%s, 1, %s) "
    "ON CONFLICT (key) DO UPDATE SET "
    "count = CASE WHEN support_ratelimitcounter.expires_ms <= %s THEN 1 "
    "ELSE support_ratelimitcounter.count + 1 END, "
    "expires_ms = CASE WHEN support_ratelimitcounter.expires_ms <= %s THEN excluded.expires_ms "
    "ELSE support_ratelimitcounter.expires_ms END "
    "RETURNING count, expires_ms"
)
assert RateLimitCounter._meta.db_table == "support_ratelimitcounter"


def _db_hit(key: str, seconds: int, now_ms: int) -> tuple[int, int]:
    """Count one hit on ``key`` in the database (atomic); its count and when its window ends."""
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT, [key, now_ms + seconds * 1000, now_ms, now_ms])
        count, expires_ms = cursor.fetchone()
    return int(count), int(expires_ms)


def _db_purge(now_ms: int) -> None:
    global _last_purge
    _last_purge = time.monotonic()
    RateLimitCounter.objects.filter(expires_ms__lte=now_ms).delete()


def _db_count(windows: Sequence[Window], flags: Sequence[str], now_ms: int) -> Counted:
    if time.monotonic() - _last_purge > PURGE_EVERY_SECONDS:
        _db_purge(now_ms)
    counts, resets = [], []
    for window in windows:
        count, expires_ms = _db_hit(window.key, window.seconds, now_ms)
        counts.append(count)
        resets.append(max(0.0, (expires_ms - now_ms) / 1000))
    return Counted(
        counts=tuple(counts),
        resets_in=tuple(resets),
        flags=_db_flags(flags, now_ms),
        store=DATABASE,
    )


def _db_flags(flags: Sequence[str], now_ms: int) -> frozenset[str]:
    if not flags:
        return frozenset()
    found = RateLimitCounter.objects.filter(key__in=list(flags), expires_ms__gt=now_ms, count__gte=1)
    return frozenset(found.values_list("key", flat=True))


# --- The use cases --------------------------------------------------------------------------------


def ratelimit_count(
    *, windows: Sequence[Window], flags: Sequence[str] = (), now_ms: int | None = None
) -> Counted:
    """Count one hit on each window and read the flags, in one round trip to the store."""
    backend = _redis_backend()
    if backend is None:
        return _cache_count(windows, flags)
    if breaker.usable():
        try:
            return _redis_count(backend, windows, flags)
        except _redis_errors() as exc:
            breaker.trip(exc)
    return _db_count(windows, flags, now_ms if now_ms is not None else _now_ms())


def ratelimit_flags(*, flags: Sequence[str], now_ms: int | None = None) -> frozenset[str]:
    """Which of ``flags`` are set."""
    return ratelimit_count(windows=(), flags=flags, now_ms=now_ms).flags


def ratelimit_flag_set(*, flag: str, seconds: int, now_ms: int | None = None) -> bool:
    """Set ``flag`` for ``seconds`` (unless it is set already). True if this call set it."""
    now_ms = now_ms if now_ms is not None else _now_ms()
    _db_purge(now_ms)  # flags are rare: a good moment to drop old rows
    count, _ = _db_hit(flag, seconds, now_ms)
    backend = _redis_backend()
    if backend is None:
        cache.add(flag, 1, timeout=seconds)
    elif breaker.usable():
        try:
            backend._cache.get_client(write=True).set(
                backend.make_and_validate_key(flag), 1, ex=seconds, nx=True
            )
        except _redis_errors() as exc:
            breaker.trip(exc)
    return count == 1
