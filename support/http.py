from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The caller's address. Behind NUM_PROXIES trusted reverse proxies, read it from X-Forwarded-For
    (counting from the right, so a client cannot forge it by sending its own header)."""
    proxies = settings.NUM_PROXIES
    if proxies:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def site_url(request: HttpRequest | None) -> str:
    """Where links to this site start (no trailing slash): ``SITE_URL`` when it is set, else the scheme
    and host this request came in on (already checked against ALLOWED_HOSTS), else the default."""
    if settings.SITE_URL_SET or request is None:
        return settings.SITE_URL
    return request.build_absolute_uri("/").rstrip("/")
