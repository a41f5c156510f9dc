import ipaddress
import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults


def _forwarded_address(entry: str) -> str | None:
    """An address as a proxy wrote it in X-Forwarded-For, without the port some proxies add
    ("203.0.113.5:4711", "[2001:db8::5]:443"); None when it is not an address ("unknown")."""
    entry = entry.strip()
    if entry.startswith("[") and "]" in entry:
        entry = entry[1 : entry.index("]")]
    elif entry.count(":") == 1:
        entry = entry.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(entry))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The caller's address. Behind NUM_PROXIES trusted reverse proxies, read it from X-Forwarded-For
    (counting from the right, so a client cannot forge it by sending its own header); the connection's
    own address when the proxy wrote something that is not an address."""
    proxies = settings.NUM_PROXIES
    if proxies:
        forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            address = _forwarded_address(forwarded[-proxies])
            if address is not None:
                return address
    return request.META.get("REMOTE_ADDR", "")


def limit_address(address: str, *, ipv6_prefix: int = 64) -> str:
    """Who a per-address limit counts: an IPv4 address as it is; an IPv6 address by its network (a /64
    unless told), written as the network's first address: a home, a phone or a rented server is given
    at least a whole /64, so counting each address would let one client take a new address for every
    try. An IPv4 address mapped into IPv6 as the IPv4 address; anything else (no address) as it came."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{ipv6_prefix}", strict=False).network_address)
    return str(ip)


def client_limit_address(request: HttpRequest) -> str:
    """``limit_address`` of the caller: what the API's throttle for a caller not signed in and the
    code-lookup lockout count."""
    return limit_address(client_ip(request))


# A UK home line is usually given a /56 (256 /64s), a business line a /48. Sign-in failures are counted
# per user name and address, so counting a /56 as one address holds back no one else: only the same user
# name from the same line.
SIGN_IN_IPV6_PREFIX = 56


def sign_in_address(request: HttpRequest) -> str | None:
    """What django-axes counts sign-in failures by (with the user name) and records: the caller's
    address, an IPv6 caller by its /56; None when there is no address (a value axes stores as empty)."""
    return limit_address(client_ip(request), ipv6_prefix=SIGN_IN_IPV6_PREFIX) or None


def site_url(request: HttpRequest | None) -> str:
    """Where links to this site start (no trailing slash): ``SITE_URL`` when it is set, else the scheme
    and host this request came in on (already checked against ALLOWED_HOSTS), else the default."""
    if settings.SITE_URL_SET or request is None:
        return settings.SITE_URL
    return request.build_absolute_uri("/").rstrip("/")


# --- Error pages: JSON in the API's error shape under /api/, the site's pages elsewhere -----------

API_PREFIX = "/api/"
SERVER_ERROR_DETAIL = (
    "Sorry, there is a problem with the service. Nothing was half-saved: try again in a few minutes, "
    "and if it happens again, quote the request id."
)


# The database refused or dropped the connection (restarting, failing over, out of connections), or a
# statement was cancelled: a moment's trouble, not a fault in the request. The connection is closed at
# the end of the request (Django drops one that errored and is no longer usable), so the next works.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
DATABASE_UNAVAILABLE_DETAIL = (
    "The service cannot reach its database for a moment (it may be restarting). Nothing was half-saved: "
    "try again in a minute."
)
RETRY_AFTER_SECONDS = 30


def api_error_body(*, detail: str, code: str, request: HttpRequest | None) -> dict:
    """The API's error shape: a sentence a person understands, a code a program can test, and the
    request id (quoted in a report, it finds the log lines)."""
    return {"detail": detail, "code": code, "request_id": getattr(request, "id", "")}


def _error(request: HttpRequest, status: int, template: str, detail: str, code: str) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse(api_error_body(detail=detail, code=code, request=request), status=status)
    # No RequestContext, as Django's own error views: a 500 may come from a context processor.
    body = loader.get_template(template).render({"request_id": getattr(request, "id", "")})
    return HttpResponse(body, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return _error(request, 400, "", "The request could not be read.", "bad_request")
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return _error(request, 403, "", "You do not have permission to do this.", "permission_denied")
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return _error(request, 404, "", "Not found.", "not_found")
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this while handling the exception, so it is still the current one.
    if isinstance(sys.exception(), DATABASE_UNAVAILABLE):
        return database_unavailable(request)
    return _error(request, 500, "500.html", SERVER_ERROR_DETAIL, "server_error")


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: the page (or the API's JSON) that says to try again in a minute."""
    response = _error(request, 503, "503.html", DATABASE_UNAVAILABLE_DETAIL, "database_unavailable")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
