"""``Idempotency-Key`` for unsafe API calls: a retry gets the first answer, not a second effect.

The key is bound to the user, method, path and a hash of the body. A retry within 24 hours replays
the stored answer; the same key with a different request is refused (422); a retry while the first
is still running is told so (409). Server errors are not stored, so they can be retried.
"""

import datetime
import hashlib
from collections.abc import Callable
from contextlib import nullcontext
from functools import wraps

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from support.models import IdempotencyRecord

HEADER = "Idempotency-Key"
LIFETIME = datetime.timedelta(hours=24)
MAX_KEY_LENGTH = IdempotencyRecord._meta.get_field("key").max_length
MAX_PATH_LENGTH = IdempotencyRecord._meta.get_field("path").max_length


def _refuse(message: str, code: int, error_code: str) -> Response:
    return Response({"detail": message, "code": error_code}, status=code)


def idempotent(view: Callable[..., Response]) -> Callable[..., Response]:
    """Wrap a DRF view method (``def post(self, request, ...)`` or an ``@action``)."""

    @wraps(view)
    def wrapped(self, request: Request, *args, **kwargs) -> Response:
        key = request.headers.get(HEADER, "").strip()
        if not key:
            return view(self, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            return _refuse(
                f"{HEADER} is at most {MAX_KEY_LENGTH} characters.", 400, "idempotency_key_invalid"
            )
        if len(request.path) > MAX_PATH_LENGTH:
            return _refuse(
                f"{HEADER} cannot be used on a path longer than {MAX_PATH_LENGTH} characters.",
                400,
                "idempotency_key_invalid",
            )
        body_hash = hashlib.sha256(request.body).hexdigest()
        fields = {"method": request.method, "path": request.path, "body_hash": body_hash}

        record = _claim(request.user, key, fields)
        if record is None:
            record = IdempotencyRecord.objects.get(user=request.user, key=key)
            if record.created_at < timezone.now() - LIFETIME:
                # An expired record is dropped only when a claim meets it: a new key costs one statement.
                IdempotencyRecord.objects.filter(pk=record.pk).delete()
                record = _claim(request.user, key, fields) or IdempotencyRecord.objects.get(
                    user=request.user, key=key
                )
        if not getattr(record, "created_now", False):  # someone else's claim: replay or refuse
            if any(getattr(record, name) != value for name, value in fields.items()):
                return _refuse(
                    f"This {HEADER} was used for a different request. Use a new key for a new request.",
                    status.HTTP_422_UNPROCESSABLE_ENTITY,
                    "idempotency_key_reused",
                )
            if record.status_code is None:
                return _refuse(
                    "A request with this key is still being processed. Try again shortly.",
                    status.HTTP_409_CONFLICT,
                    "idempotency_in_progress",
                )
            response = Response(record.response_body, status=record.status_code)
            response["Idempotent-Replayed"] = "true"
            return response

        try:
            try:
                response = view(self, request, *args, **kwargs)
            except Exception as exc:
                # Turn a refusal (SupportError, validation error) into its response, so it is stored;
                # DRF re-raises what it cannot handle, and then nothing is stored.
                response = self.handle_exception(exc)
        except Exception:
            record.delete()
            raise
        if response.status_code >= 500:
            record.delete()
        else:
            # Handled errors (400, 409, ...) are answers too: a retry must not succeed where the first failed.
            IdempotencyRecord.objects.filter(pk=record.pk).update(
                status_code=response.status_code, response_body=response.data
            )
        return response

    return wrapped


def _claim(user, key: str, fields: dict) -> IdempotencyRecord | None:
    """Insert the key's record, or None when the key is taken. Outside a transaction the insert commits
    on its own (a BEGIN and a COMMIT fewer than an atomic block); inside one, a savepoint keeps a
    conflict from breaking the caller's transaction."""
    try:
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            record = IdempotencyRecord.objects.create(user=user, key=key, **fields)
    except IntegrityError:
        return None
    record.created_now = True
    return record
