"""Operational endpoints: ``/healthz`` for a load balancer, and the load test's bare API endpoint.

``/healthz`` answers 200 with ``{"status": "ok", "database": "ok", "broker": "ok", "cache": "ok"}``
when the database answers ``SELECT 1``, the Celery broker accepts a connection and the shared cache
answers. A part that does not answer is ``"unreachable"``:

- the database: 503, ``"status": "unavailable"``: this node cannot serve, take it out of rotation;
- the cache or the broker: still 200, ``"status": "degraded"``: the node serves on without it (the rate
  limits count in the database, background work waits in the outbox; docs/deployment.md), so a load
  balancer must not take every node out because a shared Redis is down. Alert on "degraded".

With Celery eager (no broker configured) the broker is ``"eager"``, and with no REDIS_URL the cache
is ``"local"``: both count as ok.

It needs no sign-in, says nothing more than that, never touches the session (no cookie, no session
row), is exempt from CSRF and from the HTTPS redirect (``SECURE_REDIRECT_EXEMPT``), and is cheap: one
``SELECT 1`` per request, while the broker and cache checks are bounded by a short timeout and their
result is kept for ``PROBE_CACHE_SECONDS`` in each process, so a load balancer polling every second
from several nodes does not open a broker connection per poll.
"""

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connections
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

logger = logging.getLogger(__name__)

OK, EAGER, LOCAL, UNREACHABLE = "ok", "eager", "local", "unreachable"
DEGRADED, UNAVAILABLE = "degraded", "unavailable"
PROBE_CACHE_SECONDS = 5.0
BROKER_TIMEOUT_SECONDS = 1.0

_probe_lock = threading.Lock()
_probe_results: dict[str, tuple[float, str]] = {}


def _cached(name: str, probe: Callable[[], str]) -> str:
    """``probe()``'s answer, reused for PROBE_CACHE_SECONDS in this process."""
    now = time.monotonic()
    with _probe_lock:
        hit = _probe_results.get(name)
    if hit is not None and now - hit[0] < PROBE_CACHE_SECONDS:
        return hit[1]
    result = probe()
    with _probe_lock:
        _probe_results[name] = (time.monotonic(), result)
    return result


def reset_probe_cache() -> None:
    with _probe_lock:
        _probe_results.clear()


def database_status() -> str:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.warning("healthz: the database did not answer", exc_info=True)
        return UNREACHABLE
    return OK


def _probe_broker() -> str:
    from kombu import Connection

    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
            conn.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception:
        logger.warning("healthz: the broker did not answer", exc_info=True)
        return UNREACHABLE
    return OK


def broker_status() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return EAGER
    return _cached("broker", _probe_broker)


def _probe_cache() -> str:
    from django.core.cache import cache

    try:
        cache.get("healthz:probe")
    except Exception:
        logger.warning("healthz: the cache did not answer", exc_info=True)
        return UNREACHABLE
    return OK


def cache_status() -> str:
    if "locmem" in settings.CACHES["default"]["BACKEND"]:
        return LOCAL
    return _cached("cache", _probe_cache)


@csrf_exempt
@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": database_status(), "broker": broker_status(), "cache": cache_status()}
    if checks["database"] == UNREACHABLE:
        return JsonResponse({"status": UNAVAILABLE, **checks}, status=503)
    return JsonResponse({"status": DEGRADED if UNREACHABLE in checks.values() else OK, **checks})


@extend_schema(exclude=True)
class BareView(APIView):
    """The load test's ceiling: authenticate (token or session) and return a constant, nothing else.

    Routed only when LOAD_TEST_BARE_ENDPOINT is on (bench/load.py starts its stack so); it also
    answers 404 if the setting is off, so it can never serve anything in production.
    """

    permission_classes = [IsAuthenticated]
    throttle_classes: list = []

    def initial(self, request: Request, *args, **kwargs) -> None:
        if not settings.LOAD_TEST_BARE_ENDPOINT:
            raise Http404
        super().initial(request, *args, **kwargs)

    def get(self, request: Request) -> Response:
        return Response({"ok": True})
