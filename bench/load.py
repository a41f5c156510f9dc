"""Load test of the busy API paths against the production-like run, on loopback only.

    .venv/bin/python bench/load.py [--levels 1,8,32,64] [--requests 400] [--seconds 12] [--nodes 1|2]
                                   [--families 100000] [--vouchers 500000] [--profile ENDPOINT]

1. The scaled demo trust (bench/scale.py: 100,000 families, 500,000 vouchers), built once (then
   vacuumed and analysed, whoever builds it) and reused.
2. ``bin/prod start`` with PROD_NAME=load on 127.0.0.1:--port against it: gunicorn (2 × CPUs + 1 sync
   workers), a Celery worker and beat, Redis databases 14 and 15 of 127.0.0.1 (broker, cache; other
   numbers from LOAD_REDIS_DBS="broker,cache") so nothing mixes with another stack,
   LOAD_TEST_BARE_ENDPOINT on, and the API throttles' rates raised out of the way (the redeem
   endpoints still run their throttles and the lookup guard, with their Redis round trips).
   With --nodes 2, a second node (PROD_NAME=load-2, port + 1: gunicorn and a Celery worker, no beat)
   on the same database and Redis, as a second machine behind a load balancer would be.
3. A bounded asyncio client (aiohttp; token authentication, as a partner's system or a script would
   use) drives each endpoint alone, at each concurrency level, until --requests requests or
   --seconds seconds, whichever comes first (client i talks to node i mod nodes):
     bare    GET  /api/v1/_bare/                  the stack's ceiling: gunicorn, Django's middleware,
                                                  DRF, and token authentication (one query: the token,
                                                  its user and their scope); no throttle, no cache
                                                  call, no permission beyond "signed in"
     check   GET  /api/v1/redeem/{code}/          charity staff check a fresh voucher
     redeem  POST /api/v1/redeem/{code}/redeem/   charity staff redeem it: every request a distinct one
     search  GET  /api/v1/families/?q=...         pastoral staff search by surname or postcode
     issue   POST /api/v1/vouchers/               a pastoral lead issues a food voucher (each to a
                                                  different family, under the family's limit)
4. Prints per endpoint and level: req/s, p50/p95/p99 ms, errors, and throughput and p99 against the
   bare endpoint's at the same level. Targets: check and redeem ≥ 0.5 × bare throughput and p99 under
   10 × bare p99; issue p99 under 10 × bare p99; zero errors everywhere; zero double redemptions
   (checked in the database after).
5. With --nodes 2, then across the nodes: 20 vouchers each redeemed on both nodes at the same moment
   (exactly one 201), 20 with one Idempotency-Key sent to both at once (one redemption, the retries
   replayed); then both nodes restart with the real rates and 200 checks at once by one user over both
   meet the 120-a-minute lookup throttle (at most 120 through), and another user's unknown codes, sent
   to alternate nodes, meet the lookup lockout after VOUCHER_LOOKUP_USER_MISSES misses in all.
6. ``bin/prod stop`` at the end, also after an error or Ctrl+C.

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
P99_TARGETED = ("check", "redeem", "issue")  # p99 within 10 × the bare endpoint's at the same level
PROD_NAME = "load"
OUT = ROOT / "bench" / "out"
NODES_LABEL = "1 node"  # "2 nodes" with --nodes 2: prefixes the figures of that run
PROJECT_DIRS = ("support/", "vouchers/", "uniform/", "config/", "funds/")
# The environment as given, before this process set up its own Django: the stack gets this one.
GIVEN_ENV = dict(os.environ)


@dataclass
class Run:
    endpoint: str
    clients: int
    latencies: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    refusals: Counter = field(default_factory=Counter)  # an error answer's status and code: what went wrong
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


def stack_env(
    url: str,
    port: int,
    workers: int | None,
    *,
    name: str = PROD_NAME,
    beat: bool = True,
    throttled: bool = False,
) -> dict[str, str]:
    """One node's environment. Nodes share the database and both Redis databases, as separate machines
    of one deployment would; only the first runs beat. ``throttled``: the real default rates."""
    redis = os.environ.get("LOAD_REDIS", "redis://127.0.0.1:6379")
    broker_db, cache_db = os.environ.get("LOAD_REDIS_DBS", "14,15").split(",")
    env = {
        **GIVEN_ENV,
        "PROD_NAME": name,
        "PROD_BEAT": "yes" if beat else "no",
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": f"{redis}/{broker_db}",
        "REDIS_URL": f"{redis}/{cache_db}",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOAD_TEST_BARE_ENDPOINT": "true",
        **UNTHROTTLED,
        "SEED_DEMO": "no",
        "CELERY_CONCURRENCY": os.environ.get("CELERY_CONCURRENCY", "1"),
    }
    env.pop("SITE_URL", None)
    if throttled:
        env.update({"API_USER_RATE": "2000/hour", "API_VOUCHER_LOOKUP_RATE": "120/minute"})
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
    # For the checks across nodes (--nodes 2): vouchers to race for, and two more charity users of the
    # same partner (one meets the throttle, one the lookup lockout) so the main user is never locked.
    race_codes: list[str] = field(default_factory=list)
    throttle_token: str = ""
    lockout_token: str = ""
    unknown_codes: list[str] = field(default_factory=list)


def make_plan(url: str, *, redeems: int, issues: int, seed: int, races: int = 0) -> Plan:
    os.environ.update({"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings"})
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    os.environ.setdefault("SECRET_KEY", "bench-load-client-only")
    for name in ("CELERY_BROKER_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    import django

    django.setup()

    from funds.services.ledger import fund_checkpoint_all

    # What the nightly beat task (funds.checkpoint_funds) keeps up to date in production.
    fund_checkpoint_all(settled_after=datetime.timedelta(0))
    from django.contrib.auth import get_user_model
    from django.db.models import Count, Q
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from support.demo import SURNAMES
    from support.models import Family, Policy, Pupil
    from support.scopes import scope_for
    from support.selectors import families_visible_to
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
        .values_list("code", flat=True)[: redeems + races + 500]
    )
    if len(fresh) < redeems + races + 200:
        sys.exit(f"Only {len(fresh)} fresh vouchers left for {redeems} redeems: rebuild with bench/scale.py")
    check_codes, redeem_codes = fresh[:200], fresh[200 : 200 + redeems]
    race_codes = fresh[200 + redeems : 200 + redeems + races]
    guards = []
    if races:
        from support.models import Membership, Role

        partner_id = min(scope_for(charity).partner_ids)
        for name in ("bench_guard_throttle", "bench_guard_lockout"):
            user, made = users.get_or_create(username=name)
            if made:
                Membership.objects.create(user=user, role=Role.CHARITY, partner_id=partner_id)
            guards.append(Token.objects.get_or_create(user=user)[0].key)

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
    # The families the lead can see (a pupil on a current roll of one of the lead's schools), as the API
    # judges the body's family: a demo family whose only pupil has left would be refused with 400.
    candidates = (
        families_visible_to(lead)
        .filter(
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
    from vouchers import codes

    unknown = []
    while races and len(unknown) < 60:
        code = codes.generate_code()  # a well-formed code (its check character right) that matches nothing
        if not Voucher.objects.filter(code=code).exists():
            unknown.append(code)
    return Plan(
        *tokens,
        check_codes,
        redeem_codes,
        search_terms,
        issue_bodies,
        race_codes,
        *(guards or ["", ""]),
        unknown,
    )


def verify_redemptions(codes: list[str]) -> dict[str, int]:
    """Double redemptions and lost redemptions among the vouchers the load test redeemed."""
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Count

    from funds.models import LedgerEntry
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
    session,
    bases: list[str],
    plan: Plan,
    endpoint: str,
    clients: int,
    count: int,
    seconds: float,
    cursor: dict,
) -> Run:
    """``clients`` coroutines share a budget of ``count`` requests and a deadline; each request's
    latency and any non-2xx answer or exception is recorded. Client i talks to node i mod len(bases)."""
    run = Run(endpoint, clients)
    charity = {"Authorization": f"Token {plan.charity_token}"}
    pastoral = {"Authorization": f"Token {plan.pastoral_token}"}
    lead = {"Authorization": f"Token {plan.lead_token}"}
    sent = 0
    deadline = time.perf_counter() + seconds

    def next_request(base: str) -> tuple[str, str, dict, dict | None, str | None] | None:
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

    async def client(base: str) -> None:
        while (request := next_request(base)) is not None:
            method, url, headers, body, code = request
            started = time.perf_counter()
            try:
                async with session.request(method, url, headers=headers, json=body) as response:
                    answer = await response.read()
                    status = response.status
            except Exception as exc:  # a refused or dropped connection is an error, not a crash
                run.errors[type(exc).__name__] += 1
                continue
            if status >= 300:
                run.errors[f"HTTP {status}"] += 1
                run.refusals[f"{status} {_error_code(answer)}"] += 1
                continue
            run.latencies.append(time.perf_counter() - started)
            if code:
                run.redeemed.append(code)

    started = time.perf_counter()
    await asyncio.gather(*(client(bases[i % len(bases)]) for i in range(clients)))
    run.wall = time.perf_counter() - started
    return run


def _error_code(answer: bytes) -> str:
    """A refusal's machine code (``code``, or the fields DRF named): what went wrong, not only how often."""
    import json

    try:
        body = json.loads(answer)
    except ValueError:
        return answer[:80].decode(errors="replace")
    if not isinstance(body, dict):
        return str(body)[:80]
    return str(body.get("code") or sorted(body))[:80]


