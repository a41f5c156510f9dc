from celery import shared_task
from django.core.mail import send_mail

from support.pupil_import import pupil_import_execute


# acks_late: if a worker dies mid-import the message is redelivered; the transaction it was in
# rolled back, the upload is still queued, and the retry applies it whole.
@shared_task(name="support.apply_pupil_import", acks_late=True, reject_on_worker_lost=True)
def apply_pupil_import(upload_id: int) -> str:
    return pupil_import_execute(upload_id=upload_id)


@shared_task(name="support.send_email", acks_late=True, reject_on_worker_lost=True)
def send_email(to: list[str], subject: str, body: str) -> int:
    """One plain-text e-mail through Django's mail backend (sent by services after commit)."""
    return send_mail(subject, body, None, to)


@shared_task(name="support.anonymise_expired", acks_late=True, reject_on_worker_lost=True)
def anonymise_expired() -> dict:
    """Weekly (Celery beat): anonymise families past retention. Idempotent: a retry skips what is done."""
    from support.data_rights import anonymise_expired as run

    _, result = run()
    return result.counts()


@shared_task(name="support.tidy_search_names")
def tidy_search_names() -> dict:
    """Nightly (Celery beat): the search's distinct names brought to the names the families bear now, so
    a name no family held bears any longer is not kept (idempotent)."""
    from support.search import search_names_tidy

    removed, added = search_names_tidy()
    return {"removed": removed, "added": added}


@shared_task(name="support.purge_pupil_uploads")
def purge_pupil_uploads() -> dict:
    """Nightly (Celery beat): delete uploaded pupil files no longer needed (idempotent)."""
    from support.upload_retention import pupil_uploads_purge

    return pupil_uploads_purge()


@shared_task(name="support.relay_outbox")
def relay_outbox() -> int:
    """Every minute (Celery beat): send the tasks that waited in the outbox while the broker was down."""
    from support.jobs import outbox_relay

    return outbox_relay()
