import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from support.errors import SupportError
from support.field_messages import name_api_errors
from support.http import (
    DATABASE_UNAVAILABLE,
    DATABASE_UNAVAILABLE_DETAIL,
    RETRY_AFTER_SECONDS,
    SERVER_ERROR_DETAIL,
    api_error_body,
)

logger = logging.getLogger("django.request")


def exception_handler(exc, context):
    response = _handle(exc, context)
    request = context.get("request")
    if response is not None and request is not None:
        # An error is JSON even where the browsable API would answer a page.
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
    return response


def _handle(exc, context):
    """Every API error answers JSON with a ``detail`` a person understands.

    A business-rule refusal is a 400 (or 409 for a conflict): ``detail`` is its message, ``code`` the
    rule's machine code, and the message is also listed under its field, as DRF's validation errors
    are (a field named ``code`` or ``detail`` keeps only ``detail``, so neither overwrites the other).
    DRF's own errors keep their shape. The database unreachable (restarting) is a 503 with Retry-After.
    Anything else is a 500 in the same shape, logged with its traceback and the request id that the
    answer quotes.
    """
    if isinstance(exc, SupportError):
        body = {"detail": exc.message, "code": exc.code}
        if exc.field and exc.field not in body:
            body[exc.field] = [exc.message]
        return Response(body, status=exc.status_code or status.HTTP_400_BAD_REQUEST)
    response = drf_exception_handler(exc, context)
    if response is not None:
        if isinstance(exc, ValidationError):
            response.data = name_api_errors(response.data)
        return response
    request = context.get("request")
    django_request = getattr(request, "_request", request)
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
        body = api_error_body(
            detail=f"The body is too large: at most {limit} KB.", code="too_large", request=django_request
        )
        return Response(body, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, SuspiciousOperation):
        body = api_error_body(
            detail="The request could not be read.", code="bad_request", request=django_request
        )
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DATABASE_UNAVAILABLE):
        logger.error(
            "Service Unavailable (database): %s",
            getattr(django_request, "path", "?"),
            exc_info=exc,
            extra={"status_code": 503, "request": django_request},
        )
        body = api_error_body(
            detail=DATABASE_UNAVAILABLE_DETAIL, code="database_unavailable", request=django_request
        )
        return Response(
            body,
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    logger.error(
        "Internal Server Error: %s",
        getattr(django_request, "path", "?"),
        exc_info=exc,
        extra={"status_code": 500, "request": django_request},
    )
    body = api_error_body(detail=SERVER_ERROR_DETAIL, code="server_error", request=django_request)
    return Response(body, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
