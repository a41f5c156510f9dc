"""Sending background work from services without importing the task modules (which are doors)."""

from django.db import transaction

from config.celery import app


def enqueue_on_commit(task_name: str, *args: object) -> None:
    """Send ``task_name`` once the current transaction commits; never for work that rolled back.

    With no broker configured (the embedded default) Celery runs the task eagerly, still after commit.
    """
    transaction.on_commit(lambda: app.tasks[task_name].delay(*args))
