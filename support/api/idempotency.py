"""``Idempotency-Key`` for unsafe API calls: a retry gets the first answer, not a second effect.

The key is bound to the user, method, path and a hash of the body. A retry within 24 hours replays
the stored answer; the same key with a different request is refused (422); a retry while the first
is still running is told so (409). Server errors are not stored, so they can be retried.
"""

import datetime
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from support.hot_queries import hot_cursor
from support.models import IdempotencyRecord

HEADER = "Idempotency-Key"
LIFETIME = datetime.timedelta(hours=24)
MAX_KEY_LENGTH = IdempotencyRecord._meta.get_field("key").max_length
MAX_PATH_LENGTH = IdempotencyRecord._meta.get_field("path").max_length


def _refuse(message: str, code: int, error_code: str) -> Response:
    return Response({"detail": message, "code": error_code}, status=code)


_ANSWER_SQL = (
    'kept_answer AS (UPDATE "{table}" SET status_code = %(answer_status)s, response_body = %(answer_body)s '
    "WHERE id = %(answer_record)s AND EXISTS (SELECT 1 FROM {after}) RETURNING id)"
)


@dataclass
class Answer:
    """A request's answer, for a view whose work is one statement that writes it too
    (``@idempotent(answer_with_work=True)``): the service builds ``body`` from what it is about to write
    (``build``), and, when the request has a key, writes it to the claimed record in the same statement
    (``cte``), so the work and its answer commit together with no transaction around them: no
    BEGIN, no separate UPDATE and no COMMIT, three round trips fewer."""

    status_code: int
    build: Callable[[Any], Any]
    record_id: int | None = None  # the claimed record; None: no key, nothing to keep
    body: Any = None
    kept: bool = False  # the statement wrote the answer (its work was done)

    def render(self, result: Any) -> Any:
        self.body = self.build(result)
        return self.body

    def params(self) -> dict:
        """The parameters of ``cte``."""
        keep = self.record_id is not None
        return {
            "answer_record": self.record_id,
            "answer_status": self.status_code,
            "answer_body": _BODY.get_db_prep_value(self.body, connection, prepared=False) if keep else None,
        }

    def cte(self, *, after: str) -> str:
        """A data-modifying CTE, ``kept_answer``, that writes the answer to its record if the CTE named
        ``after`` returned a row (the work was done); its parameters are ``params()``."""
        return _ANSWER_SQL.format(table=IdempotencyRecord._meta.db_table, after=after)

    def keep(self) -> None:
        """Write the answer now, inside the caller's transaction (a path that is not one statement)."""
        if self.record_id is not None:
            _store(self.record_id, self.status_code, self.body)
            self.kept = True


def answer_for(request: Request, *, status_code: int, build: Callable[[Any], Any]) -> Answer:
    """The answer a service writes with its work (see ``Answer``); without a key it is only built."""
    answer = Answer(status_code, build, record_id=getattr(request, "idempotency_record_id", None))
    request.idempotency_answer = answer  # read back by @idempotent: was it written with the work?
    return answer


def idempotent(
    view: Callable[..., Response] | None = None, *, answer_with_work: bool = False
) -> Callable[..., Response]:
    """Wrap a DRF view method (``def post(self, request, ...)`` or an ``@action``).

    ``answer_with_work``: the view's work is one statement that also writes its answer (``Answer``), so
    no transaction is opened around the view; an answer that was not written with work (a refusal, which
    did none) is stored after it, as for any view."""
    if view is None:
        return lambda view: idempotent(view, answer_with_work=answer_with_work)

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

        if answer_with_work:
            request.idempotency_record_id = record.pk
            try:
                response = _answer(self, view, request, args, kwargs)
            except Exception:
                if not _kept(request):
                    record.delete()
                raise
            if _kept(request):
                # Written with the work, in its statement: a retry gets it (even if this request then failed).
                return response
            if response.status_code < 500:
                _store(record.pk, response.status_code, response.data)
            else:
                record.delete()
            return response
        try:
            # The work and its stored answer commit together: one wait for the disk, not two.
            with transaction.atomic():
                response = _answer(self, view, request, args, kwargs)
                if response.status_code < 500:
                    # Handled errors (400, 409, ...) are answers too: a retry must not succeed where the
                    # first failed.
                    _store(record.pk, response.status_code, response.data)
                else:
                    # A server error keeps no answer, so it keeps no work either: the key is freed below and
                    # a retry must find nothing done (the exception handler answers 500/503 without raising).
                    transaction.set_rollback(True)
        except Exception:
            record.delete()
            raise
        if response.status_code >= 500:
            record.delete()
        return response

    return wrapped


