"""Seconds for finance's summary queries and the ledger's CSV export with 1,000,000 ledger entries.

    .venv/bin/python bench/ledger.py [--entries 1000000] [--runs 3] [--explain]

PostgreSQL only (the ledger's size is the point; SQLite would measure something else). With no
DATABASE_URL it creates a throwaway database on ``--postgres`` (default postgres@127.0.0.1:5432, the
CI service) and drops it afterwards; ``--keep NAME`` keeps it under that name and reuses it on the
next run (the rows are built once). With DATABASE_URL set it needs --use-database-url, as the others.

The rows are built in SQL (``generate_series``) in the shape the services write them: one standby fund,
12 schools, voucher (by service), coat, shoe, uniform and welcome-pack sources, each committed, then
made actual (a release and a spend) or released, about one spend in a hundred reversed; donations
(with their Donation rows) as income, one in 250 reversed. Entries are numbered in time order over the
previous and the current financial year, and the fund stays in credit.

Timed (after one untimed run, the median of ``--runs``; target under one second each): the
dashboard's ``fund_year_summary`` and page, ``fund_position``, the ledger page's queries (opening
balance, totals and the first page, for a month and for the whole ledger, and the page itself through
the test client), and a ``fund_spend_commit`` (the fund's position summed under its lock). Then the
CSV export through the real view, streamed to /dev/null: rows/s and peak RSS, for a tenth of the
ledger and then all of it (constant memory: the whole ledger should not raise the peak more than the
tenth did). A miss is explained (EXPLAIN ANALYZE of its slowest query); ``--explain`` explains every
row. Each figure is also printed as a ``BENCH_RESULT`` line (``bench.common.emit_result``).
"""

import argparse
import os
import resource
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import add_database_argument, emit_result, setup_django

TARGET_S = 1.0
SCHOOLS = 12
# Twenty equally likely slots: (category, source model, face value in pence).
SLOTS = (
    [("voucher:food_parcel", "voucher", 2500)] * 4
    + [("voucher:energy", "voucher", 4900)] * 2
    + [("voucher:clothing", "voucher", 3000)] * 2
    + [
        ("voucher:white_goods", "voucher", 15000),
        ("voucher:furniture", "voucher", 10000),
        ("voucher:baby_items", "voucher", 3500),
    ]
    + [("coat", "request", 2800)] * 3
    + [("shoes", "request", 3200)] * 2
    + [("uniform", "request", 1800)] * 2
    + [("welcome_uniform", "gift", 2200)] * 2
)
RESTRICTED = ["coat", "shoes", "uniform", "voucher", "welcome_uniform"]
ENTRIES_PER_SOURCE = 1 + 0.8 * 2 + 0.2 + 0.8 / 101  # commitment; actual or released; reversals
DONATIONS_PER_MILLION = 8000
# The made-up vouchers, requests and gifts behind the entries have ids from here, clear of real rows
# (the vouchers the timed commits pay for): describing them finds nothing, as for a deleted source.
SOURCE_ID_OFFSET = 100_000_000

