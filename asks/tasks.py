from celery import shared_task


@shared_task(name="asks.send_reply", acks_late=True, reject_on_worker_lost=True)
def send_reply(ask_id: int, channel: str) -> bool:
    """A lead's reply to an ask, to the family's allowed contact (sent by ``ask_reply`` after commit)."""
    from asks.services import ask_reply_send

    return ask_reply_send(ask_id=ask_id, channel=channel)


@shared_task(name="asks.purge_asks", acks_late=True, reject_on_worker_lost=True)
def purge_asks() -> int:
    """Nightly (Celery beat): delete asks older than ASKS_RETENTION_DAYS (idempotent)."""
    from asks.services import asks_purge

    return asks_purge()
