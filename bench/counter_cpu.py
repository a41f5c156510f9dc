"""CPU per request of the counter's check and redeem against the bare endpoint, in-process: a figure that
a busy machine does not blur.

    .venv/bin/python bench/counter_cpu.py [--requests 300] [--use-database-url] [--profile]

Each request goes through Django's WSGI handler (every middleware, DRF, token authentication, the
throttles and the lookup guard), as gunicorn would call it, with no HTTP server or client around it.
The figure is ``time.process_time()`` of this process over the requests: the Python and database-client
CPU of one request, which other processes on the machine do not change (the database server's and
Redis's own CPU is not in it). Ratio = bare CPU / endpoint CPU: the throughput the endpoint would reach
against the bare endpoint if this process's CPU were the limit (target 0.5).

On PostgreSQL it also prints, per request: the round trips to PostgreSQL (statements, and the BEGIN and
COMMIT psycopg sends by itself), the CPU of this connection's server process (read from
``/proc/<pid>/schedstat`` when the server runs on this machine), and the wall time spent waiting on
PostgreSQL and on Redis (replies included: on a busy machine, read them as upper bounds).

Run against a scratch PostgreSQL (``DATABASE_URL=… --use-database-url``) and Redis (``REDIS_URL``) to
count what production runs; without them it runs on a throwaway SQLite file and the per-process cache.
``--profile`` prints the functions with the most calls per check and per redeem (cProfile).
"""

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import UNTHROTTLED, add_database_argument, emit_result, setup_django


