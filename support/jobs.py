"""Sending background work from services without importing the task modules (which are doors), through
an outbox so that a request whose work is queued succeeds even while the Celery broker is down.

``enqueue_on_commit`` writes an ``OutboxMessage`` row in the caller's transaction, so the work to send
commits (or rolls back) with the change that asks for it. Right after the commit the task is sent and
the row deleted. If the broker does not answer, the row stays, the request goes on, and the relay
(``support.relay_outbox`` from Celery beat every minute, or ``manage.py relay_outbox``) sends it once
the broker is back. Beat itself needs the broker, so the relay runs exactly when sending can work.

A message may be sent twice (the relay and the commit's send can both see a row in a crash); tasks
take ids and are idempotent, so that is harmless. With Celery eager (no broker: the embedded default)
there is no broker to be down, and the task runs in-process after the commit, as before.
"""

import datetime
import logging
from functools import cache

from celery import Task, current_app
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from support.breaker import Breaker
from support.models import OutboxMessage

logger = logging.getLogger(__name__)

# The relay leaves a message this long to the send right after its commit.
RELAY_GRACE = datetime.timedelta(seconds=30)
RELAY_BATCH = 500
# Fail at once if the broker refuses: the message waits in the outbox (kombu's own retries would hold
# the request for seconds, and redis-py's for longer still with retry=False).
PUBLISH_OPTIONS = {"retry": True, "retry_policy": {"max_retries": 0}}

broker = Breaker("The Celery broker", seconds=10.0, fallback="tasks wait in the outbox")


@cache
def _load_task_modules() -> None:
    # Outside a worker, Celery discovers each app's tasks.py only when asked to. The project's Celery app
    # is the current one (the settings package makes it so); apps never import config.
    current_app.loader.import_default_modules()


def task_named(name: str) -> Task:
    _load_task_modules()
    return current_app.tasks[name]


def enqueue_on_commit(task_name: str, *args: object) -> None:
    """Send ``task_name`` once the current transaction commits; never for work that rolled back.

    The arguments must be JSON (ids, strings): they are stored in the outbox until sent.
    """
    task = task_named(task_name)  # fail now, inside the use case, if the name is wrong
    if current_app.conf.task_always_eager:
        transaction.on_commit(lambda: task.delay(*args))
        return
    message = OutboxMessage.objects.create(task_name=task_name, args=list(args))
    transaction.on_commit(lambda: _send_now(message.pk, task, list(args)))


def _record_failure(message_id: int, exc: BaseException) -> None:
    OutboxMessage.objects.filter(pk=message_id).update(
        attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:300]
    )


def _send_now(message_id: int, task: Task, args: list) -> None:
    if not broker.usable():
        return  # the broker failed moments ago: the relay sends it
    try:
        task.apply_async(args=args, **PUBLISH_OPTIONS)
    except Exception as exc:  # anything the broker says: the message stays for the relay
        broker.trip(exc)
        _record_failure(message_id, exc)
        return
    OutboxMessage.objects.filter(pk=message_id).delete()


def outbox_relay(*, grace: datetime.timedelta = RELAY_GRACE, now: datetime.datetime | None = None) -> int:
    """Send the outbox's messages older than ``grace``, oldest first; stop at the first broker failure.

    Returns how many were sent. Each sent message's row is deleted in the same transaction that locked
    it, so two relays running at once (skip_locked, on PostgreSQL) never send one message twice.
    """
    now = now or timezone.now()
    sent = 0
    with transaction.atomic():
        due = OutboxMessage.objects.filter(created_at__lte=now - grace).order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        for message in due[:RELAY_BATCH]:
            try:
                task = task_named(message.task_name)
            except KeyError as exc:  # a task this version no longer has: keep it, say so, go on
                logger.error("outbox: no task named %s (message %s)", message.task_name, message.pk)
                _record_failure(message.pk, exc)
                continue
            try:
                task.apply_async(args=message.args, **PUBLISH_OPTIONS)
            except Exception as exc:
                logger.warning("outbox: the broker is still unreachable (%s); %s sent", exc, sent)
                _record_failure(message.pk, exc)
                break
            message.delete()
            sent += 1
    if sent:
        broker.reset()
        logger.info("outbox: sent %s waiting task(s)", sent)
    return sent
