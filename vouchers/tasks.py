from celery import shared_task

from vouchers.services import voucher_expire_due


@shared_task(name="vouchers.expire_vouchers", acks_late=True)
def expire_vouchers() -> int:
    """Nightly (Celery beat): issued vouchers past their expiry date become expired."""
    return voucher_expire_due()


@shared_task(name="vouchers.monthly_statements", acks_late=True, reject_on_worker_lost=True)
def monthly_statements(month: str | None = None) -> int:
    """Monthly (Celery beat, the 1st): last month's statement for every active partner, e-mailed.

    ``month`` ("2026-03") for a catch-up run. Idempotent: one statement per partner and month.
    """
    import datetime

    from vouchers.statements import statement_generate_monthly

    first = datetime.date.fromisoformat(f"{month}-01") if month else None
    return statement_generate_monthly(month=first)


@shared_task(name="vouchers.send_statement", acks_late=True, autoretry_for=(ConnectionError,), max_retries=3)
def send_statement(statement_id: int) -> str:
    """E-mail a partner its statement (PDF attached); a statement already sent is not sent again."""
    from vouchers.statements import statement_send

    return statement_send(statement_id=statement_id)


@shared_task(name="vouchers.send_to_family", acks_late=True, autoretry_for=(ConnectionError,), max_retries=3)
def send_to_family(send_key: str, site_url: str = "") -> str:
    """Send one recorded message to a family (its voucher, or that it was cancelled), at most once."""
    from vouchers.notify import voucher_send_deliver

    return voucher_send_deliver(key=send_key, site_url=site_url)


# Batch printing (vouchers.printing): a chord of chunk renders whose callback merges them. Both are
# idempotent, so a redelivered message (acks_late) neither renders twice into the count nor merges twice.
@shared_task(name="vouchers.print_chunk", acks_late=True, reject_on_worker_lost=True)
def print_chunk(job_id: str, index: int, voucher_ids: list[int]) -> int:
    """Render one chunk of a print job and store it; returns its page count."""
    from vouchers.printing import print_chunk_render

    return print_chunk_render(job_id=job_id, index=index, voucher_ids=voucher_ids)


@shared_task(name="vouchers.print_merge", acks_late=True, reject_on_worker_lost=True)
def print_merge(job_id: str) -> bool:
    """Merge a print job's chunks into its one PDF."""
    from vouchers.printing import print_job_merge

    return print_job_merge(job_id=job_id)
