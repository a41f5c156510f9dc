"""Limits on looking up voucher codes: a counter of misses per user and per address in the cache
(Redis in production), a lockout after too many, and an audit event when it locks.

DRF's throttles only slow a client down; this is the control that makes guessing codes futile.
With 2**80 codes and, say, a million live, one guess hits with probability about 1e-18; the lockout
caps a user at LIMIT misses per window.
"""

from django.conf import settings
from django.core.cache import cache

from support.audit import audit_record
from support.errors import SupportError


class LookupLocked(SupportError):
    status_code = 429

    def __init__(self) -> None:
        minutes = settings.VOUCHER_LOOKUP_LOCK_SECONDS // 60
        super().__init__(
            f"Too many codes that did not match. Looking up codes is paused for {minutes} minutes.",
            code="locked",
        )


def _keys(user_id: int | None, ip: str) -> list[tuple[str, int]]:
    return [
        (f"voucher-lookup:user:{user_id}", settings.VOUCHER_LOOKUP_USER_MISSES),
        (f"voucher-lookup:ip:{ip}", settings.VOUCHER_LOOKUP_IP_MISSES),
    ]


def lookup_guard_check(*, user_id: int | None, ip: str) -> None:
    """Raise LookupLocked if this user or address is locked out."""
    if any(cache.get(f"{key}:locked") for key, _ in _keys(user_id, ip)):
        raise LookupLocked()


def lookup_guard_miss(*, user, ip: str, code: str) -> None:
    """Count a lookup that matched nothing the user may redeem; lock out past the limit."""
    window = settings.VOUCHER_LOOKUP_WINDOW_SECONDS
    for key, limit in _keys(user.pk if user else None, ip):
        cache.add(key, 0, timeout=window)
        try:
            misses = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)
            misses = 1
        if misses >= limit and cache.add(f"{key}:locked", True, timeout=settings.VOUCHER_LOOKUP_LOCK_SECONDS):
            audit_record(
                actor=user,
                action="voucher.lookup_locked",
                after={"counter": key.split(":")[1], "misses": misses, "ip": ip, "last_code": code[:20]},
            )
