"""Sending background work from services without importing the task modules (which are doors)."""

from functools import cache

from celery import Task, current_app
from django.db import transaction


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

    With no broker configured (the embedded default) Celery runs the task eagerly, still after commit.
    """
    task = task_named(task_name)  # fail now, inside the use case, if the name is wrong
    transaction.on_commit(lambda: task.delay(*args))