# Sources s = 1..S and donations d = 1..D, spread evenly from t0 to now; h is a cheap hash of s so
# that category, fate, school and delay do not move in step. Every row carries an order key; rows are
# numbered by (created_at, order) so ids rise with time as they do in a real ledger.
GENERATE = """
CREATE TEMP TABLE bench_gen AS
WITH src AS (
    SELECT s, h %% 20 + 1 AS slot, (h / 20) %% 10 AS fate, (h / 200) %% 12 + 1 AS school_slot,
           ((h / 2400) %% 5) * 100 AS extra, h %% 101 = 0 AS reversed,
           %(t0)s::timestamptz + %(span)s::interval * ((s - 0.5) / %(sources)s)::float8 AS t_c,
           make_interval(days => 1 + ((h / 12000) %% 21)::int) AS delay
    FROM (SELECT s, (s::bigint * 2654435761) %% 4294967296 AS h
          FROM generate_series(1, %(sources)s) AS s) AS hashed
), spend AS (
    SELECT src.*, (%(categories)s::text[])[slot] AS category, (%(types)s::int[])[slot] AS type_id,
           (%(amounts)s::bigint[])[slot] + extra AS amount, (%(schools)s::bigint[])[school_slot] AS school_id,
           (s + %(offset)s)::text AS source_id
    FROM src
), donation AS (
    SELECT d, %(t0)s::timestamptz + %(span)s::interval * ((d - 1)::float / %(donations)s) AS t_d,
           CASE WHEN d = 1 THEN 5000000 ELSE 100000 + (d * 7919) %% 200000 END AS amount,
           CASE WHEN d %% 10 = 0 THEN (%(restricted)s::text[])[(d / 10) %% 5 + 1] ELSE '' END AS restricted
    FROM generate_series(1, %(donations)s) AS d
), rows AS (
    SELECT t_c AS created_at, 0 AS ord, 'commitment' AS kind, amount, type_id, source_id,
           school_id, category, '' AS note, NULL AS rev_kind, '' AS restricted
    FROM spend
    UNION ALL
    SELECT t_c + delay, 1, 'commitment_release', amount, type_id, source_id, school_id, category,
           'made actual', NULL, ''
    FROM spend WHERE fate < 8 AND t_c + delay < %(now)s
    UNION ALL
    SELECT t_c + delay + interval '1 millisecond', 2, 'spend', amount, type_id, source_id, school_id,
           category, '', NULL, ''
    FROM spend WHERE fate < 8 AND t_c + delay < %(now)s
    UNION ALL
    SELECT t_c + interval '28 days', 1, 'commitment_release', amount, type_id, source_id, school_id, category,
           CASE WHEN type_id = %(voucher_type)s THEN 'expired' ELSE 'withdrawn' END, NULL, ''
    FROM spend WHERE fate >= 8 AND t_c + interval '28 days' < %(now)s
    UNION ALL
    SELECT t_c + delay + interval '3 days', 3, 'reversal', amount, type_id, source_id, school_id, category,
           'Charged in error (bench)', 'spend', ''
    FROM spend WHERE fate < 8 AND reversed AND t_c + delay + interval '3 days' < %(now)s
    UNION ALL
    SELECT t_d, 0, 'income', amount, %(donation_type)s, d::text, NULL, 'donation', '', NULL, restricted
    FROM donation
    UNION ALL
    SELECT t_d + interval '1 day', 3, 'reversal', amount, %(donation_type)s, d::text, NULL, 'donation',
           'Recorded twice (bench)', 'income', ''
    FROM donation WHERE d %% 250 = 0 AND t_d + interval '1 day' < %(now)s
)
SELECT row_number() OVER (ORDER BY created_at, ord, type_id, source_id) AS id, rows.*
FROM rows
"""
INSERT_DONATIONS = """
INSERT INTO funds_donation (id, fund_id, donor, amount_pence, received_on, gift_aid, restricted_purpose,
                              pledge_id, recorded_by_id, created_at)
SELECT source_id::bigint, %(fund)s, 'Bench donor ' || source_id, amount,
       (created_at AT TIME ZONE %(tz)s)::date, source_id::bigint %% 3 = 0, restricted, NULL, %(user)s,
       created_at
FROM bench_gen WHERE kind = 'income' AND id <= %(entries)s
"""
INSERT_ENTRIES = """
INSERT INTO funds_ledgerentry (id, fund_id, kind, amount_pence, source_type_id, source_id, school_id,
                                 category, reverses_id, note, override_reason, created_by_id, created_at,
                                 occurred_on)
SELECT id, %(fund)s, kind, amount, type_id, source_id, school_id, category, NULL, note, '', %(user)s,
       created_at, (created_at AT TIME ZONE %(tz)s)::date
FROM bench_gen WHERE kind <> 'reversal' AND id <= %(entries)s ORDER BY id
"""
INSERT_REVERSALS = """
INSERT INTO funds_ledgerentry (id, fund_id, kind, amount_pence, source_type_id, source_id, school_id,
                                 category, reverses_id, note, override_reason, created_by_id, created_at,
                                 occurred_on)
SELECT g.id, %(fund)s, 'reversal', g.amount, g.type_id, g.source_id, g.school_id, g.category, e.id, g.note,
       '', %(user)s, g.created_at, (g.created_at AT TIME ZONE %(tz)s)::date
FROM bench_gen g
JOIN funds_ledgerentry e
  ON e.source_type_id = g.type_id AND e.source_id = g.source_id AND e.kind = g.rev_kind
WHERE g.kind = 'reversal' AND g.id <= %(entries)s ORDER BY g.id
"""


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


