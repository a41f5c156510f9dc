"""The API's throttle: the user rate, and the view's scoped rate if it names one, as fixed windows
counted together in one round trip (support.ratelimit), shared by every process and web node.

It replaces DRF's UserRateThrottle and ScopedRateThrottle, which keep a list of every request's time
in the cache (one GET and one SET each, and a list that grows with the rate) and read-modify-write
it, so concurrent requests could all pass a limit. Here each request is one atomic INCR per window:
of 200 concurrent requests against a limit of 120, exactly 120 pass.

A window starts at its first request and lasts the rate's period, so a client can make at most twice
the rate across a window's end; the code-lookup lockout, not this, is what makes guessing futile.

A view may ask for flags to be read in the same round trip: ``ratelimit_flags(request)`` returns
their keys, and ``request.ratelimit_flags`` maps each to whether it is set (the lookup lockout uses
this).
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from support.http import client_limit_address
from support.ratelimit import Window, ratelimit_count


class RateThrottle(BaseThrottle):
    # Read once, as DRF's throttles do; tests and the benchmarks change the rates through the settings
    # (or by patching this attribute).
    THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES

    def __init__(self) -> None:
        self._wait: float | None = None

    def _window(self, scope: str, ident: str) -> Window | None:
        rate = self.THROTTLE_RATES.get(scope)
        if rate is None:
            return None
        limit, seconds = SimpleRateThrottle.parse_rate(self, rate)
        return Window(key=f"throttle:{scope}:{ident}", limit=limit, seconds=seconds)

    def allow_request(self, request, view) -> bool:
        user = request.user
        ident = str(user.pk) if user and user.is_authenticated else f"ip:{client_limit_address(request)}"
        scopes = ["user"]
        scope = getattr(view, "throttle_scope", None)
        if scope:
            scopes.append(scope)
        windows = [w for w in (self._window(s, ident) for s in scopes) if w is not None]
        asks = getattr(view, "ratelimit_flags", None)
        flags = list(asks(request)) if asks is not None else []
        if not windows and not flags:
            return True
        counted = ratelimit_count(windows=windows, flags=flags)
        request.ratelimit_flags = {flag: flag in counted.flags for flag in flags}
        over = counted.over(windows)
        if over:
            self._wait = max(counted.resets_in[i] for i in over)
            return False
        return True

    def wait(self) -> float | None:
        return self._wait
