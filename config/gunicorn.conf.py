"""gunicorn settings for the production-like run (``bin/prod``) and for a real server.

    gunicorn -c config/gunicorn.conf.py config.wsgi

Workers: ``WEB_CONCURRENCY`` if set, else 2 × CPUs + 1 (gunicorn's own rule of thumb). The app's
sync workers spend much of each request waiting on PostgreSQL and Redis, so more processes than
cores keep the cores busy; the + 1 covers a worker that is being recycled. On a 2-core machine that
is 5 workers, about 120 MB each. A server that also runs PostgreSQL and the Celery worker, as the
one-server set-up does, can lower it with WEB_CONCURRENCY; past 2 × CPUs + 1 more workers only add
memory and context switches.

Everything is read from the environment, so the same file serves every node:
``GUNICORN_BIND`` (default 127.0.0.1:8000), ``WEB_CONCURRENCY``, ``GUNICORN_TIMEOUT`` (30 s),
``GUNICORN_ACCESS_LOG`` / ``GUNICORN_ERROR_LOG`` (default: standard output and error),
``GUNICORN_PID`` (no pid file by default).
"""

import multiprocessing
import os


def _workers() -> int:
    configured = os.environ.get("WEB_CONCURRENCY", "").strip()
    if configured:
        return max(1, int(configured))
    return 2 * multiprocessing.cpu_count() + 1


wsgi_app = "config.wsgi:application"
bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]
workers = _workers()
worker_class = "sync"
# Load the app once in the master: a broken import fails at start, not in every worker, and the
# workers share the loaded code's memory. Django opens no database connection at import time.
preload_app = True
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 2
# Recycle each worker after a few thousand requests, staggered, so slow leaks cannot grow.
max_requests = 5000
max_requests_jitter = 500
# The heartbeat file on tmpfs: a worker on a slow or busy disk is not killed as hung.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 (gunicorn's advice)
# Behind a reverse proxy on the same host; set FORWARDED_ALLOW_IPS to the proxy's address otherwise.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
proxy_allow_ips = forwarded_allow_ips

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
# The app's own log (Django's tracebacks of 500s, each with its request id) goes to standard error:
# when gunicorn writes its log to a file, daemonised or not, send the app's output into that file too,
# or every traceback is lost.
capture_output = errorlog != "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms id=%({x-request-id}o)s'
pidfile = os.environ.get("GUNICORN_PID") or None
proc_name = "trustsupport-web"
