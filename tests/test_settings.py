import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list

ROOT = Path(__file__).resolve().parent.parent


def test_it_reads_typed_values(monkeypatch):
    monkeypatch.setenv("X_BOOL", "yes")
    monkeypatch.setenv("X_INT", "42")
    monkeypatch.setenv("X_LIST", "a, b,,c")
    assert env_bool("X_BOOL") is True
    assert env_int("X_INT", 1) == 42
    assert env_list("X_LIST", []) == ["a", "b", "c"]


def test_it_fails_loudly_on_bad_values(monkeypatch):
    monkeypatch.setenv("X_BOOL", "perhaps")
    monkeypatch.setenv("X_INT", "ten")
    with pytest.raises(ImproperlyConfigured, match="X_BOOL"):
        env_bool("X_BOOL")
    with pytest.raises(ImproperlyConfigured, match="X_INT"):
        env_int("X_INT", 1)


def _settings_with(**env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")
    }
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER, "
            "settings.DEBUG)",
        ],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_it_runs_on_the_embedded_default_with_no_environment():
    result = _settings_with()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True", "True"]


def test_it_refuses_production_without_a_secret_key():
    result = _settings_with(DEBUG="false", ALLOWED_HOSTS="trust.example")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_it_switches_to_postgresql_and_a_broker_from_the_environment():
    result = _settings_with(
        DATABASE_URL="postgres://u@db.example:5432/trust", CELERY_BROKER_URL="redis://127.0.0.1:6379/0"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "False", "True"]


def test_it_warns_when_real_workers_would_not_share_the_cache(settings):
    from support.checks import shared_cache_check

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [w.id for w in shared_cache_check(None)] == ["support.W002"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "x"}}
    assert shared_cache_check(None) == []


def test_every_routed_and_scheduled_task_exists():
    """A route or a beat entry naming a task no app defines would send work nowhere, silently."""
    from celery import current_app
    from django.conf import settings

    from support.jobs import task_named

    task_named("support.send_email")  # loads every app's tasks module
    named = set(settings.CELERY_TASK_ROUTES) | {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert named - set(current_app.tasks) == set()
