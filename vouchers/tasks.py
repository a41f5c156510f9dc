from celery import shared_task

from vouchers.services import voucher_expire_due


@shared_task(name="vouchers.expire_vouchers", acks_late=True)
def expire_vouchers() -> int:
    """Nightly (Celery beat): issued vouchers past their expiry date become expired."""
    return voucher_expire_due()


@shared_task(name="vouchers.send_voucher", acks_late=True, autoretry_for=(ConnectionError,), max_retries=3)
def send_voucher(voucher_id: int, channel: str) -> str:
    """E-mail or text a family their voucher (the e-voucher link; the PDF attached to e-mails)."""
    from vouchers.notify import voucher_send

    return voucher_send(voucher_id=voucher_id, channel=channel)
