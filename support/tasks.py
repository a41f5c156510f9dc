from celery import shared_task

from support.pupil_import import pupil_import_execute


# acks_late: if a worker dies mid-import the message is redelivered; the transaction it was in
# rolled back, the upload is still queued, and the retry applies it whole.
@shared_task(name="support.apply_pupil_import", acks_late=True, reject_on_worker_lost=True)
def apply_pupil_import(upload_id: int) -> str:
    return pupil_import_execute(upload_id=upload_id)
