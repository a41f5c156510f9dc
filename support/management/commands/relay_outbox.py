import datetime

from django.core.management.base import BaseCommand

from support.jobs import outbox_relay
from support.models import OutboxMessage


class Command(BaseCommand):
    help = (
        "Send the background tasks that waited in the outbox while the Celery broker was unreachable "
        "(beat does this every minute; this is for when beat is not running). Safe to run again."
    )

    def handle(self, *args, **options) -> None:
        sent = outbox_relay(grace=datetime.timedelta(0))
        left = OutboxMessage.objects.count()
        self.stdout.write(f"{sent} sent, {left} still waiting")