async def load(args: argparse.Namespace, plan: Plan, bases: list[str], profile_pid: int | None) -> list[Run]:
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
            await drive(session, bases, plan, endpoint, 8, 40, 20, cursor)
        if args.profile:
            await profile(session, bases, plan, args, cursor, profile_pid)
            return runs
        for clients in args.levels:
            for endpoint in args.endpoints:
                run = await drive(
                    session, bases, plan, endpoint, clients, args.requests, args.seconds, cursor
                )
                runs.append(run)
                print(
                    f"  {endpoint:<7} {clients:>3} clients: {run.done:>5} in {run.wall:5.1f} s, "
                    f"{run.rps:7.1f} req/s, p99 {run.pct(0.99):7.1f} ms"
                    + (f", ERRORS {dict(run.errors)} {dict(run.refusals)}" if run.errors else ""),
                    flush=True,
                )
    return runs


async def profile(session, bases: list[str], plan: Plan, args, cursor: dict, master_pid: int | None) -> None:
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
    run = await drive(session, bases, plan, args.profile, 8, 10**6, args.seconds, cursor)
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


# --- More than one node: the guarantees hold across them ---------------------------------------------


async def across_nodes(plan: Plan, bases: list[str]) -> dict:
    """Every race code is redeemed on two nodes at the same moment: half with no key (exactly one may
    win), half with one Idempotency-Key sent to both (one redemption; the other answer is the replay,
    or "still being processed", and a retry afterwards on either node is the replay)."""
    import aiohttp

    charity = {"Authorization": f"Token {plan.charity_token}"}
    half = len(plan.race_codes) // 2
    statuses: Counter = Counter()
    keyed: Counter = Counter()
    retries: Counter = Counter()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:

        async def post(base: str, code: str, key: str | None = None) -> str:
            headers = {**charity, **({"Idempotency-Key": key} if key else {})}
            url = f"{base}/api/v1/redeem/{code}/redeem/"
            async with session.post(url, headers=headers, json={"items_given": "race"}) as response:
                await response.read()
                return (
                    f"{response.status}{' replayed' if response.headers.get('Idempotent-Replayed') else ''}"
                )

        for code in plan.race_codes[:half]:
            pair = await asyncio.gather(post(bases[0], code), post(bases[1], code))
            statuses[" + ".join(sorted(pair))] += 1
        for code in plan.race_codes[half:]:
            key = f"bench-race-{code}"
            pair = await asyncio.gather(post(bases[0], code, key), post(bases[1], code, key))
            keyed[" + ".join(sorted(pair))] += 1
            for base in bases:
                retries[await post(base, code, key)] += 1
    return {"unkeyed": statuses, "keyed": keyed, "retries": retries, "half": half}


