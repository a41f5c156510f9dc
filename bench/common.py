"""Start Django for a benchmark: on a throwaway SQLite file unless a scratch DATABASE_URL is allowed."""

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The API throttles raised out of the way, for benchmarks that measure the code path, not the limit
# (bench/redeem.py sets them itself; bench/report.py and bench/load.py pass them to what they start).
UNTHROTTLED = {"API_USER_RATE": "100000000/hour", "API_VOUCHER_LOOKUP_RATE": "100000000/hour"}


def add_database_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--use-database-url",
        action="store_true",
        help="run against the database DATABASE_URL names (it is written to, permanently)",
    )


def setup_django(*, use_database_url: bool) -> tempfile.TemporaryDirectory | None:
    """Configure and start Django on a throwaway database, migrated. Returns the temp dir to clean up."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    workdir = None
    if not os.environ.get("DATABASE_URL"):
        workdir = tempfile.TemporaryDirectory(prefix="trustsupport-bench-")
        os.environ["SQLITE_PATH"] = str(Path(workdir.name) / "bench.sqlite3")
    elif not use_database_url:
        sys.exit(
            "DATABASE_URL is set. This benchmark writes rows and audit events (which cannot be deleted) into "
            "that database: unset DATABASE_URL to use a throwaway SQLite file, or pass --use-database-url "
            "if it is a scratch database."
        )

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    # As in production: DEBUG on would make Django keep the text of every query it runs.
    settings.DEBUG = False
    call_command("migrate", verbosity=0, interactive=False)
    return workdir


# --- Machine-readable results ---------------------------------------------------------------------
# Each benchmark ends with one line per figure it measured:
#
#   BENCH_RESULT {"bench": "redeem", "figure": "...", "value": 812.0, "unit": "req/s",
#                 "baseline": 1650.0, "ratio": 0.49, "target": ">= 0.5 of the baseline", "pass": false}
#
# (one line, compact JSON after the prefix). bench/report.py runs every benchmark and collects these
# lines into bench/RESULTS.md; the human-readable tables above them stay as they were.
RESULT_PREFIX = "BENCH_RESULT "


def emit_result(
    *,
    bench: str,
    figure: str,
    value: float,
    unit: str,
    baseline: float | None = None,
    ratio: float | None = None,
    target: str = "",
    passed: bool | None = None,
    note: str = "",
) -> dict:
    """Print one figure as a ``BENCH_RESULT`` line. ``ratio`` defaults to value / baseline."""
    import json

    if ratio is None and baseline:
        ratio = value / baseline
    record = {
        "bench": bench,
        "figure": figure,
        "value": round(float(value), 4),
        "unit": unit,
        "baseline": None if baseline is None else round(float(baseline), 4),
        "ratio": None if ratio is None else round(float(ratio), 4),
        "target": target,
        "pass": passed,
        "note": note,
    }
    print(RESULT_PREFIX + json.dumps(record, ensure_ascii=False), flush=True)
    return record


def backend_cpu_s(backend_pid: int) -> float | None:
    """CPU seconds the PostgreSQL backend has used (user + system), when the server runs on this machine:
    a figure the other engineers' load does not inflate as it does wall time (in ticks of 10 ms: read it
    over many statements)."""
    import os
    from pathlib import Path

    try:
        fields = Path(f"/proc/{backend_pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
