import contextvars
import logging
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_cache_control

from support.http import API_PREFIX, api_error_body

# The id of the request being served, for log lines written anywhere while it runs.
_current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
# An id a trusted proxy sent (X-Request-ID) is kept when it looks like one; anything else is replaced.
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
REQUEST_ID_HEADER = "X-Request-ID"


class RequestIdMiddleware:
    """Gives each request an id: ``request.id``, the X-Request-ID response header, every log line
    written while it runs (``RequestIdLogFilter``) and the error page, so a user's report of an
    error ("reference 3f9c…") finds its traceback in the log. First in MIDDLEWARE."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "") if settings.NUM_PROXIES else ""
        request.id = incoming if _INCOMING_ID.fullmatch(incoming) else uuid.uuid4().hex[:16]
        token = _current_request_id.set(request.id)
        try:
            response = self.get_response(request)
        finally:
            _current_request_id.reset(token)
        response.headers.setdefault(REQUEST_ID_HEADER, request.id)
        return response


def current_request_id() -> str:
    """The id of the request this thread is serving, or "-" outside a request."""
    return _current_request_id.get()


class RequestIdLogFilter(logging.Filter):
    """Adds ``request_id`` to every log record (settings.LOGGING's formatter prints it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "id", None) or current_request_id()
        return True


def _refuse(request: HttpRequest, status: int, message: str, code: str) -> HttpResponse:
    """A request refused before any view: the API's error shape under /api/, plain text elsewhere."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse(api_error_body(detail=message, code=code, request=request), status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


class RequestSizeLimitMiddleware:
    """Refuses a body over MAX_REQUEST_BYTES (the largest pupil CSV upload and its form) before any of
    it is read: 413. Django's DATA_UPLOAD_MAX_MEMORY_SIZE caps the non-file part of each request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BYTES:
            message = f"The request is too large: at most {settings.MAX_REQUEST_BYTES // (1024 * 1024)} MB."
            return _refuse(request, 413, message, "too_large")
        return self.get_response(request)


class NullCharacterMiddleware:
    """Refuses a query string holding a null character (``%00``): 400. No field can hold one, and
    PostgreSQL refuses it in any text comparison, so a filter that passes it on (the admin's lookups
    from the query string, say) would answer 500. One check here covers every door."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in "".join(f"{key}{value}" for key, values in request.GET.lists() for value in values):
            message = "The address holds a null character (%00), which no field can hold: remove it."
            return _refuse(request, 400, message, "invalid")
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Adds the Content-Security-Policy header (no inline scripts, nothing from other origins)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class NoStoreMiddleware:
    """Marks every page and API answer ``Cache-Control: private, no-store`` unless its view said
    otherwise: almost every one holds personal data (a family, a donor's home address), and neither a
    shared staff-room computer's back button nor a proxy may keep it after sign-out. Static files are
    served (cacheable) by WhiteNoise before this runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response