async def guards_across_nodes(plan: Plan, bases: list[str]) -> dict:
    """With the real rates: 200 checks at once by one user over both nodes against the 120-a-minute
    lookup throttle; then another user's unknown codes, alternately on each node, until the lockout."""
    import aiohttp

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:

        async def get(base: str, token: str, code: str) -> tuple[int, str]:
            url = f"{base}/api/v1/redeem/{code}/"
            async with session.get(url, headers={"Authorization": f"Token {token}"}) as response:
                body = await response.json(content_type=None)
                return response.status, (body or {}).get("code", "") if isinstance(body, dict) else ""

        burst = await asyncio.gather(
            *(
                get(bases[i % len(bases)], plan.throttle_token, plan.check_codes[i % len(plan.check_codes)])
                for i in range(200)
            )
        )
        misses, locked_at = 0, None
        for i, code in enumerate(plan.unknown_codes):
            status, _code = await get(bases[i % len(bases)], plan.lockout_token, code)
            if status == 404:
                misses += 1
            elif status == 429:
                locked_at = misses
                break
    return {"burst": Counter(status for status, _ in burst), "misses_before_lock": locked_at}


def report_across_nodes(result: dict, guards: dict | None, checked: dict[str, int]) -> bool:
    half, unkeyed, keyed, retries = result["half"], result["unkeyed"], result["keyed"], result["retries"]
    print(f"\nAcross {NODES_LABEL}:")
    print(f"  the same voucher redeemed on both nodes at once ({half} vouchers): {dict(unkeyed)}")
    print(f"  the same Idempotency-Key on both nodes at once ({half} vouchers): {dict(keyed)}")
    print(f"  the same key again afterwards, on each node: {dict(retries)}")
    one_winner = unkeyed.get("201 + 409", 0)
    keyed_ok = sum(
        n
        for pair, n in keyed.items()
        if pair.startswith("201 + ") and pair.split(" + ")[1] in ("201 replayed", "409")
    )
    retries_ok = retries.get("201 replayed", 0)
    doubles = (
        checked["double_redemptions"] + checked["not_redeemed_state"] + checked["missing_redemption_row"]
    )
    ok = one_winner == half and keyed_ok == half and retries_ok == 2 * half and doubles == 0
    emit_result(
        bench="load",
        figure=f"{NODES_LABEL}: one voucher redeemed on both nodes at once, {half} vouchers: exactly one 201",
        value=one_winner,
        unit="vouchers",
        baseline=half,
        target="all (the other 409)",
        passed=one_winner == half,
        note=f"answers {dict(unkeyed)}",
    )
    emit_result(
        bench="load",
        figure=f"{NODES_LABEL}: one Idempotency-Key sent to both nodes at once, {half} vouchers: one effect",
        value=keyed_ok,
        unit="vouchers",
        baseline=half,
        target="all (the other the replay or 409 in progress; retries replayed)",
        passed=keyed_ok == half and retries_ok == 2 * half,
        note=f"answers {dict(keyed)}; retries afterwards {dict(retries)}",
    )
    emit_result(
        bench="load",
        figure=f"{NODES_LABEL}: double or lost redemptions among the {2 * half} raced for",
        value=doubles,
        unit="vouchers",
        target="0",
        passed=doubles == 0,
        note=f"{checked['spends']} ledger spends",
    )
    if guards is None:
        return ok
    passed = guards["burst"].get(200, 0)
    print(f"  200 checks at once by one user over both nodes, limit 120/minute: {dict(guards['burst'])}")
    print(
        "  unknown codes alternately on each node until the lockout: locked after "
        f"{guards['misses_before_lock']} misses"
    )
    limit = int(os.environ.get("VOUCHER_LOOKUP_USER_MISSES", "20"))
    emit_result(
        bench="load",
        figure=f"{NODES_LABEL}: lookup throttle (120/minute), 200 checks at once over both: let through",
        value=passed,
        unit="requests",
        baseline=120,
        target="<= 120",
        passed=passed <= 120,
        note=f"answers {dict(guards['burst'])}",
    )
    emit_result(
        bench="load",
        figure=f"{NODES_LABEL}: lookup lockout, unknown codes on alternate nodes: misses before the lock",
        value=guards["misses_before_lock"] if guards["misses_before_lock"] is not None else float("nan"),
        unit="misses",
        baseline=limit,
        target=f"= {limit} (VOUCHER_LOOKUP_USER_MISSES, counted over both nodes)",
        passed=guards["misses_before_lock"] == limit,
    )
    return ok and passed <= 120 and guards["misses_before_lock"] == limit


