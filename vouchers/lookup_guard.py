"""Limits on looking up voucher codes: a counter of misses per user and per address (support.ratelimit:
Redis in production, the database while Redis is unreachable), a lockout after too many, and an audit
event when it locks. A window of misses starts at the first miss; the lockout lasts its own time.

DRF's throttles only slow a client down; this is the control that makes guessing codes futile.
With 2**80 codes and, say, a million live, one guess hits with probability about 1e-18; the lockout
caps a user at LIMIT misses per window.
"""

from collections.abc import Mapping

from django.conf import settings

from support.audit import audit_record
from support.errors import SupportError
from support.http import limit_address
from support.ratelimit import Window, ratelimit_count, ratelimit_flag_set, ratelimit_flags


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
        # An IPv6 caller by its /64: one client holds the whole network, so its every address is one.
        (f"voucher-lookup:ip:{limit_address(ip)}", settings.VOUCHER_LOOKUP_IP_MISSES),
    ]


def lookup_guard_flags(*, user_id: int | None, ip: str) -> list[str]:
    """The lockout flags for this user and address (read with the API's throttles, in one round trip)."""
    return [f"{key}:locked" for key, _ in _keys(user_id, ip)]


def lookup_guard_check(*, user_id: int | None, ip: str, known: Mapping[str, bool] | None = None) -> None:
    """Raise LookupLocked if this user or address is locked out.

    ``known``: the flags already read in this request (``request.ratelimit_flags``); read here if absent.
    """
    flags = lookup_guard_flags(user_id=user_id, ip=ip)
    if known is None or any(flag not in known for flag in flags):
        locked = ratelimit_flags(flags=flags)
    else:
        locked = {flag for flag in flags if known[flag]}
    if locked:
        raise LookupLocked()


def lookup_guard_miss(*, user, ip: str, code: str) -> None:
    """Count a lookup that matched nothing the user may redeem; lock out past the limit."""
    keys = _keys(user.pk if user else None, ip)
    window = settings.VOUCHER_LOOKUP_WINDOW_SECONDS
    counted = ratelimit_count(windows=[Window(key=key, limit=limit, seconds=window) for key, limit in keys])
    for (key, limit), misses in zip(keys, counted.counts, strict=True):
        if misses >= limit and ratelimit_flag_set(
            flag=f"{key}:locked", seconds=settings.VOUCHER_LOOKUP_LOCK_SECONDS
        ):
            audit_record(
                actor=user,
                action="voucher.lookup_locked",
                after={"counter": key.split(":")[1], "misses": misses, "ip": ip, "last_code": code[:20]},
            )