class ThrowawayDatabase:
    """A PostgreSQL database made for the run (or kept under a name between runs)."""

    def __init__(self, admin_url: str, name: str | None) -> None:
        import psycopg

        self.psycopg = psycopg
        self.admin_url = admin_url
        self.keep = name is not None
        self.name = name or f"trustsupport_bench_ledger_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin_url, autocommit=True) as admin:
            exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.name]).fetchone()
            if not exists:
                admin.execute(f'CREATE DATABASE "{self.name}"')
        self.url = admin_url.rsplit("/", 1)[0] + f"/{self.name}"

    def drop(self) -> None:
        if self.keep:
            print(f"kept database {self.name} (drop it with: dropdb -h 127.0.0.1 -U postgres {self.name})")
            return
        with self.psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def build_ledger(*, entries: int, fund, user, schools: list, now) -> dict[str, Any]:
    """Write ``entries`` ledger entries (and their donations) into ``fund`` in a few SQL statements."""
    import datetime

    from django.conf import settings
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction
    from django.utils import timezone

    from funds.models import Donation, Fund
    from funds.services.ledger import financial_year_for
    from uniform.models import Gift, SupportRequest
    from vouchers.models import Voucher

    types = {
        "voucher": ContentType.objects.get_for_model(Voucher).pk,
        "request": ContentType.objects.get_for_model(SupportRequest).pk,
        "gift": ContentType.objects.get_for_model(Gift).pk,
    }
    first_year = financial_year_for(timezone.localdate(now)) - 1
    t0 = timezone.make_aware(datetime.datetime(first_year, 9, 1))
    donations = max(10, entries * DONATIONS_PER_MILLION // 1_000_000)
    # A little over the target (the last weeks' follow-ups are still to come); the rows are then cut
    # at the ``entries``-th in time order.
    sources = max(10, round((entries * 1.05 - donations * 1.004) / ENTRIES_PER_SOURCE))
    params = {
        "t0": t0,
        "now": now,
        "span": now - t0,
        "sources": sources,
        "donations": donations,
        "categories": [slot[0] for slot in SLOTS],
        "types": [types[slot[1]] for slot in SLOTS],
        "amounts": [slot[2] for slot in SLOTS],
        "schools": [school.pk for school in schools],
        "restricted": RESTRICTED,
        "voucher_type": types["voucher"],
        "donation_type": ContentType.objects.get_for_model(Donation).pk,
        "offset": SOURCE_ID_OFFSET,
        "fund": fund.pk,
        "user": user.pk,
        "entries": entries,
        "tz": settings.TIME_ZONE,
    }
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(GENERATE, params)
        cursor.execute(INSERT_DONATIONS, params)
        cursor.execute(INSERT_ENTRIES, params)
        cursor.execute(INSERT_REVERSALS, params)
        for table in ("funds_ledgerentry", "funds_donation"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        cursor.execute("DROP TABLE bench_gen")
        Fund.objects.filter(pk=fund.pk).update(created_at=t0)  # the fund is as old as its ledger
    inserted = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # A live table would have been vacuumed and analysed by autovacuum long since.
        cursor.execute("VACUUM (ANALYZE) funds_ledgerentry")
        cursor.execute("VACUUM (ANALYZE) funds_donation")
    return {"seconds_insert": inserted, "seconds_vacuum": time.perf_counter() - started, "from": t0}


def timed(
    label: str, work: Callable[[], Any], *, runs: int, target: float | None = TARGET_S
) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    seconds, captured = [], []
    work()  # once untimed: compiled templates, warm caches, as a running server has them
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            work()
            seconds.append(time.perf_counter() - started)
        captured = list(queries.captured_queries)
    median = statistics.median(seconds)
    return {
        "label": label,
        "median_s": round(median, 4),
        "min_s": round(min(seconds), 4),
        "max_s": round(max(seconds), 4),
        "queries": len(captured),
        "target_s": target,
        "pass": None if target is None else median < target,
        "_captured": captured,
    }


def explain(row: dict[str, Any]) -> None:
    """EXPLAIN ANALYZE the slowest query of a timed row's last run (read-only ones only)."""
    from django.db import connection

    candidates = [q for q in row["_captured"] if q["sql"].lstrip().upper().startswith("SELECT")]
    if not candidates:
        return
    slowest = max(candidates, key=lambda q: float(q["time"]))
    sql = slowest["sql"]
    print(f"\n--- EXPLAIN ANALYZE: {row['label']} (slowest query, {float(slowest['time']) * 1000:.0f} ms)")
    print(sql if len(sql) < 3000 else sql[:3000] + " …")
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql.replace("%", "%%"))
        for (line,) in cursor.fetchall():
            print(line)


def export(client, query: str) -> dict[str, Any]:
    """Stream the CSV view's response to /dev/null; rows, seconds and the RSS it took."""
    peak_before, rss_before = peak_rss_mb(), current_rss_mb()
    started = time.perf_counter()
    response = client.get(f"/finance/ledger.csv?{query}")
    assert response.status_code == 200, response.status_code
    assert response.streaming, "the CSV export must stream"
    lines = size = 0
    with open(os.devnull, "wb") as sink:
        for chunk in response.streaming_content:
            sink.write(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
    response.close()
    seconds = time.perf_counter() - started
    rows = lines - 1  # the header
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "megabytes": round(size / 1024 / 1024, 1),
        "peak_rss_before_mb": round(peak_before, 1),
        "peak_rss_after_mb": round(peak_rss_mb(), 1),
        "peak_rss_growth_mb": round(peak_rss_mb() - peak_before, 1),
        "rss_before_mb": round(rss_before, 1),
        "rss_after_mb": round(current_rss_mb(), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="runs of each query (the median is shown)")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE every row, not only misses")
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server to make the throwaway database on (a maintenance database URL)",
    )
    parser.add_argument("--keep", metavar="NAME", help="keep the database under NAME and reuse it next time")
    parser.add_argument("--no-export", action="store_true", help="skip the CSV export")
    add_database_argument(parser)
    args = parser.parse_args()

    database = None
    if not os.environ.get("DATABASE_URL"):
        database = ThrowawayDatabase(args.postgres, args.keep)
        os.environ["DATABASE_URL"] = database.url
    try:
        run(args)
    finally:
        if database is not None:
            from django.db import connections

            connections.close_all()
            database.drop()


def run(args: argparse.Namespace) -> None:
    setup_django(use_database_url=True)

    import datetime

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.urls import NoReverseMatch, reverse
    from django.utils import timezone

    from funds.models import FundCheckpoint, LedgerEntry
    from funds.selectors.ledger import (
        LedgerFilters,
        ledger_opening_balance,
        ledger_page_entries,
        ledger_totals,
        reversals_of,
        source_titles,
    )
    from funds.selectors.positions import fund_position, fund_positions
    from funds.selectors.reports import fund_year_summary
    from funds.services.ledger import financial_year_for, fund_checkpoint, fund_spend_commit, standby_fund
    from support.models import Family, Membership, PartnerCharity, Role, School
    from support.pupil_csv import normalise_name_key
    from vouchers import codes
    from vouchers.models import Voucher, VoucherType

    if connection.vendor != "postgresql":
        sys.exit("This benchmark needs PostgreSQL (DATABASE_URL=postgresql://...).")

    fund = standby_fund()
    user_model = get_user_model()
    finance = user_model.objects.filter(username="bench_finance").first()
    if finance is None:
        finance = user_model.objects.create_user("bench_finance")
        Membership.objects.create(user=finance, role=Role.FINANCE)
    schools = list(School.objects.filter(urn__startswith="1994").order_by("urn"))
    if not schools:
        schools = [
            School.objects.create(name=f"Bench Academy {n:02d}", urn=f"1994{n:02d}", phase="primary")
            for n in range(1, SCHOOLS + 1)
        ]

    now = timezone.now()
    existing = LedgerEntry.objects.filter(fund=fund).count()
    build: dict[str, Any] = {}
    if existing >= args.entries:
        print(f"reusing {existing:,} ledger entries already in {connection.settings_dict['NAME']}")
        now = LedgerEntry.objects.filter(fund=fund).latest("created_at").created_at
    elif existing:
        sys.exit(f"{existing:,} entries in the fund, fewer than --entries: use a new database.")
    else:
        build = build_ledger(entries=args.entries, fund=fund, user=finance, schools=schools, now=now)
        print(
            f"built {args.entries:,} ledger entries in {build['seconds_insert']:.1f} s "
            f"(+ VACUUM ANALYZE {build['seconds_vacuum']:.1f} s)"
        )
    fund.refresh_from_db()
    entries = LedgerEntry.objects.filter(fund=fund)
    counts = dict(entries.values_list("kind").annotate(n=Count("pk")).order_by())
    year = financial_year_for(timezone.localdate(now))
    month = timezone.localdate(now).replace(day=1)
    first = timezone.localtime(entries.earliest("created_at").created_at)
    print(
        f"PostgreSQL {connection.pg_version // 10000}; {sum(counts.values()):,} entries in {fund.name} from "
        f"{first:%d %b %Y} to {timezone.localtime(now):%d %b %Y}, {len(schools)} schools: "
        + ", ".join(f"{kind} {n:,}" for kind, n in sorted(counts.items()))
    )

    # Sources for the commits timed below: vouchers, as the voucher service commits them.
    partner, _ = PartnerCharity.objects.get_or_create(name="Bench Pantry", defaults={"address": "1 Bench St"})
    food, _ = VoucherType.objects.get_or_create(
        partner=partner, service="food_parcel", defaults={"name": "Food", "face_value_pence": 2500}
    )
    family = Family.objects.create(lead_carer_name="Bench Carer", carer_name_key=normalise_name_key("B C"))
    vouchers = iter(
        Voucher.objects.bulk_create(
            [
                Voucher(
                    code=codes.generate_code(),
                    voucher_type=food,
                    family=family,
                    school=schools[0],
                    face_value_pence=2500,
                    issued_by=finance,
                    expires_on=timezone.localdate() + datetime.timedelta(days=28),
                    referral_reason="debt",
                    lead_carer_name="Bench Carer",
                    household_size=2,
                )
                for _ in range(2 * (args.runs + 1))  # two timed commit rows
            ]
        )
    )

    def page(filters: LedgerFilters) -> None:
        """What the ledger view asks the database for one page (as ``_ledger_page`` does)."""
        opening = ledger_opening_balance(user=finance, filters=filters)
        totals = ledger_totals(user=finance, filters=filters, opening=opening)
        rows = list(
            ledger_page_entries(user=finance, filters=filters, totals=totals).select_related("school")[:50]
        )
        source_titles(rows)
        reversals_of(rows)

    client = Client()
    client.force_login(finance)

    def get(url: str) -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    def has_route(name: str) -> bool:
        try:
            reverse(name)
        except NoReverseMatch:
            return False
        return True

    by_month = LedgerFilters(fund=fund, month=month)
    whole = LedgerFilters(fund=fund)
    month_query = f"fund={fund.pk}&month={month:%Y-%m}"
    opening = ledger_opening_balance(user=finance, filters=by_month)
    month_totals = ledger_totals(user=finance, filters=by_month, opening=opening)
    cases: list[tuple[str, Callable[[], Any]]] = [
        (f"fund_year_summary {year}–{str(year + 1)[-2:]}", lambda: fund_year_summary(fund=fund, year=year)),
        (
            f"fund_year_summary {year - 1}–{str(year)[-2:]}",
            lambda: fund_year_summary(fund=fund, year=year - 1),
        ),
        ("fund_position", lambda: fund_position(fund=fund)),
        (
            f"ledger_opening_balance (month {month:%Y-%m})",
            lambda: ledger_opening_balance(user=finance, filters=by_month),
        ),
        (
            f"ledger_totals (month {month:%Y-%m})",
            lambda: ledger_totals(user=finance, filters=by_month, opening=opening),
        ),
        (
            f"ledger_page_entries page 1 (month {month:%Y-%m})",
            lambda: list(
                ledger_page_entries(user=finance, filters=by_month, totals=month_totals).select_related(
                    "school"
                )[:50]
            ),
        ),
        (f"ledger page queries (month {month:%Y-%m})", lambda: page(by_month)),
        ("ledger page queries (all years, the default)", lambda: page(whole)),
        (f"GET /finance/ledger/ (month {month:%Y-%m})", lambda: get(f"/finance/ledger/?{month_query}")),
        ("GET /finance/ledger/ (all years, the default)", lambda: get("/finance/ledger/")),
        *(
            [("GET /finance/ (the dashboard)", lambda: get(reverse("finance_dashboard")))]
            if has_route("finance_dashboard")
            else []
        ),
        (
            "fund_spend_commit (£1, position under lock)",
            lambda: fund_spend_commit(
                fund=fund,
                source=next(vouchers),
                amount_pence=100,
                category="voucher:food_parcel",
                school=schools[0],
                actor=finance,
            ),
        ),
        # The same two after the nightly checkpoint (funds.checkpoint_funds): only newer entries are read.
        ("fund_position after the nightly checkpoint", lambda: fund_position(fund=checkpointed())),
        # The API's page of funds and the approvals queue: the same positions, read for several funds at once.
        ("fund_positions after the nightly checkpoint", lambda: fund_positions([checkpointed().pk])),
        (
            "fund_spend_commit after the nightly checkpoint",
            lambda: fund_spend_commit(
                fund=checkpointed(),
                source=next(vouchers),
                amount_pence=100,
                category="voucher:food_parcel",
                school=schools[0],
                actor=finance,
            ),
        ),
        # A year's months from the checkpoint's month sums and the entries since (boundary_sums).
        (
            f"fund_year_summary {year}–{str(year + 1)[-2:]} after the nightly checkpoint",
            lambda: fund_year_summary(fund=checkpointed(), year=year),
        ),
        *(
            [
                (
                    "GET /finance/ (the dashboard) after the nightly checkpoint",
                    lambda: (checkpointed(), get(reverse("finance_dashboard")))[1],
                )
            ]
            if has_route("finance_dashboard")
            else []
        ),
    ]

    def checkpointed():
        if not FundCheckpoint.objects.filter(fund=fund).exists():
            fund_checkpoint(fund=fund, settled_after=datetime.timedelta(0))
        return fund

    print(f"\nEach timed {args.runs}× (median, min–max); target under {TARGET_S:.0f} s.\n")
    header = f"{'query':<48} {'median ms':>9} {'min–max ms':>13} {'queries':>7}  target"
    print(header)
    print("-" * len(header))
    results = []
    for label, work in cases:
        row = timed(label, work, runs=args.runs)
        results.append(row)
        spread = f"{row['min_s'] * 1000:.0f}–{row['max_s'] * 1000:.0f}"
        verdict = "pass" if row["pass"] else "MISS"
        print(f"{label:<48} {row['median_s'] * 1000:>9.0f} {spread:>13} {row['queries']:>7}  {verdict}")
    for row in results:
        if args.explain or not row["pass"]:
            explain(row)

    position = fund_position(fund=fund)
    summary = fund_year_summary(fund=fund, year=year)
    assert summary.now == position, (summary.now, position)  # the two ways of summing agree
    print(
        f"\nposition: income £{position.income_pence / 100:,.0f}, spent £{position.spent_pence / 100:,.0f}, "
        f"committed £{position.committed_pence / 100:,.0f}, available £{position.available_pence / 100:,.0f}"
    )

    exports = {}
    if not args.no_export:
        span_days = (timezone.localdate(now) - first.date()).days
        tenth = first.date() + datetime.timedelta(days=span_days // 10)
        print(
            f"\nCSV export through the view, streamed to /dev/null "
            f"(peak RSS before: {peak_rss_mb():.0f} MB)\n"
        )
        print(f"{'export':<30} {'rows':>9} {'s':>6} {'rows/s':>8} {'MB':>6} {'peak RSS MB':>12} {'+MB':>6}")
        for label, query in [
            (f"a tenth (to {tenth:%d %b %Y})", f"fund={fund.pk}&date_to={tenth.isoformat()}"),
            ("the whole ledger", f"fund={fund.pk}"),
        ]:
            figures = export(client, query)
            exports["tenth" if "tenth" in label else "whole"] = figures
            print(
                f"{label:<30} {figures['rows']:>9,} {figures['seconds']:>6.1f} {figures['rows_per_s']:>8,} "
                f"{figures['megabytes']:>6.0f} {figures['peak_rss_after_mb']:>12.0f} "
                f"{figures['peak_rss_growth_mb']:>6.0f}"
            )
        growth = exports["whole"]["peak_rss_growth_mb"]
        flat = growth <= max(20.0, exports["tenth"]["peak_rss_growth_mb"])
        exports["constant_memory"] = flat
        print(
            f"\nThe whole ledger raised the peak by {growth:.0f} MB after the tenth: "
            + ("memory stays flat (streamed)." if flat else "MEMORY GROWS WITH THE LEDGER.")
        )

    print()
    size = f"{sum(counts.values()):,} entries"
    for row in results:
        emit_result(
            bench="ledger",
            figure=row["label"],
            value=row["median_s"] * 1000,
            unit="ms",
            target=f"< {TARGET_S * 1000:.0f} ms",
            passed=row["pass"],
            note=f"median of {args.runs}; {row['queries']} queries; {size}",
        )
    if exports:
        whole, tenth = exports["whole"], exports["tenth"]
        emit_result(
            bench="ledger",
            figure="CSV export of the whole ledger",
            value=whole["rows_per_s"],
            unit="rows/s",
            note=f"{whole['rows']:,} rows in {whole['seconds']} s",
        )
        emit_result(
            bench="ledger",
            figure="CSV export: peak RSS growth, whole ledger after a tenth",
            value=whole["peak_rss_growth_mb"],
            unit="MB",
            baseline=tenth["peak_rss_growth_mb"] or None,
            target="constant memory (no more than the tenth's growth, or 20 MB)",
            passed=exports["constant_memory"],
            note=f"peak RSS {whole['peak_rss_after_mb']} MB; the tenth ({tenth['rows']:,} rows) "
            f"grew it {tenth['peak_rss_growth_mb']} MB",
        )


if __name__ == "__main__":
    main()
