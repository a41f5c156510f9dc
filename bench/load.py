"""Load test of the busy API paths against the production-like run, on loopback only.

    .venv/bin/python bench/load.py [--levels 1,8,32,64] [--requests 400] [--seconds 12]
                                   [--families 100000] [--vouchers 500000] [--profile ENDPOINT]

1. The scaled demo trust (bench/scale.py: 100,000 families, 500,000 vouchers), built once and reused.
2. ``bin/prod start`` with PROD_NAME=load on 127.0.0.1:--port against it: gunicorn (2 × CPUs + 1 sync
   workers), a Celery worker and beat, Redis databases 14 and 15 of 127.0.0.1 (broker, cache) so
   nothing mixes with another stack, LOAD_TEST_BARE_ENDPOINT on, the API throttles raised out of
   the way (their Redis round trips still run on every request).
3. A bounded asyncio client (aiohttp; token authentication, as a partner's system or a script would
   use) drives each endpoint alone, at each concurrency level, until --requests requests or
   --seconds seconds, whichever comes first:
     bare    GET  /api/v1/_bare/                  authenticate, return a constant: the stack's ceiling
     check   GET  /api/v1/redeem/{code}/          charity staff check a fresh voucher
     redeem  POST /api/v1/redeem/{code}/redeem/   charity staff redeem it: every request a distinct one
     search  GET  /api/v1/families/?q=...         pastoral staff search by surname or postcode
     issue   POST /api/v1/vouchers/               a pastoral lead issues a food voucher (each to a
                                                  different family, under the family's limit)
4. Prints per endpoint and level: req/s, p50/p95/p99 ms, errors, and throughput and p99 against the
   bare endpoint's at the same level. Targets: check and redeem ≥ 0.5 × bare throughput and p99 under
   10 × bare p99; zero errors everywhere; zero double redemptions (checked in the database after).
5. ``bin/prod stop`` at the end, also after an error or Ctrl+C.

--profile ENDPOINT samples the gunicorn workers with py-spy while ENDPOINT runs at 8 clients and prints
the project's functions that took the most samples (raw stacks in bench/out/profile-ENDPOINT.txt).
The client runs on the same machine and takes CPU from the server, equally per request for every
endpoint: on 2 cores the ratios are what to read, not the absolute figures.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import math
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

from bench.common import UNTHROTTLED, emit_result  # noqa: E402
from bench.scale import ensure_scaled_database, server_url  # noqa: E402

ENDPOINTS = ("bare", "check", "redeem", "search", "issue")
TARGETED = ("check", "redeem")  # the redeem endpoints, held to the bare endpoint's figures
PROD_NAME = "load"
OUT = ROOT / "bench" / "out"
PROJECT_DIRS = ("support/", "vouchers/", "uniform/", "config/", "funds/")
# The environment as given, before this process set up its own Django: the stack gets this one.
GIVEN_ENV = dict(os.environ)


@dataclass
class Run:
    endpoint: str
    clients: int
    latencies: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    wall: float = 0.0
    redeemed: list[str] = field(default_factory=list)

    @property
    def done(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.done / self.wall if self.wall else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] * 1000


# --- The stack ---------------------------------------------------------------------------------------


def stack_env(url: str, port: int, workers: int | None) -> dict[str, str]:
    redis = os.environ.get("LOAD_REDIS", "redis://127.0.0.1:6379")
    env = {
        **GIVEN_ENV,
        "PROD_NAME": PROD_NAME,
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": f"{redis}/14",
        "REDIS_URL": f"{redis}/15",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOAD_TEST_BARE_ENDPOINT": "true",
        **UNTHROTTLED,
        "SEED_DEMO": "no",
        "CELERY_CONCURRENCY": os.environ.get("CELERY_CONCURRENCY", "1"),
    }
    env.pop("SITE_URL", None)
    if workers:
        env["WEB_CONCURRENCY"] = str(workers)
    return env


def prod(command: str, env: dict[str, str]) -> None:
    subprocess.run([str(ROOT / "bin" / "prod"), command], env=env, check=True, cwd=ROOT)


def flush_cache_db(env: dict[str, str]) -> None:
    """Empty the load stack's own Redis databases: no throttle counters or locks from a previous run."""
    for url in (env["CELERY_BROKER_URL"], env["REDIS_URL"]):
        subprocess.run(["redis-cli", "-u", url, "FLUSHDB"], check=False, capture_output=True)


