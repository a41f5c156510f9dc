"""Sending background work from services without importing the task modules (which are doors)."""

from functools import cache

from celery import Task
from django.db import transaction

from config.celery import app


@cache
def _load_task_modules() -> None:
    # Outside a worker, Celery discovers each app's tasks.py only when asked to.
    app.loader.import_default_modules()


def task_named(name: str) -> Task:
    _load_task_modules()
    return app.tasks[name]


def enqueue_on_commit(task_name: str, *args: object) -> None:
    """Send ``task_name`` once the current transaction commits; never for work that rolled back.

    With no broker configured (the embedded default) Celery runs the task eagerly, still after commit.
    """
    task = task_named(task_name)  # fail now, inside the use case, if the name is wrong
    transaction.on_commit(lambda: task.delay(*args))
