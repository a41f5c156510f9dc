from celery import shared_task


@shared_task(name="funds.remind_due_pledges")
def remind_due_pledges() -> int:
    """Daily (Celery beat): e-mail finance about pledges overdue past the grace period, once per due date."""
    from funds.services.pledges import pledges_due_reminders

    return pledges_due_reminders()


@shared_task(name="funds.send_pledge_reminder")
def send_pledge_reminder(pledge_id: int, due: str, user_ids: list[int], as_of: str | None = None) -> int:
    """Send one pledge's reminder (queued by remind_due_pledges after its claim committed).

    ``as_of`` is the day the reminder run looked; messages queued before it existed leave it out.
    """
    import datetime

    from funds.services.pledges import pledge_reminder_send

    return pledge_reminder_send(
        pledge_id=pledge_id,
        due=datetime.date.fromisoformat(due),
        user_ids=user_ids,
        today=datetime.date.fromisoformat(as_of) if as_of else None,
    )


@shared_task(name="funds.checkpoint_funds")
def checkpoint_funds() -> int:
    """Nightly (Celery beat): each fund's totals up to its settled entries, so positions stay fast."""
    from funds.services.ledger import fund_checkpoint_all

    return fund_checkpoint_all()


@shared_task(name="funds.anonymise_gift_aid_declarations", acks_late=True, reject_on_worker_lost=True)
def anonymise_gift_aid_declarations() -> int:
    """Weekly (Celery beat): donors' Gift Aid declarations past retention lose their names and address."""
    from funds.data_rights import gift_aid_declarations_anonymise_expired

    return len(gift_aid_declarations_anonymise_expired())
