from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from support.errors import SupportError


def exception_handler(exc, context):
    """Business-rule refusals become 400 (or 409 for a conflict) with the message under its field."""
    if isinstance(exc, SupportError):
        key = exc.field or "detail"
        body = {key: [exc.message] if exc.field else exc.message, "code": exc.code}
        return Response(body, status=exc.status_code or status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
