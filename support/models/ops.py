"""Rows that keep the service going while a shared service is away: the rate-limit counters used
when the cache's Redis is unreachable, and the outbox of background work not yet handed to Celery."""

from django.db import models


class RateLimitCounter(models.Model):
    """A fixed-window counter or a flag (a lockout) kept in the database (support.ratelimit).

    Counters live here only while Redis is unreachable; lockouts are written here always, so a
    lockout holds through an outage. ``expires_ms`` is milliseconds since the epoch.
    """

    key = models.CharField(max_length=250, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_ms = models.BigIntegerField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key} = {self.count}"


class OutboxMessage(models.Model):
    """A Celery task to send, written in the same transaction as the work that asks for it.

    Sent right after commit when the broker answers (and the row deleted); otherwise kept until the
    relay (``support.relay_outbox``, every minute, or ``manage.py relay_outbox``) sends it.
    """

    task_name = models.CharField(max_length=100)
    args = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"{self.task_name} #{self.pk}"
