"""Run every benchmark under bench/ and write bench/RESULTS.md: each figure, its baseline measured in the
same run, the ratio, the target and pass or miss.

    .venv/bin/python bench/report.py [--only load,gifts] [--skip voucher_pdf] [--output bench/RESULTS.md]

``make bench`` runs this (``--note`` adds a line under the heading, e.g. that the machine was shared).
``load_2_nodes`` is bench/load.py with ``--nodes 2``. On a shared server, BENCH_LOAD_PORT (the load
stack's first port), BENCH_DATABASE_PREFIX (the ledger's database), SCALE_DATABASE_PREFIX and
LOAD_REDIS_DBS (bench/scale.py, bench/load.py) keep one engineer's runs apart from another's.

Each benchmark runs as its own process, as documented in its file, with the
counts below (smaller than some defaults, so the whole run fits in 15 minutes on 2 cores), and ends
with ``BENCH_RESULT {json}`` lines (``bench.common.emit_result``) that are collected here. Its whole
output is kept in bench/out/<name>.log. The benchmarks that write to a database get a throwaway one:
DATABASE_URL, CELERY_BROKER_URL and REDIS_URL are removed from their environment (SQLite, Celery
eager), except the load test, which runs its own PostgreSQL + Redis stack (bench/load.py), and the
ledger benchmark, which makes its own PostgreSQL database. Exits non-zero when a benchmark failed to
run (a miss of a target is reported, not a failure).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

from bench.common import RESULT_PREFIX, UNTHROTTLED  # noqa: E402

OUT = ROOT / "bench" / "out"


@dataclass
class Bench:
    name: str
    args: list[str]
    timeout: int
    env: dict[str, str] = field(default_factory=dict)
    own_services: bool = False  # keeps DATABASE_URL etc. out of it either way; says it brings its own
    why_smaller: str = ""
    script: str = ""  # bench/<script>.py, when not bench/<name>.py

    @property
    def path(self) -> str:
        return f"bench/{self.script or self.name}.py"


BENCHES = [
    Bench("import_pupils", ["--rows", "20000"], 300),
    # The in-process redeem benchmark measures the code path, not the throttle: raise its rates.
    Bench("redeem", ["--vouchers", "500"], 300, env=UNTHROTTLED),
    # CPU per request of check and redeem against the bare endpoint (in-process, so a busy machine
    # does not blur it); on a throwaway SQLite file and the per-process cache.
    Bench("counter_cpu", ["--requests", "300"], 300, env=UNTHROTTLED),
    Bench(
        "voucher_pdf",
        ["--renders", "15", "--batch", "300"],
        400,
        why_smaller="15 renders each way and a 300-voucher batch (defaults 30 and 1,000)",
    ),
    Bench("gifts", ["--pupils", "10000"], 300),
    # BENCH_DATABASE_PREFIX: an engineer sharing the PostgreSQL server names their own databases.
    Bench(
        "ledger",
        ["--keep", f"{os.environ.get('BENCH_DATABASE_PREFIX', 'trustsupport')}_bench_ledger"],
        600,
        own_services=True,
    ),
    Bench(
        "load",
        ["--requests", "300", "--seconds", "10", "--port", os.environ.get("BENCH_LOAD_PORT", "18765")],
        1800,
        own_services=True,
        why_smaller="up to 300 requests or 10 s per endpoint and level (defaults 400 and 12 s)",
    ),
    Bench(
        "load_2_nodes",
        [
            "--nodes",
            "2",
            "--endpoints",
            "bare,check,redeem,issue",
            "--requests",
            "300",
            "--seconds",
            "8",
            "--port",
            os.environ.get("BENCH_LOAD_PORT", "18765"),
        ],
        1800,
        own_services=True,
        why_smaller="two nodes; bare, check, redeem and issue (no search) up to 300 requests or 8 s each",
        script="load",
    ),
    # The impact report's queries (issue 18) and the family search (issue 15) on bench/scale.py's trust of
    # 100,000 families and 500,000 vouchers, the load test's database (built once, then reused).
    Bench("impact", [], 1800, own_services=True),
    Bench(
        "search",
        ["--port", os.environ.get("BENCH_LOAD_PORT", "18765"), "--redis-db", "13"],
        1800,
        own_services=True,
    ),
]


@dataclass
class Outcome:
    bench: Bench
    seconds: float
    returncode: int | None
    records: list[dict]
    log: Path
    load_before: str = ""

    @property
    def ran(self) -> bool:
        return self.returncode == 0 or (
            self.bench.path == "bench/load.py" and self.returncode == 1 and self.records
        )


def run_bench(bench: Bench) -> Outcome:
    OUT.mkdir(parents=True, exist_ok=True)
    log = OUT / f"{bench.name}.log"
    load_before = loadavg()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")}
    env.update(bench.env)
    env["PYTHONUNBUFFERED"] = "1"
    command = [sys.executable, str(ROOT / bench.path), *bench.args]
    print(f"\n=== {bench.name}: {' '.join(command[1:])}", flush=True)
    records: list[dict] = []
    started = time.perf_counter()
    returncode: int | None = None
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            assert process.stdout is not None
            for line in process.stdout:
                out.write(line)
                if line.startswith(RESULT_PREFIX):
                    records.append(json.loads(line[len(RESULT_PREFIX) :]))
                else:
                    print(f"  {line.rstrip()}", flush=True)
                if time.perf_counter() - started > bench.timeout:
                    raise TimeoutError
            returncode = process.wait(timeout=max(1, bench.timeout - (time.perf_counter() - started)))
        except (TimeoutError, subprocess.TimeoutExpired):
            print(f"  {bench.name}: over its {bench.timeout} s: stopping it", flush=True)
            process.terminate()  # the load test stops its stack on SIGTERM
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
    return Outcome(bench, time.perf_counter() - started, returncode, records, log, load_before)


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return ""
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def write_report(
    outcomes: list[Outcome], path: Path, started: datetime.datetime, load_before: str, note: str = ""
) -> None:
    rows, misses = [], []
    for outcome in outcomes:
        if not outcome.ran:
            rows.append(
                f"| {outcome.bench.name} | **did not complete** (exit code {outcome.returncode}; "
                f"see bench/out/{outcome.log.name}) | | | | | MISS | |"
            )
            misses.append(f"{outcome.bench.name}: did not complete")
        for r in outcome.records:
            result = {True: "pass", False: "**MISS**", None: ""}[r.get("pass")]
            if r.get("pass") is False:
                misses.append(
                    f"{r['bench']}: {r['figure']} ({fmt(r['value'], r['unit'])}, target {r['target']})"
                )
            rows.append(
                "| "
                + " | ".join(
                    cell(x)
                    for x in (
                        r["bench"],
                        r["figure"],
                        fmt(r["value"], r["unit"]),
                        fmt(r.get("baseline"), r["unit"]),
                        "" if r.get("ratio") is None else f"{r['ratio']:.2f}",
                        r.get("target", ""),
                        result,
                        r.get("note", ""),
                    )
                )
                + " |"
            )
    total = sum(o.seconds for o in outcomes)
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (bench/report.py) on {started:%Y-%m-%d %H:%M} UTC: {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load average {load_before} when it started; "
        f"{total / 60:.1f} minutes in all. Every baseline was measured in the same run as its figure; "
        "ratio = measured / baseline. Each benchmark's full output is in bench/out/ (not committed).",
        "",
        *([note, ""] if note else []),
        "| bench | figure | measured | baseline | ratio | target | result | notes |",
        "| --- | --- | ---: | ---: | ---: | --- | --- | --- |",
        *rows,
        "",
        "## Runs",
        "",
        "| bench | command | seconds | exit | load average at its start | counts |",
        "| --- | --- | ---: | ---: | --- | --- |",
        *(
            f"| {o.bench.name} | `{o.bench.path} {' '.join(o.bench.args)}` | {o.seconds:.0f} | "
            f"{o.returncode} | {o.load_before} | {o.bench.why_smaller or 'as documented in the file'} |"
            for o in outcomes
        ),
        "",
        "## Misses",
        "",
        *([f"- {m}" for m in misses] or ["None."]),
        "",
    ]
    path.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    parser.add_argument("--skip", default="", help="comma-separated benchmark names")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument("--note", default="", help="a line for RESULTS.md under the heading")
    args = parser.parse_args()
    only = {n for n in args.only.split(",") if n}
    skip = {n for n in args.skip.split(",") if n}
    chosen = [
        b for b in BENCHES if (ROOT / b.path).exists() and (not only or b.name in only) and b.name not in skip
    ]
    started = datetime.datetime.now(datetime.UTC)
    load_before = loadavg()
    outcomes = [run_bench(b) for b in chosen]
    write_report(outcomes, args.output, started, load_before, args.note)
    print(f"\nWrote {args.output}")
    print(args.output.read_text())
    failed = [o.bench.name for o in outcomes if not o.ran]
    if failed:
        sys.exit(f"Did not complete: {', '.join(failed)}")


if __name__ == "__main__":
    main()
