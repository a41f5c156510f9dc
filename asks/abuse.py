"""Limits on the public ask-for-help page: per address, per school, and on the size of what is sent.

Counted with ``support.ratelimit`` (one round trip, shared by every web node). A hit past a limit is
answered with a 429 page in the asker's language that says only "try again later"; nothing about the
school's families is ever read to decide it.
"""

from django.conf import settings

from support.http import limit_address
from support.ratelimit import Window, ratelimit_count

# What one ask may weigh: the form's fields are short, so a large body is not an ask.
MAX_BODY_BYTES = 8 * 1024


def ask_windows(*, address: str, school_id: int) -> list[Window]:
    address = limit_address(address)  # an IPv6 sender by its /64
    return [
        Window(f"asks:ip:h:{address}", settings.ASKS_PER_ADDRESS_PER_HOUR, 60 * 60),
        Window(f"asks:ip:d:{address}", settings.ASKS_PER_ADDRESS_PER_DAY, 24 * 60 * 60),
        Window(f"asks:school:h:{school_id}", settings.ASKS_PER_SCHOOL_PER_HOUR, 60 * 60),
    ]


def ask_allowed(*, address: str, school_id: int) -> bool:
    """Count one ask from ``address`` to ``school_id``; False when it goes over any window."""
    windows = ask_windows(address=address, school_id=school_id)
    return not ratelimit_count(windows=windows).over(windows)