# --- The report ----------------------------------------------------------------------------------


def report(runs: list[Run], checked: dict[str, int], args: argparse.Namespace) -> bool:
    prefix = f"{NODES_LABEL}: " if args.nodes > 1 else ""
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
        elif run.endpoint in P99_TARGETED:
            passed = tail < 10 and errors == 0
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
            note += f"; errors {dict(run.errors)} ({dict(run.refusals)})"
        if run.endpoint == "bare":
            emit_result(
                bench="load",
                figure=f"{prefix}bare endpoint, {run.clients} clients: throughput (the ceiling)",
                value=run.rps,
                unit="req/s",
                target="0 errors",
                passed=errors == 0,
                note=note + f"; p99 {run.pct(0.99):.1f} ms",
            )
            continue
        emit_result(
            bench="load",
            figure=f"{prefix}{run.endpoint}, {run.clients} clients: throughput",
            value=run.rps,
            unit="req/s",
            baseline=base.rps if base else None,
            target=">= 0.5 × bare, 0 errors" if run.endpoint in TARGETED else "0 errors (no ratio target)",
            passed=(rate >= 0.5 and errors == 0) if run.endpoint in TARGETED else errors == 0,
            note=note,
        )
        emit_result(
            bench="load",
            figure=f"{prefix}{run.endpoint}, {run.clients} clients: p99 latency",
            value=run.pct(0.99),
            unit="ms",
            baseline=base.pct(0.99) if base else None,
            target="< 10 × bare p99" if run.endpoint in P99_TARGETED else "",
            passed=tail < 10 if run.endpoint in P99_TARGETED else None,
        )
    print(
        f"\nRedeemed {checked['redeemed_ok']} distinct vouchers: {checked['double_redemptions']} double "
        f"redemptions, {checked['not_redeemed_state']} not in state redeemed, "
        f"{checked['missing_redemption_row']} without a redemption row, {checked['spends']} ledger spends."
    )
    emit_result(
        bench="load",
        figure=f"{prefix}errors, every endpoint and level",
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
        figure=f"{prefix}double or lost redemptions among {checked['redeemed_ok']} redeemed",
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
    parser.add_argument(
        "--port", type=int, default=18765, help="the first node's; node n listens on port + n - 1"
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="gunicorn workers per node (default 2 × CPUs + 1)"
    )
    parser.add_argument(
        "--nodes",
        type=int,
        default=1,
        choices=(1, 2),
        help="2: two web nodes (gunicorn on two ports) and two Celery workers on the one database and Redis, "
        "clients spread over both; then the guarantees are checked across them",
    )
    parser.add_argument("--profile", choices=ENDPOINTS, help="sample this endpoint with py-spy instead")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--keep-running", action="store_true", help="leave the stack up at the end")
    args = parser.parse_args()
    args.levels = [int(n) for n in args.levels.split(",")]
    args.endpoints = [e for e in args.endpoints.split(",") if e]
    if "bare" not in args.endpoints:
        args.endpoints.insert(0, "bare")
    if args.profile and args.nodes > 1:
        parser.error("--profile samples one node: leave out --nodes")
    global NODES_LABEL
    NODES_LABEL = f"{args.nodes} node{'s' if args.nodes > 1 else ''}"

    url = ensure_scaled_database(families=args.families, vouchers=args.vouchers)
    assert url.startswith(server_url())
    runs_of = len(args.levels) if not args.profile else 1
    races = 40 if args.nodes > 1 else 0
    plan = make_plan(
        url,
        redeems=args.requests * runs_of if "redeem" in args.endpoints or args.profile == "redeem" else 0,
        issues=args.requests * runs_of if "issue" in args.endpoints or args.profile == "issue" else 0,
        seed=args.seed,
        races=races,
    )
    names = [PROD_NAME if n == 0 else f"{PROD_NAME}-{n + 1}" for n in range(args.nodes)]

    def envs(*, throttled: bool = False) -> list[dict[str, str]]:
        return [
            stack_env(url, args.port + n, args.workers, name=name, beat=n == 0, throttled=throttled)
            for n, name in enumerate(names)
        ]

    bases = [f"http://127.0.0.1:{args.port + n}" for n in range(args.nodes)]

    def on_term(signum, frame):
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    for env in envs():
        prod("stop", env)  # a stack left over from an interrupted run
    flush_cache_db(envs()[0])
    ok = False
    try:
        print(f"\nStarting {NODES_LABEL} on {', '.join(bases)} against {url.rsplit('/', 1)[1]}", flush=True)
        for env in envs():
            prod("start", env)
        master = int((ROOT / ".prod" / PROD_NAME / "web.pid").read_text().strip())
        print(
            f"\nLoad: {', '.join(args.endpoints)} at {args.levels} clients, each until {args.requests} "
            f"requests or {args.seconds:g} s; {NODES_LABEL}; {os.cpu_count()} CPUs, client on the same "
            "machine\n",
            flush=True,
        )
        runs = asyncio.run(load(args, plan, bases, master))
        if not args.profile:
            redeemed = [code for run in runs for code in run.redeemed]
            ok = report(runs, verify_redemptions(redeemed), args)
        else:
            ok = True
        if args.nodes > 1:
            raced = asyncio.run(across_nodes(plan, bases))
            # The throttles and the lockout need the real rates: the nodes start again with them.
            print(
                "\nRestarting both nodes with the real rates for the throttle and lockout checks", flush=True
            )
            for env in envs():
                prod("stop", env)
            flush_cache_db(envs()[0])
            for env in envs(throttled=True):
                prod("start", env)
            guards = asyncio.run(guards_across_nodes(plan, bases))
            ok = report_across_nodes(raced, guards, verify_redemptions(plan.race_codes)) and ok
    finally:
        if not args.keep_running:
            print("\nStopping the stack", flush=True)
            for env in envs():
                prod("stop", env)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