# --- The data each endpoint needs (read with Django, in this process) ---------------------------------


@dataclass
class Plan:
    charity_token: str
    pastoral_token: str
    lead_token: str
    check_codes: list[str]
    redeem_codes: list[str]
    search_terms: list[str]
    issue_bodies: list[dict]


def make_plan(url: str, *, redeems: int, issues: int, seed: int) -> Plan:
    os.environ.update({"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings"})
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    os.environ.setdefault("SECRET_KEY", "bench-load-client-only")
    for name in ("CELERY_BROKER_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    import django

    django.setup()

    from support.fund import fund_checkpoint_all

    # What the nightly beat task (support.checkpoint_funds) keeps up to date in production.
    fund_checkpoint_all(settled_after=datetime.timedelta(0))
    from django.contrib.auth import get_user_model
    from django.db.models import Count, Q
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from support.demo import SURNAMES
    from support.models import Family, Policy, Pupil
    from support.scopes import scope_for
    from vouchers.models import Voucher, VoucherType

    users = get_user_model().objects
    charity, pastoral, lead = (users.get(username=n) for n in ("charity", "pastoral_a", "lead_a"))
    tokens = [Token.objects.get_or_create(user=u)[0].key for u in (charity, pastoral, lead)]
    today = timezone.localdate()
    rng = random.Random(seed)

    fresh = list(
        Voucher.objects.filter(
            state=Voucher.State.ISSUED,
            expires_on__gte=today + datetime.timedelta(days=1),
            voucher_type__partner_id__in=scope_for(charity).partner_ids,
        )
        .order_by("?")
        .values_list("code", flat=True)[: redeems + 500]
    )
    if len(fresh) < redeems + 200:
        sys.exit(f"Only {len(fresh)} fresh vouchers left for {redeems} redeems: rebuild with bench/scale.py")
    check_codes, redeem_codes = fresh[:200], fresh[200 : 200 + redeems]

    postcodes = list(
        Family.objects.filter(pupils__school_id__in=scope_for(pastoral).school_ids)
        .values_list("postcode", flat=True)
        .distinct()[:200]
    )
    search_terms = [rng.choice(SURNAMES) for _ in range(300)] + [
        p.split()[0] + " " + p.split()[1] for p in postcodes if " " in p
    ]
    rng.shuffle(search_terms)

    food = VoucherType.objects.get(service="food_parcel", partner__name="Riverton Community Pantry")
    policy = Policy.current()
    limit = food.limit_count if food.limit_count is not None else policy.food_voucher_limit
    window = food.limit_window_days or policy.voucher_window_days
    since = timezone.now() - datetime.timedelta(days=window)
    lead_schools = sorted(scope_for(lead).school_ids)
    candidates = (
        Family.objects.filter(
            consents__partner=food.partner,
            consents__withdrawn_on__isnull=True,
            merged_into__isnull=True,
            pupils__school_id__in=lead_schools,
        )
        .annotate(
            recent=Count(
                "vouchers",
                filter=Q(vouchers__voucher_type=food, vouchers__issued_at__gt=since)
                & ~Q(vouchers__state=Voucher.State.CANCELLED),
                distinct=True,
            )
        )
        .filter(recent__lt=limit - 1)
        .values_list("pk", flat=True)
        .distinct()
    )
    family_ids = list(candidates.order_by("?")[:issues])
    if len(family_ids) < issues:
        sys.exit(f"Only {len(family_ids)} families can have a voucher issued, {issues} wanted")
    school_of = dict(
        Pupil.objects.filter(family_id__in=family_ids, school_id__in=lead_schools)
        .order_by("family_id", "school_id")
        .values_list("family_id", "school_id")
    )
    issue_bodies = [
        {"family": f, "voucher_type": food.pk, "school": school_of[f], "referral_reason": "low_income"}
        for f in family_ids
    ]
    from django.db import connections

    connections.close_all()
    return Plan(*tokens, check_codes, redeem_codes, search_terms, issue_bodies)


def verify_redemptions(codes: list[str]) -> dict[str, int]:
    """Double redemptions and lost redemptions among the vouchers the load test redeemed."""
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Count

    from support.models import LedgerEntry
    from vouchers.models import Redemption, Voucher

    vouchers = Voucher.objects.filter(code__in=codes)
    ids = [str(pk) for pk in vouchers.values_list("pk", flat=True)]
    spends = (
        LedgerEntry.objects.filter(
            kind=LedgerEntry.Kind.SPEND,
            source_type=ContentType.objects.get_for_model(Voucher),
            source_id__in=ids,
        )
        .values("source_id")
        .annotate(n=Count("pk"))
    )
    per_voucher = Counter(
        Redemption.objects.filter(voucher__code__in=codes).values_list("voucher_id", flat=True)
    )
    return {
        "redeemed_ok": len(codes),
        "not_redeemed_state": vouchers.exclude(state=Voucher.State.REDEEMED).count(),
        "missing_redemption_row": len(ids) - len(per_voucher),
        "double_redemptions": sum(1 for n in per_voucher.values() if n > 1)
        + sum(1 for row in spends if row["n"] > 1),
        "spends": sum(row["n"] for row in spends),
    }


# --- The client ------------------------------------------------------------------------------------


async def drive(
    session, base: str, plan: Plan, endpoint: str, clients: int, count: int, seconds: float, cursor: dict
) -> Run:
    """``clients`` coroutines share a budget of ``count`` requests and a deadline; each request's
    latency and any non-2xx answer or exception is recorded."""
    run = Run(endpoint, clients)
    charity = {"Authorization": f"Token {plan.charity_token}"}
    pastoral = {"Authorization": f"Token {plan.pastoral_token}"}
    lead = {"Authorization": f"Token {plan.lead_token}"}
    sent = 0
    deadline = time.perf_counter() + seconds

    def next_request() -> tuple[str, str, dict, dict | None, str | None] | None:
        nonlocal sent
        if sent >= count or time.perf_counter() >= deadline:
            return None
        sent += 1
        n = sent
        if endpoint == "bare":
            return "GET", f"{base}/api/v1/_bare/", charity, None, None
        if endpoint == "check":
            return (
                "GET",
                f"{base}/api/v1/redeem/{plan.check_codes[n % len(plan.check_codes)]}/",
                charity,
                None,
                None,
            )
        if endpoint == "redeem":
            i = cursor["redeem"]
            if i >= len(plan.redeem_codes):
                return None
            cursor["redeem"] = i + 1
            code = plan.redeem_codes[i]
            return (
                "POST",
                f"{base}/api/v1/redeem/{code}/redeem/",
                charity,
                {"items_given": "Food parcel"},
                code,
            )
        if endpoint == "search":
            term = plan.search_terms[n % len(plan.search_terms)]
            return "GET", f"{base}/api/v1/families/?q={term.replace(' ', '+')}", pastoral, None, None
        i = cursor["issue"]
        if i >= len(plan.issue_bodies):
            return None
        cursor["issue"] = i + 1
        return "POST", f"{base}/api/v1/vouchers/", lead, plan.issue_bodies[i], None

    async def client() -> None:
        while (request := next_request()) is not None:
            method, url, headers, body, code = request
            started = time.perf_counter()
            try:
                async with session.request(method, url, headers=headers, json=body) as response:
                    await response.read()
                    status = response.status
            except Exception as exc:  # a refused or dropped connection is an error, not a crash
                run.errors[type(exc).__name__] += 1
                continue
            if status >= 300:
                run.errors[f"HTTP {status}"] += 1
                continue
            run.latencies.append(time.perf_counter() - started)
            if code:
                run.redeemed.append(code)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    run.wall = time.perf_counter() - started
    return run


async def load(args: argparse.Namespace, plan: Plan, base: str, profile_pid: int | None) -> list[Run]:
    import aiohttp

    runs: list[Run] = []
    cursor = {"redeem": 0, "issue": 0}
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(
        limit=max(args.levels) + 4, force_close=True
    )  # gunicorn sync: no keep-alive
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        # Warm up: every worker process opens its database connection, and every code path is loaded.
        for endpoint in ("bare", "check", "search"):
            await drive(session, base, plan, endpoint, 8, 40, 20, cursor)
        if args.profile:
            await profile(session, base, plan, args, cursor, profile_pid)
            return runs
        for clients in args.levels:
            for endpoint in args.endpoints:
                run = await drive(session, base, plan, endpoint, clients, args.requests, args.seconds, cursor)
                runs.append(run)
                print(
                    f"  {endpoint:<7} {clients:>3} clients: {run.done:>5} in {run.wall:5.1f} s, "
                    f"{run.rps:7.1f} req/s, p99 {run.pct(0.99):7.1f} ms"
                    + (f", ERRORS {dict(run.errors)}" if run.errors else ""),
                    flush=True,
                )
    return runs


async def profile(session, base: str, plan: Plan, args, cursor: dict, master_pid: int | None) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    raw = OUT / f"profile-{args.profile}.txt"
    spy = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "py-spy"),
            "record",
            "--pid",
            str(master_pid),
            "--subprocesses",
            "--format",
            "raw",
            "--rate",
            "200",
            "--duration",
            str(int(args.seconds) + 2),
            "--output",
            str(raw),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    await asyncio.sleep(1.5)  # py-spy attaches
    run = await drive(session, base, plan, args.profile, 8, 10**6, args.seconds, cursor)
    _, err = await asyncio.to_thread(spy.communicate)
    print(f"{args.profile} at 8 clients while sampled: {run.rps:.1f} req/s, p99 {run.pct(0.99):.0f} ms")
    if spy.returncode != 0 or not raw.exists():
        print(f"py-spy failed: {err.decode()[-500:]}")
        return
    inclusive: Counter = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        if not samples.isdigit():
            continue
        total += int(samples)
        seen = set()
        for frame in stack.split(";"):
            # py-spy writes "function (path/to/file.py:line)", with paths relative to the working
            # directory for the project's files ("support/scopes.py") and absolute for the libraries.
            where = frame.rpartition(" (")[2].rstrip(")")
            project = where.startswith(PROJECT_DIRS) or any(f"/{d}" in where for d in PROJECT_DIRS)
            if project or "psycopg" in where:
                name = f"{frame.split(' (')[0]} ({'/'.join(where.split('/')[-2:])})"
                if name not in seen:
                    seen.add(name)
                    inclusive[name] += int(samples)
    print(f"\nTop project frames by inclusive samples ({total} samples; stacks in {raw}):")
    for name, samples in inclusive.most_common(25):
        print(f"  {samples / total:6.1%}  {name}")


