"""How fast are voucher PDFs? Run on demand, not part of the test suite:

    .venv/bin/python bench/voucher_pdf.py [--renders 30] [--batch 1000] [--processes 2]

(a) One voucher: the median of N renders through ``vouchers.pdf`` and the one renderer, ``support.pdf``
    (a per-thread font configuration, the stylesheet compiled once, a shared image cache) against a
    naive one-shot ``weasyprint.HTML(string=html).write_pdf()`` of the same HTML with the stylesheet
    inline, the two interleaved in the same run; and a reprint of the unchanged voucher (from Django's cache).
(b) A batch: one document of all the vouchers (``render_vouchers_pdf``) against chunks of
    ``printing.CHUNK_SIZE`` rendered across --processes processes and merged with pypdf. With no
    CELERY_BROKER_URL the chunks go to a ``ProcessPoolExecutor`` calling ``printing.print_chunk_pdf``,
    the function the chunk task calls; with one, to the real Celery workers through
    ``printing.print_job_start`` (then the workers must share DATABASE_URL and REDIS_URL with this
    process: pass --use-database-url). Both sides run in warmed-up worker processes, as Celery's are,
    and each reports its peak resident memory.

With no DATABASE_URL it uses a throwaway SQLite file in a temporary directory. With DATABASE_URL set it
refuses to run unless given --use-database-url, because it writes vouchers and audit events (which
cannot be deleted) into that database.
"""

from __future__ import annotations

import argparse
import ctypes.util
import datetime
import gc
import multiprocessing
import os
import re
import resource
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import add_database_argument, emit_result, setup_django

ROOT = Path(__file__).resolve().parent.parent
SCHOOL_URN = "999101"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--renders", type=int, default=30, help="renders of one voucher each way (default 30)"
    )
    parser.add_argument("--batch", type=int, default=1000, help="vouchers in the batch (default 1000)")
    parser.add_argument("--processes", type=int, default=2, help="processes rendering chunks (default 2)")
    add_database_argument(parser)
    return parser.parse_args()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- Run in the worker processes (module level, so the pool can name them) -----------------------


def _start_worker() -> None:
    """A fresh process with Django started, as a Celery worker process is (the environment is inherited)."""
    import logging

    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.conf import settings

    settings.DEBUG = False
    logging.getLogger("weasyprint").setLevel(logging.WARNING)  # as settings.LOGGING does


def _warm_up(voucher_id: int, owner_id: int) -> int:
    from vouchers.printing import print_chunk_pdf

    print_chunk_pdf(voucher_ids=[voucher_id], owner_id=owner_id, paper="A5")
    return os.getpid()


def _chunk(voucher_ids: list[int], owner_id: int) -> tuple[bytes, int, float, float]:
    """The chunk task's work (``printing.print_chunk_pdf``), and which process did it, its peak memory and
    the CPU seconds it took."""
    from vouchers.printing import print_chunk_pdf

    cpu = time.process_time()
    pdf = print_chunk_pdf(voucher_ids=voucher_ids, owner_id=owner_id, paper="A5")
    return pdf, os.getpid(), peak_rss_mb(), time.process_time() - cpu


def _one_document(voucher_ids: list[int], owner_id: int) -> tuple[bytes, float, float]:
    from django.contrib.auth import get_user_model

    from vouchers.pdf import render_vouchers_pdf
    from vouchers.printing import vouchers_in_scope

    cpu = time.process_time()
    vouchers = vouchers_in_scope(voucher_ids=voucher_ids, actor=get_user_model().objects.get(pk=owner_id))
    return render_vouchers_pdf(vouchers), peak_rss_mb(), time.process_time() - cpu


# --- The benchmark -----------------------------------------------------------------------------


@dataclass
class Row:
    figure: str
    measured: str
    baseline: str
    ratio: float | None
    target: str
    passed: bool | None
    note: str = ""

    def cells(self) -> tuple[str, ...]:
        ratio = "" if self.ratio is None else f"{self.ratio:.2f}"
        result = "" if self.passed is None else ("pass" if self.passed else "MISS")
        return (self.figure, self.measured, self.baseline, ratio, self.target, result)


