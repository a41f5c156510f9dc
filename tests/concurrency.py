"""Thread storms for the PostgreSQL-only race tests: every thread starts at the same moment."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def storm(n: int, call: Callable[[int], Any]) -> list[Any]:
    """Run ``call(0) .. call(n - 1)`` in ``n`` threads released together; their results, in order.

    Each thread uses (and closes) its own database connection, so the calls really race in the database.
    """
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = call(i)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
