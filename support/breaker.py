"""A per-process circuit breaker for a shared service that stopped answering (Redis, the broker).

After a failure, callers skip the service for ``seconds`` and take their fallback at once, rather than
each request waiting for a refused or timed-out connection. Then the next call tries it again.
"""

import logging
import threading
import time

logger = logging.getLogger(__name__)


class Breaker:
    def __init__(self, name: str, *, seconds: float, fallback: str) -> None:
        self.name, self.seconds, self.fallback = name, seconds, fallback
        self._lock = threading.Lock()
        self._down_until = 0.0

    def usable(self) -> bool:
        return time.monotonic() >= self._down_until

    def trip(self, exc: BaseException) -> None:
        with self._lock:
            first = time.monotonic() >= self._down_until
            self._down_until = time.monotonic() + self.seconds
        if first:  # one log line per outage and process, not one per request
            logger.warning(
                "%s did not answer (%s: %s); %s for %ss",
                self.name,
                type(exc).__name__,
                exc,
                self.fallback,
                self.seconds,
            )

    def reset(self) -> None:
        with self._lock:
            self._down_until = 0.0
