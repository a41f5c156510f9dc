"""A real gunicorn for tests that need separate processes (nodes) on the test database."""

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

from django.db import connection

BASE_DIR = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def this_database_url(**query: str) -> str:
    """The URL of the database this test runs on (committed rows only: use a transactional test)."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _answers(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


@contextlib.contextmanager
def gunicorn(*, port: int, log: Path, env: dict[str, str], workers: int = 1) -> Iterator[None]:
    """gunicorn with the production settings (DEBUG off) on ``port``, the test database and this
    process's environment (REDIS_URL, CELERY_BROKER_URL), plus ``env``; stopped on leaving."""
    full_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DB_"))},
        "DATABASE_URL": this_database_url(),
        "DEBUG": "false",
        "SECRET_KEY": "test-only-" + uuid.uuid4().hex,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        **env,
    }
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", "config/gunicorn.conf.py"],
            cwd=BASE_DIR,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while not _answers(port):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.2)
            yield
        finally:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(5)
