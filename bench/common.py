"""Start Django for a benchmark: on a throwaway SQLite file unless a scratch DATABASE_URL is allowed."""

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