# --- The report ----------------------------------------------------------------------------------


def report(runs: list[Run], checked: dict[str, int], args: argparse.Namespace) -> bool:
    bare = {run.clients: run for run in runs if run.endpoint == "bare"}
    print(
        f"\n{'endpoint':<8} {'clients':>7} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'errors':>6} {'req/s / bare':>12} {'p99 / bare':>10}  result"
    )
    print("-" * 112)
    ok = True
    total_errors = 0
    for run in runs:
        base = bare.get(run.clients)
        rate = run.rps / base.rps if base and base.rps else float("nan")
        tail = run.pct(0.99) / base.pct(0.99) if base and base.latencies else float("nan")
        errors = sum(run.errors.values())
        total_errors += errors
        passed = None
        if run.endpoint in TARGETED:
            passed = rate >= 0.5 and tail < 10 and errors == 0
        elif errors:
            passed = False
        ok = ok and passed is not False
        result = "" if passed is None else ("pass" if passed else "MISS")
        print(
            f"{run.endpoint:<8} {run.clients:>7} {run.done:>8} {run.rps:>8.1f} {run.pct(0.5):>8.1f} "
            f"{run.pct(0.95):>8.1f} {run.pct(0.99):>8.1f} {errors:>6} {rate:>12.2f} {tail:>10.1f}  {result}"
        )
        note = (
            f"{run.done} requests in {run.wall:.1f} s; p50 {run.pct(0.5):.1f} ms, p95 {run.pct(0.95):.1f} ms"
        )
        if errors:
            note += f"; errors {dict(run.errors)}"
        if run.endpoint == "bare":
            emit_result(
                bench="load",
                figure=f"bare endpoint, {run.clients} clients: throughput (the ceiling)",
                value=run.rps,
                unit="req/s",
                target="0 errors",
                passed=errors == 0,
                note=note + f"; p99 {run.pct(0.99):.1f} ms",
            )
            continue
        emit_result(
            bench="load",
            figure=f"{run.endpoint}, {run.clients} clients: throughput",
            value=run.rps,
            unit="req/s",
            baseline=base.rps if base else None,
            target=">= 0.5 × bare, 0 errors" if run.endpoint in TARGETED else "0 errors (no ratio target)",
            passed=(rate >= 0.5 and errors == 0) if run.endpoint in TARGETED else errors == 0,
            note=note,
        )
        emit_result(
            bench="load",
            figure=f"{run.endpoint}, {run.clients} clients: p99 latency",
            value=run.pct(0.99),
            unit="ms",
            baseline=base.pct(0.99) if base else None,
            target="< 10 × bare p99" if run.endpoint in TARGETED else "",
            passed=tail < 10 if run.endpoint in TARGETED else None,
        )
    print(
        f"\nRedeemed {checked['redeemed_ok']} distinct vouchers: {checked['double_redemptions']} double "
        f"redemptions, {checked['not_redeemed_state']} not in state redeemed, "
        f"{checked['missing_redemption_row']} without a redemption row, {checked['spends']} ledger spends."
    )
    emit_result(
        bench="load",
        figure="errors, every endpoint and level",
        value=total_errors,
        unit="errors",
        target="0",
        passed=total_errors == 0,
    )
    doubles = (
        checked["double_redemptions"] + checked["not_redeemed_state"] + checked["missing_redemption_row"]
    )
    emit_result(
        bench="load",
        figure=f"double or lost redemptions among {checked['redeemed_ok']} redeemed",
        value=doubles,
        unit="vouchers",
        target="0",
        passed=doubles == 0,
    )
    return ok and total_errors == 0 and doubles == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", type=int, default=100_000)
    parser.add_argument("--vouchers", type=int, default=500_000)
    parser.add_argument("--levels", default="1,8,32,64", help="concurrent clients, comma-separated")
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS))
    parser.add_argument("--requests", type=int, default=400, help="requests per endpoint and level, at most")
    parser.add_argument("--seconds", type=float, default=12.0, help="time cap per endpoint and level")
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default 2 × CPUs + 1)")
    parser.add_argument("--profile", choices=ENDPOINTS, help="sample this endpoint with py-spy instead")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--keep-running", action="store_true", help="leave the stack up at the end")
    args = parser.parse_args()
    args.levels = [int(n) for n in args.levels.split(",")]
    args.endpoints = [e for e in args.endpoints.split(",") if e]
    if "bare" not in args.endpoints:
        args.endpoints.insert(0, "bare")

    url = ensure_scaled_database(families=args.families, vouchers=args.vouchers)
    assert url.startswith(server_url())
    runs_of = len(args.levels) if not args.profile else 1
    plan = make_plan(
        url,
        redeems=args.requests * runs_of if "redeem" in args.endpoints or args.profile == "redeem" else 0,
        issues=args.requests * runs_of if "issue" in args.endpoints or args.profile == "issue" else 0,
        seed=args.seed,
    )
    env = stack_env(url, args.port, args.workers)
    base = f"http://127.0.0.1:{args.port}"

    def on_term(signum, frame):
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    prod("stop", env)  # a stack left over from an interrupted run
    flush_cache_db(env)
    ok = False
    try:
        print(f"\nStarting the production-like stack on {base} against {url.rsplit('/', 1)[1]}", flush=True)
        prod("start", env)
        master = int((ROOT / ".prod" / PROD_NAME / "web.pid").read_text().strip())
        print(
            f"\nLoad: {', '.join(args.endpoints)} at {args.levels} clients, each until {args.requests} "
            f"requests or {args.seconds:g} s; {os.cpu_count()} CPUs, client on the same machine\n",
            flush=True,
        )
        runs = asyncio.run(load(args, plan, base, master))
        if not args.profile:
            redeemed = [code for run in runs for code in run.redeemed]
            ok = report(runs, verify_redemptions(redeemed), args)
        else:
            ok = True
    finally:
        if not args.keep_running:
            print("\nStopping the stack", flush=True)
            prod("stop", env)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
