from celery import shared_task


@shared_task(name="deliveries.send_message", acks_late=True, autoretry_for=(ConnectionError,), max_retries=3)
def send_message(key: str) -> str:
    """Send one recorded message to a family about its referral, at most once."""
    from deliveries.services import referral_message_send

    return referral_message_send(key=key)


@shared_task(name="deliveries.remind_before_delivery", acks_late=True)
def remind_before_delivery() -> int:
    """Daily (Celery beat): tell families whose delivery is expected tomorrow."""
    from deliveries.services import referral_remind_due

    return referral_remind_due()
