"""Requests per second of the voucher check and redeem endpoints, in-process through DRF's test client.

    .venv/bin/python bench/redeem.py [--vouchers 500]

Each voucher is checked (GET /api/v1/redeem/{code}/) and then redeemed (POST .../redeem/) by a charity
user with a token, as a partner system would. Also prints the queries each request makes: they must not
grow with the number of vouchers. A baseline in the same run: a bare authenticated DRF endpoint
(GET /api/v1/partners/{id}/), the ceiling of this stack in-process. The load test of a real server
under concurrency belongs to the production-like run (issue 7).

It raises the API throttles itself (``bench.common.UNTHROTTLED``): 500 lookups from one user in a few
seconds would meet the code-lookup rate (120 a minute) and fail with 429. It measures the code path; the
throttles' correctness has its own tests.
"""

import argparse
import os
import statistics
import time
from pathlib import Path

if __package__ in (None, ""):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import UNTHROTTLED, add_database_argument, emit_result, setup_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vouchers", type=int, default=500)
    add_database_argument(parser)
    args = parser.parse_args()
    os.environ.update(UNTHROTTLED)  # read by the settings, so before Django starts
    workdir = setup_django(use_database_url=args.use_database_url)

    import datetime

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from support.models import Family, Membership, PartnerCharity, Pupil, Role, School
    from support.pupil_csv import normalise_name_key
    from tests.factories import make_upn
    from vouchers import codes
    from vouchers.models import Voucher, VoucherType

    school = School.objects.create(name="Bench Academy", urn="199001", phase="primary")
    partner = PartnerCharity.objects.create(name="Bench Pantry", address="1 Bench Street")
    food = VoucherType.objects.create(
        partner=partner, service="food_parcel", name="Food", face_value_pence=2500
    )
    family = Family.objects.create(
        lead_carer_name="Bench Carer", carer_name_key=normalise_name_key("Bench Carer")
    )
    Pupil.objects.create(
        upn=make_upn(),
        legal_forename="B",
        surname="C",
        date_of_birth="2017-01-01",
        year_group=4,
        school=school,
        family=family,
    )
    user_model = get_user_model()
    issuer = user_model.objects.create_user("bench_issuer")
    counter = user_model.objects.create_user("bench_counter")
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
            for _ in range(args.vouchers)
        ]
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=counter).key}")

    def timed(requests: list) -> tuple[float, list[float], list[int]]:
        latencies, query_counts = [], []
        started = time.perf_counter()
        for call in requests:
            connection.queries_log.clear()  # a full log (9,000 queries) would skew the counts below
            t0 = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                response = call()
            latencies.append(time.perf_counter() - t0)
            query_counts.append(len(queries))
            assert response.status_code < 300, (response.status_code, response.content[:200])
        return time.perf_counter() - started, latencies, query_counts

    rows = []
    bare = [lambda: client.get(f"/api/v1/partners/{partner.pk}/")] * len(vouchers)
    for name, calls in [
        ("bare DRF endpoint (baseline)", bare),
        ("check a code (GET)", [lambda v=v: client.get(f"/api/v1/redeem/{v.code}/") for v in vouchers]),
        (
            "redeem (POST)",
            [
                lambda v=v: client.post(
                    f"/api/v1/redeem/{v.code}/redeem/",
                    {},
                    format="json",
                    HTTP_IDEMPOTENCY_KEY=f"bench-{v.pk}",
                )
                for v in vouchers
            ],
        ),
    ]:
        wall, latencies, queries = timed(calls)
        rows.append(
            (
                name,
                len(calls),
                len(calls) / wall,
                statistics.median(latencies) * 1000,
                sorted(latencies)[int(len(latencies) * 0.99) - 1] * 1000,
                min(queries),
                max(queries),
                # The first request also fills per-process caches (content types): not the steady state.
                min(queries[1:] or queries),
                max(queries[1:] or queries),
            )
        )

    base_rps = rows[0][2]
    print(f"\n{connection.vendor}; {args.vouchers} vouchers; in-process (no HTTP server, one client)\n")
    header = f"{'endpoint':<30} {'requests':>8} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'queries':>9}"
    print(f"{header} {'vs bare':>8}")
    print("-" * 84)
    for name, n, rps, p50, p99, qmin, qmax, *_warm in rows:
        queries = f"{qmin}" if qmin == qmax else f"{qmin}–{qmax}"
        print(f"{name:<30} {n:>8} {rps:>8.0f} {p50:>7.1f} {p99:>7.1f} {queries:>9} {rps / base_rps:>8.2f}")
    print("\nQuery counts that do not vary with the voucher are the constant-query target.")
    for name, n, rps, p50, p99, _qmin, _qmax, qmin, qmax in rows[1:]:
        emit_result(
            bench="redeem",
            figure=f"{name}, in-process, {n} requests: throughput",
            value=rps,
            unit="req/s",
            baseline=base_rps,
            note=f"p50 {p50:.1f} ms, p99 {p99:.1f} ms (bare: {rows[0][3]:.1f} / {rows[0][4]:.1f})",
        )
        emit_result(
            bench="redeem",
            figure=f"{name}: queries per request after the first, most vs fewest",
            value=qmax,
            unit="queries",
            baseline=qmin,
            target="constant (most = fewest)",
            passed=qmin == qmax,
        )
    if workdir:
        workdir.cleanup()


if __name__ == "__main__":
    main()