def _kept(request: Request) -> bool:
    answer = getattr(request, "idempotency_answer", None)
    return answer is not None and answer.kept


def _answer(self, view: Callable[..., Response], request: Request, args, kwargs) -> Response:
    try:
        return view(self, request, *args, **kwargs)
    except Exception as exc:
        # Turn a refusal (SupportError, validation error) into its response, so it is stored; DRF re-raises
        # what it cannot handle, and then nothing is stored.
        return self.handle_exception(exc)


# The two writes of every keyed request, in SQL written once here rather than compiled by the ORM per
# request (a third of the bookkeeping's CPU); the values go through the fields' own conversions.
_BODY = IdempotencyRecord._meta.get_field("response_body")
_CLAIM = (
    'INSERT INTO "{table}" (user_id, "key", method, path, body_hash, created_at) '
    'VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (user_id, "key") DO NOTHING RETURNING id'
)
# The same insert, committing without waiting for the disk: set_config(..., true) is SET LOCAL, and the
# statement is its own transaction, so the setting holds for its commit alone. One statement (not "SET
# LOCAL ...; INSERT ..."), so it can be prepared (support.hot_queries.hot_cursor).
_UNFLUSHED_CLAIM = (
    'INSERT INTO "{table}" (user_id, "key", method, path, body_hash, created_at) '
    "SELECT %s, %s, %s, %s, %s, %s FROM (SELECT set_config('synchronous_commit', 'off', true)) AS unflushed "
    'ON CONFLICT (user_id, "key") DO NOTHING RETURNING id'
)
_STORE = 'UPDATE "{table}" SET status_code = %s, response_body = %s WHERE id = %s'
_CLAIM_SQL, _UNFLUSHED_CLAIM_SQL, _STORE_SQL = (
    sql.format(table=IdempotencyRecord._meta.db_table) for sql in (_CLAIM, _UNFLUSHED_CLAIM, _STORE)
)


def _claim(user, key: str, fields: dict) -> IdempotencyRecord | None:
    """Insert the key's record, or None when the key is taken. ``ON CONFLICT DO NOTHING`` (PostgreSQL and
    SQLite alike) answers a taken key without an error, so no savepoint is needed inside a transaction;
    outside one the insert commits on its own (no BEGIN and COMMIT).

    On PostgreSQL, outside a transaction, that commit does not wait for the disk (``synchronous_commit``
    off for it alone): other requests see the claim at once, and the request's own work commits later,
    synchronously, which writes the claim to disk with it. A crash can lose the claim only with everything
    after it, so a retry then starts afresh, as it should. (A flush costs about 0.1 ms on the bench's disk;
    on a slower one it is a request's wait saved.)"""
    now = timezone.now()
    unflushed = connection.vendor == "postgresql" and not connection.in_atomic_block
    with hot_cursor() as cursor:
        cursor.execute(
            _UNFLUSHED_CLAIM_SQL if unflushed else _CLAIM_SQL,
            [
                user.pk,
                key,
                fields["method"],
                fields["path"],
                fields["body_hash"],
                connection.ops.adapt_datetimefield_value(now),
            ],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    record = IdempotencyRecord(pk=row[0], user=user, key=key, created_at=now, **fields)
    record._state.adding, record._state.db = False, connection.alias
    record.created_now = True
    return record


def _store(pk: int, status_code: int, body) -> None:
    """Keep the answer for retries."""
    with connection.cursor() as cursor:
        cursor.execute(
            _STORE_SQL,
            [status_code, _BODY.get_db_prep_value(body, connection, prepared=False), pk],
        )