def _number(text: str) -> tuple[float | None, str]:
    """ "46.7 ms" → (46.7, "ms"); "98%" → (98.0, "%")."""
    found = re.match(r"\s*([0-9][0-9,]*\.?[0-9]*)\s*(.*)", text)
    if not found:
        return None, text
    return float(found.group(1).replace(",", "")), found.group(2).strip()


def emit_row(row: Row) -> None:
    """The row as a machine-readable BENCH_RESULT line (bench/report.py)."""
    value, unit = _number(row.measured)
    baseline, _ = _number(row.baseline) if row.baseline else (None, "")
    if value is not None:
        emit_result(
            bench="voucher_pdf",
            figure=row.figure,
            value=value,
            unit=unit,
            baseline=baseline,
            ratio=row.ratio,
            target=row.target,
            passed=row.passed,
            note=row.note,
        )


def print_table(rows: list[Row]) -> None:
    head = ("figure", "measured", "baseline", "ratio", "target", "result")
    body = [row.cells() for row in rows]
    widths = [max(len(line[i]) for line in (head, *body)) for i in range(len(head))]
    right = {1, 2, 3}

    def fmt(line: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    print(fmt(head))
    print("  ".join("-" * w for w in widths))
    for line in body:
        print(fmt(line))


def make_data(count: int) -> tuple[Any, list[int]]:
    """A school, a partner, a pastoral user there and ``count`` valid vouchers of assorted households."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from support.models import Family, Membership, PartnerCharity, Phase, Role, School, Service
    from vouchers.codes import generate_code
    from vouchers.models import ReferralReason, Voucher, VoucherType

    if School.objects.filter(urn=SCHOOL_URN).exists():
        sys.exit(f"School {SCHOOL_URN} exists already: run against an empty database.")
    school = School.objects.create(
        name="Benchmark Academy", urn=SCHOOL_URN, phase=Phase.PRIMARY, phone="0113 496 0100"
    )
    partner = PartnerCharity.objects.create(
        name="Benchmark Community Pantry",
        address="The Old Chapel\n4 Wharf Street, Riverton",
        postcode="RV1 2QP",
        phone="0113 496 0999",
        opening_times="Monday to Friday 10:00–15:00\nSaturday 10:00–12:00",
    )
    food = VoucherType.objects.create(
        partner=partner, service=Service.FOOD_PARCEL, name="Food parcel", face_value_pence=25_00
    )
    user = get_user_model().objects.create_user(username=f"bench-{SCHOOL_URN}")
    Membership.objects.create(user=user, role=Role.PASTORAL).schools.set([school])
    needs = ["", "Halal", "Vegetarian", "No nuts (allergy)", "Gluten free; no pork", "Diabetic"]
    families = Family.objects.bulk_create(
        Family(lead_carer_name=f"Carer {n}", carer_name_key=f"carer {n}", postcode="RV1 1AA")
        for n in range(50)
    )
    expires = timezone.localdate() + datetime.timedelta(days=28)
    vouchers = Voucher.objects.bulk_create(
        (
            Voucher(
                code=generate_code(),
                voucher_type=food,
                family=families[n % len(families)],
                school=school,
                face_value_pence=food.face_value_pence,
                issued_by=user,
                expires_on=expires,
                referral_reason=ReferralReason.LOW_INCOME,
                lead_carer_name=families[n % len(families)].lead_carer_name,
                household_size=1 + n % 7,
                dietary_needs=needs[n % len(needs)],
            )
            for n in range(count)
        ),
        batch_size=500,
    )
    return user, [v.pk for v in vouchers]


def median_ms(work: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        gc.collect()  # each run starts from a clean heap, not with the other side's garbage to collect
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def one_voucher(voucher_id: int, runs: int) -> list[Row]:
    from weasyprint import HTML

    from support.pdf import stylesheet_text
    from vouchers import pdf
    from vouchers.models import Voucher

    voucher = Voucher.objects.select_related("voucher_type__partner", "school").get(pk=voucher_id)
    naive_html = pdf.vouchers_html([voucher], inline_css=stylesheet_text(pdf.STYLESHEET))
    naive = lambda: HTML(string=naive_html).write_pdf()  # noqa: E731
    optimised = lambda: pdf.render_vouchers_pdf([voucher])  # noqa: E731  (the uncached path)
    naive()
    optimised()
    naive_times, optimised_times = [], []
    for _ in range(runs):  # interleaved, so drift in the machine's speed hits both alike
        naive_times.append(median_ms(naive, 1))
        optimised_times.append(median_ms(optimised, 1))
    naive_ms, optimised_ms = statistics.median(naive_times), statistics.median(optimised_times)

    pdf.render_voucher_pdf(voucher)  # the first print fills the cache
    cached_ms = median_ms(lambda: pdf.render_voucher_pdf(voucher), runs)
    return [
        Row(
            f"(a) one voucher, median of {runs}: shared fonts/CSS/images vs naive one-shot",
            f"{optimised_ms:.1f} ms",
            f"{naive_ms:.1f} ms",
            optimised_ms / naive_ms,
            "<= 0.75",
            optimised_ms / naive_ms <= 0.75,
        ),
        Row(
            "(a) reprint of the unchanged voucher (Django cache) vs a fresh render",
            f"{cached_ms:.2f} ms",
            f"{optimised_ms:.1f} ms",
            cached_ms / optimised_ms,
            "from cache",
            cached_ms / optimised_ms < 0.1,
        ),
    ]


def batch_with_processes(owner_id: int, ids: list[int], processes: int) -> tuple[list[Row], str, float]:
    from django.db import connections

    from vouchers.pdf import merge_pdfs
    from vouchers.printing import CHUNK_SIZE

    chunks = [ids[i : i + CHUNK_SIZE] for i in range(0, len(ids), CHUNK_SIZE)]
    connections.close_all()
    spawn = multiprocessing.get_context("spawn")  # fresh processes: nothing of this one's memory in theirs
    with (
        ProcessPoolExecutor(1, mp_context=spawn, initializer=_start_worker) as single_pool,
        ProcessPoolExecutor(processes, mp_context=spawn, initializer=_start_worker) as pool,
    ):
        single_pool.submit(_warm_up, ids[0], owner_id).result()
        warm = {
            future.result()
            for future in [pool.submit(_warm_up, ids[0], owner_id) for _ in range(processes * 2)]
        }

        started = time.perf_counter()
        single_pdf, single_rss, single_cpu = single_pool.submit(_one_document, ids, owner_id).result()
        single_s = time.perf_counter() - started

        started = time.perf_counter()
        results = list(pool.map(_chunk, chunks, [owner_id] * len(chunks)))
        rendered_s = time.perf_counter() - started
        merged = merge_pdfs(part for part, _pid, _rss, _cpu in results)
        chunked_s = time.perf_counter() - started
    rss = {}
    for _part, pid, peak, _cpu in results:
        rss[pid] = max(peak, rss.get(pid, 0.0))
    check_pages(merged, len(ids))
    check_pages(single_pdf, len(ids))
    how = f"ProcessPoolExecutor({processes}) calling printing.print_chunk_pdf ({len(warm)} warm workers)"
    rows = batch_rows(
        len(ids), len(chunks), processes, single_s, chunked_s, chunked_s - rendered_s, single_rss, rss
    )
    # How much CPU the timed processes got: well under 100% means something else was running.
    chunk_share = sum(cpu for *_rest, cpu in results) / (rendered_s * processes)
    rows.append(
        Row(
            "(b) CPU the rendering processes got (idle machine: ~100%)",
            f"{chunk_share:.0%}",
            f"{single_cpu / single_s:.0%}",
            None,
            "",
            None,
        )
    )
    return rows, how, chunk_share


def batch_with_celery(owner: Any, ids: list[int]) -> tuple[list[Row], str, float]:
    from vouchers.pdf import render_vouchers_pdf
    from vouchers.printing import (
        print_job_chunk_stats,
        print_job_get,
        print_job_pdf,
        print_job_start,
        vouchers_in_scope,
    )

    started = time.perf_counter()
    job = print_job_start(voucher_ids=ids, actor=owner).job
    while (job := print_job_get(job_id=job.id, actor=owner)).running:
        time.sleep(0.05)
    chunked_s = time.perf_counter() - started
    if job.failed:
        sys.exit(f"The print job failed: {job.error}")
    _, merged = print_job_pdf(job_id=job.id, actor=owner)
    rss: dict[int, float] = {}
    for stats in print_job_chunk_stats(job_id=job.id, chunk_count=job.chunk_count):
        rss[stats["pid"]] = max(stats["peak_rss_mb"], rss.get(stats["pid"], 0.0))

    vouchers = vouchers_in_scope(voucher_ids=ids, actor=owner)
    started = time.perf_counter()
    single_pdf = render_vouchers_pdf(vouchers)
    single_s = time.perf_counter() - started
    check_pages(merged, len(ids))
    check_pages(single_pdf, len(ids))
    how = (
        f"the Celery workers at CELERY_BROKER_URL, through print_job_start ({len(rss)} worker processes used)"
    )
    rows = batch_rows(len(ids), job.chunk_count, len(rss), single_s, chunked_s, None, peak_rss_mb(), rss)
    return rows, how, 1.0  # the workers' CPU share is not measured here


def check_pages(data: bytes, expected: int) -> None:
    import io

    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(data)).pages)
    assert pages == expected, f"{pages} pages, expected {expected}"


NOISY_BELOW = 0.8  # the rendering processes' CPU share under which the batch ratio is marked noisy


def batch_rows(
    count: int,
    chunks: int,
    processes: int,
    single_s: float,
    chunked_s: float,
    merge_s: float | None,
    single_rss: float,
    rss: dict[int, float],
) -> list[Row]:
    worst = max(rss.values())
    rows = [
        Row(
            f"(b) {count:,} vouchers: {chunks} chunks on {processes} processes + merge vs one document",
            f"{chunked_s:.2f} s",
            f"{single_s:.2f} s",
            chunked_s / single_s,
            "<= 0.6",
            chunked_s / single_s <= 0.6,
        ),
    ]
    if merge_s is not None:
        rows.append(Row("(b)   of which the pypdf merge", f"{merge_s:.2f} s", "", None, "", None))
    rows += [
        Row(
            f"(b) peak RSS, chunk process {n} (pid {pid})",
            f"{mb:.0f} MB",
            f"{single_rss:.0f} MB",
            mb / single_rss,
            "< 300 MB",
            mb < 300,
        )
        for n, (pid, mb) in enumerate(sorted(rss.items()), start=1)
    ]
    rows.append(
        Row("(b) peak RSS, worst chunk process", f"{worst:.0f} MB", "", None, "< 300 MB", worst < 300)
    )
    return rows


def main() -> None:
    args = parse_args()
    if os.environ.get("CELERY_BROKER_URL") and not os.environ.get("DATABASE_URL"):
        sys.exit("CELERY_BROKER_URL is set: the workers need the same database, so set DATABASE_URL too.")
    workdir = setup_django(use_database_url=args.use_database_url)
    try:
        run(args)
    finally:
        if workdir is not None:
            from django.db import connections

            connections.close_all()
            workdir.cleanup()


def run(args: argparse.Namespace) -> None:
    import django
    import weasyprint
    from django.conf import settings
    from django.db import connection

    owner, ids = make_data(max(args.batch, 1))
    harfbuzz = "with" if ctypes.util.find_library("harfbuzz-subset") else "WITHOUT"
    print(
        f"Django {django.get_version()} on {connection.vendor}; WeasyPrint {weasyprint.__version__} "
        f"{harfbuzz} libharfbuzz-subset; {os.cpu_count()} CPUs\n"
    )
    rows = one_voucher(ids[0], args.renders)
    if settings.CELERY_TASK_ALWAYS_EAGER:
        batch, how, share = batch_with_processes(owner.pk, ids, args.processes)
    else:
        batch, how, share = batch_with_celery(owner, ids)
    if share < NOISY_BELOW:
        # The ratio is still the figure to read, with its caveat beside it: a busy machine starves the
        # two chunk processes more than the one-document baseline, so the ratio reads high.
        for row in batch:
            if row.ratio is not None and "processes + merge" in row.figure:
                row.note = (
                    f"noisy: the rendering processes got {share:.0%} of their CPUs (other work on the "
                    "machine); reads high, run again on an idle machine"
                )
    print_table(rows + batch)
    for row in rows + batch:
        emit_row(row)
    if share < 0.9:
        print(
            f"\nWarning: the rendering processes got {share:.0%} of their CPUs: other processes were busy, "
            "and the two-process figures suffer most. Run again on an idle machine."
        )
    print(
        f"\nChunks rendered by {how}; the baseline is one render_vouchers_pdf of all "
        f"{len(ids):,} in one process. The one-voucher baseline's HTML carries the stylesheet inline."
    )


if __name__ == "__main__":
    main()