class _Waits:
    """Round trips to PostgreSQL and the wall time waiting on it and on Redis, counted in the client
    libraries (psycopg's BEGIN and COMMIT do not pass Django's execute wrappers)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.round_trips, self.postgres, self.redis = 0, 0.0, 0.0

    @classmethod
    def install(cls) -> "_Waits":
        from psycopg import Connection
        from psycopg.cursor import Cursor
        from redis.connection import AbstractConnection

        waits = cls()
        wait, exec_command, execute = Connection.wait, Connection._exec_command, Cursor.execute
        read_response = AbstractConnection.read_response

        def timed_wait(self, *args, **kwargs):
            started = time.perf_counter()
            try:
                return wait(self, *args, **kwargs)
            finally:
                waits.postgres += time.perf_counter() - started

        def counted_command(self, *args, **kwargs):  # BEGIN, COMMIT, ROLLBACK
            waits.round_trips += 1
            return (yield from exec_command(self, *args, **kwargs))

        def counted_execute(self, *args, **kwargs):  # one round trip, however many statements it sends
            waits.round_trips += 1
            return execute(self, *args, **kwargs)

        def timed_read(self, *args, **kwargs):
            started = time.perf_counter()
            try:
                return read_response(self, *args, **kwargs)
            finally:
                waits.redis += time.perf_counter() - started

        Connection.wait, Connection._exec_command, Cursor.execute = (
            timed_wait,
            counted_command,
            counted_execute,
        )
        AbstractConnection.read_response = timed_read
        return waits


def _server_cpu_ns() -> int | None:
    """CPU time of this connection's PostgreSQL server process, if it runs on this machine."""
    from django.db import connection

    if connection.settings_dict["HOST"] not in ("", "localhost", "127.0.0.1", "::1"):
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    except OSError:  # not this machine's process after all, or no schedstat
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3, help="each endpoint's run is repeated; the median")
    parser.add_argument("--profile", action="store_true")
    add_database_argument(parser)
    args = parser.parse_args()
    os.environ.update(UNTHROTTLED)
    os.environ["LOAD_TEST_BARE_ENDPOINT"] = "true"
    workdir = setup_django(use_database_url=args.use_database_url)  # kept: the SQLite file lives in it

    import datetime
    import uuid

    from django.contrib.auth import get_user_model
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from funds.services.ledger import fund_donation_record, standby_fund
    from support.models import Family, Membership, PartnerCharity, Role, School
    from vouchers import codes
    from vouchers.models import Voucher, VoucherType

    run = uuid.uuid4().hex[:6]
    school = School.objects.create(name=f"CPU Academy {run}", urn=str(uuid.uuid4().int)[:6], phase="primary")
    partner = PartnerCharity.objects.create(name=f"CPU Pantry {run}", address="1 Bench Street")
    user_model = get_user_model()
    finance = user_model.objects.create_user(f"cpu_finance_{run}")
    Membership.objects.create(user=finance, role=Role.FINANCE)
    fund = standby_fund()
    total = 2 * (args.requests + 2) * args.rounds + 120
    fund_donation_record(
        fund=fund,
        donor="Bench",
        amount_pence=25_00 * total,
        received_on=timezone.localdate(),
        gift_aid=False,
        actor=finance,
    )
    food = VoucherType.objects.create(
        partner=partner, service="food_parcel", name="Food", face_value_pence=2500, fund=fund
    )
    family = Family.objects.create(lead_carer_name="Bench Carer", language="ur")
    issuer = user_model.objects.create_user(f"cpu_issuer_{run}")
    counter = user_model.objects.create_user(f"cpu_counter_{run}")
    Membership.objects.create(user=counter, role=Role.CHARITY, partner=partner)
    expires = timezone.localdate() + datetime.timedelta(days=28)
    vouchers = Voucher.objects.bulk_create(
        [
            Voucher(
                code=codes.generate_code(),
                voucher_type=food,
                family=family,
                school=school,
                face_value_pence=2500,
                issued_by=issuer,
                expires_on=expires,
                referral_reason="debt",
                lead_carer_name="Bench Carer",
                household_size=2,
            )
            for _ in range(total)
        ]
    )
    # Each voucher's face value committed against the fund, as voucher_issue does: redeeming spends it.
    from funds.services.ledger import fund_spend_commit

    for voucher in vouchers:
        fund_spend_commit(
            fund=fund,
            source=voucher,
            amount_pence=2500,
            category="voucher:food_parcel",
            school=school,
            actor=issuer,
        )
    token = Token.objects.create(user=counter).key
    handler = WSGIHandler()

    def call(method: str, path: str, *, body: bytes = b"", key: str | None = None) -> int:
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_AUTHORIZATION": f"Token {token}",
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": "application/json" if body else "",
        }
        if key:
            environ["HTTP_IDEMPOTENCY_KEY"] = key
        status = []
        response = handler(environ, lambda s, h, exc_info=None: status.append(s))
        b"".join(response)
        response.close()
        return int(status[0].split()[0])

    pool = iter(vouchers)

    def requests(endpoint: str, n: int) -> list:
        if endpoint == "bare":
            return [lambda: call("GET", "/api/v1/_bare/")] * n
        batch = [next(pool) for _ in range(n)]
        if endpoint == "check":
            return [lambda v=v: call("GET", f"/api/v1/redeem/{v.code}/") for v in batch]
        return [
            lambda v=v: call("POST", f"/api/v1/redeem/{v.code}/redeem/", body=b"{}", key=f"cpu-{run}-{v.pk}")
            for v in batch
        ]

    waits = _Waits.install() if connection.vendor == "postgresql" else None

    def cpu_per_request(endpoint: str) -> tuple[float, int]:
        calls = requests(endpoint, args.requests)
        for warm in requests(endpoint, 2):  # per-process caches (content types, compiled queries)
            warm()
        statements: list[str] = []

        def count(execute, sql, params, many, context):
            statements.append(sql)
            return execute(sql, params, many, context)

        # (request_started empties connection.queries: count through a wrapper instead)
        with connection.execute_wrapper(count):
            assert calls[0]() < 300
        server = _server_cpu_ns() if waits else None
        if waits:
            waits.reset()
        started, wall = time.process_time(), time.perf_counter()
        for c in calls[1:]:
            status = c()
            assert status < 300, (endpoint, status)
        n = len(calls) - 1
        walls[endpoint].append((time.perf_counter() - wall) / n)
        if waits:
            after = _server_cpu_ns()
            details[endpoint].append(
                (
                    waits.round_trips / n,
                    None if server is None or after is None else (after - server) / n / 1e6,
                    waits.postgres / n * 1000,
                    waits.redis / n * 1000,
                )
            )
        return (time.process_time() - started) / n, len(statements)

    figures: dict[str, tuple[float, int]] = {}
    rounds: dict[str, list[float]] = {"bare": [], "check": [], "redeem": []}
    queries: dict[str, int] = {}
    # Wall time too: what is not this process's CPU is mostly waiting on PostgreSQL and Redis (and, on a
    # busy machine, on the other processes: read it as an upper bound).
    walls: dict[str, list[float]] = {"bare": [], "check": [], "redeem": []}
    details: dict[str, list[tuple]] = {"bare": [], "check": [], "redeem": []}
    for _ in range(args.rounds):
        for endpoint in rounds:
            cpu, queries[endpoint] = cpu_per_request(endpoint)
            rounds[endpoint].append(cpu)
    for endpoint, values in rounds.items():
        figures[endpoint] = (statistics.median(values), queries[endpoint])

    bare = figures["bare"][0]
    print(f"\n{connection.vendor}; {args.requests} requests × {args.rounds} rounds; CPU of this process\n")
    print(f"{'endpoint':<8} {'CPU ms/request':>15} {'SQL':>4} {'bare/endpoint':>14} {'wall ms':>8}")
    for endpoint, (cpu, n) in figures.items():
        wall = statistics.median(walls[endpoint]) * 1000
        print(f"{endpoint:<8} {cpu * 1000:>15.2f} {n:>4} {bare / cpu:>14.2f} {wall:>8.2f}")
    if waits:
        heads = ("PG round trips", "PG server CPU ms", "PG wait ms", "Redis wait ms")
        print(f"\n{'endpoint':<8} {heads[0]:>15} {heads[1]:>17} {heads[2]:>11} {heads[3]:>14}")
        for endpoint, rows in details.items():
            columns = zip(*rows, strict=True)
            trips, server, pg, redis = (None if None in c else statistics.median(c) for c in columns)
            server_text = "n/a" if server is None else f"{server:.2f}"
            print(f"{endpoint:<8} {trips:>15.1f} {server_text:>17} {pg:>11.2f} {redis:>14.2f}")
    postgres = connection.vendor == "postgresql"
    for endpoint in ("check", "redeem"):
        cpu = figures[endpoint][0]
        emit_result(
            bench="counter_cpu",
            figure=f"{endpoint}: CPU per request in-process ({connection.vendor}), bare / {endpoint}",
            value=cpu * 1000,
            unit="ms",
            baseline=bare * 1000,
            ratio=bare / cpu,
            # On SQLite every request opens its connection (CONN_MAX_AGE 0), which dominates the bare
            # figure: only PostgreSQL's run is held to the target.
            target=">= 0.5 (bare CPU / endpoint CPU), on PostgreSQL",
            passed=bare / cpu >= 0.5 if postgres else None,
            note=f"median of {args.rounds} runs of {args.requests}; {figures[endpoint][1]} SQL statements"
            + ("" if postgres else "; SQLite opens a connection per request: not the production figure"),
        )

    if args.profile:
        for endpoint in ("bare", "check", "redeem"):
            calls = requests(endpoint, 50)
            profiler = cProfile.Profile(time.process_time)  # CPU, not waiting on the database
            profiler.enable()
            for c in calls:
                c()
            profiler.disable()
            if os.environ.get("PROFILE_DUMP"):  # a pstats file per endpoint, to read further
                profiler.dump_stats(f"{os.environ['PROFILE_DUMP']}-{endpoint}.prof")
            stats = pstats.Stats(profiler)
            total_calls = stats.total_calls  # type: ignore[attr-defined]
            print(f"\n{endpoint}: {total_calls / len(calls):,.0f} calls per request; most CPU:")
            out = io.StringIO()
            order = os.environ.get("PROFILE_SORT", "cumulative")  # or tottime
            match = [os.environ["PROFILE_MATCH"]] if os.environ.get("PROFILE_MATCH") else []  # a regex
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(*match, 40)
            print(out.getvalue())
    if workdir is not None:
        workdir.cleanup()


if __name__ == "__main__":
    main()
