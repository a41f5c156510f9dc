"""How fast is the pupil import? Run on demand, not part of the test suite:

    .venv/bin/python bench/import_pupils.py [--rows 20000] [--seed 2026]

It builds a deterministic school information system export (valid UPNs, date of birth matching the
year group, about 1.6 pupils per Family ID) and times, for one school:

  (a) parsing and checking the file only,
  (b) a first import (every pupil and family new),
  (c) a second import of the same file (every pupil unchanged),
  (d) a third import with one row in ten changed,

each through ``pupil_import_apply`` as the command and the upload task call it (parsing, planning,
writing, duplicate-family checks, audit events), and compares (b) with a bare
``Family.objects.bulk_create`` + ``Pupil.objects.bulk_create`` of the same rows into a second school.

With no DATABASE_URL it uses a throwaway SQLite file in a temporary directory. With DATABASE_URL set it
refuses to run unless given --use-database-url, because it writes 40,000 pupils and audit events (which
cannot be deleted) into that database.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import add_database_argument, emit_result, setup_django

ROOT = Path(__file__).resolve().parent.parent
HEADER = [
    "UPN",
    "Legal Forename",
    "Preferred Forename",
    "Surname",
    "DOB",
    "Year",
    "FSM",
    "Pupil Premium",
    "Contact Name",
    "Contact Phone",
    "Contact Email",
    "Postcode",
    "Family ID",
]
FORENAMES = (
    "Amelia Olivia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Freya Willow Florence Emily Ella "
    "Noah Muhammad George Oliver Leo Arthur Oscar Theodore Theo Freddie Archie Alfie Charlie Finley Henry "
    "Jack Lucas Thomas Harry Isaac Zara Aisha Yusuf Maya Priya Kai Ethan Ruby Evie Sienna Hana Omar"
).split()
SURNAMES = (
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Wright Robinson Thompson Evans Walker "
    "White Roberts Green Hall Thomas Clarke Jackson Wood Harris Edwards Turner Martin Cooper Hill Ward "
    "Hughes Moore Clark King Harrison Lewis Baker Lee Allen Morris Khan Scott Watson Davis Parker James "
    "Bennett Young Phillips Richardson Mitchell Bailey Carter Cook Singh Shaw Bell Collins Morgan Kelly"
).split()
SCHOOL_URN, BASELINE_URN = "999001", "999002"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000, help="pupils in the file (default 20000)")
    parser.add_argument("--seed", type=int, default=2026, help="seed for the generated file")
    add_database_argument(parser)
    return parser.parse_args()


@dataclass
class Measurement:
    step: str
    rows: int
    seconds: float
    queries: int
    note: str = ""

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else float("inf")


@contextmanager
def counting_queries() -> Iterator[list[int]]:
    from django.db import connection

    count = [0]

    def wrapper(execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield count


def measure(step: str, rows: int, work: Callable[[], Any], note: Callable[[Any], str] = str) -> Measurement:
    with counting_queries() as count:
        started = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - started
    return Measurement(step, rows, seconds, count[0], note(result))


def generate_rows(count: int, *, seed: int, establishment_base: int) -> list[list[str]]:
    """``count`` pupils in households of 1 (50%), 2 (40%) or 3 (10%): 1.6 pupils per Family ID.

    The same seed gives the same pupils; ``establishment_base`` only changes the UPNs, so a second
    school can hold the same rows without a clash.
    """
    from django.utils import timezone
    from stdnum.gb import upn as stdnum_upn

    from support.dates import academic_year_start_for

    rng = random.Random(seed)
    year_start = academic_year_start_for(timezone.localdate())
    rows: list[list[str]] = []
    family = 0
    while len(rows) < count:
        family += 1
        surname = rng.choice(SURNAMES)
        carer = f"{rng.choice(FORENAMES)} {surname}"
        phone = f"07400 {family % 1_000_000:06d}"
        email = f"{carer.lower().replace(' ', '.')}.{family}@example.org"
        postcode = f"RV{rng.randint(1, 9)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}A"
        household = rng.choices((1, 2, 3), weights=(5, 4, 1))[0]
        for _ in range(min(household, count - len(rows))):
            serial = len(rows)
            body = f"926{establishment_base + serial // 999:04d}24{serial % 999 + 1:03d}"
            year = rng.randint(0, 13)
            born = datetime.date(year_start - 5 - year, 9, 1) + datetime.timedelta(days=rng.randrange(365))
            forename = rng.choice(FORENAMES)
            rows.append(
                [
                    stdnum_upn.calc_check_digit(body) + body,
                    forename,
                    forename if rng.random() < 0.9 else rng.choice(FORENAMES),
                    surname,
                    born.strftime("%d/%m/%Y"),
                    "R" if year == 0 else str(year),
                    rng.choice("NNNY"),
                    rng.choice("NNNY"),
                    carer,
                    phone,
                    email,
                    postcode,
                    f"F{family:06d}",
                ]
            )
    return rows


def change_every_tenth(rows: list[list[str]]) -> list[list[str]]:
    """A copy with one row in ten changed: free school meals flipped and a new preferred name."""
    changed = [list(values) for values in rows]
    for values in changed[::10]:
        values[6] = "N" if values[6] == "Y" else "Y"
        values[2] = values[2] + "ie"
    return changed


def to_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode()


def bulk_baseline(school: Any, data: bytes) -> Callable[[], int]:
    """The floor: the same families and pupils written with two bare bulk_creates (parsed beforehand)."""
    from django.db import transaction

    from support.models import Family, Pupil
    from support.pupil_csv import normalise_name_key
    from support.pupil_import import pupil_import_parse

    parsed = pupil_import_parse(data)
    assert parsed.ok, parsed.errors[:3]
    by_ref: dict[str, list] = {}
    for row in parsed.rows:
        by_ref.setdefault(row.family_ref, []).append(row)

    def write() -> int:
        families = [
            Family(
                lead_carer_name=rows[0].contact_name,
                carer_name_key=normalise_name_key(rows[0].contact_name),
                phone=rows[0].contact_phone,
                email=rows[0].contact_email,
                postcode=rows[0].postcode,
                adults=1,
                children=len(rows),
            )
            for rows in by_ref.values()
        ]
        with transaction.atomic():
            Family.objects.bulk_create(families, batch_size=500)
            pupils = [
                Pupil(
                    upn=row.upn,
                    legal_forename=row.legal_forename,
                    preferred_forename=row.preferred_forename,
                    surname=row.surname,
                    date_of_birth=row.date_of_birth,
                    year_group=row.year_group,
                    fsm=row.fsm,
                    pupil_premium=row.pupil_premium,
                    sis_family_ref=row.family_ref,
                    school=school,
                    family_id=family.pk,
                )
                for family, rows in zip(families, by_ref.values(), strict=True)
                for row in rows
            ]
            Pupil.objects.bulk_create(pupils, batch_size=500)
        return len(families)

    return write


def print_table(measurements: list[Measurement]) -> None:
    head = ("step", "rows", "seconds", "rows/s", "queries", "result")
    body = [
        (m.step, f"{m.rows:,}", f"{m.seconds:.2f}", f"{m.rate:,.0f}", f"{m.queries:,}", m.note)
        for m in measurements
    ]
    widths = [max(len(line[i]) for line in (head, *body)) for i in range(len(head))]
    right = {1, 2, 3, 4}

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


def main() -> None:
    args = parse_args()
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
    from django.db import connection

    from support.models import Family, Phase, Pupil, School
    from support.pupil_import import pupil_import_apply, pupil_import_parse

    if School.objects.filter(urn__in=[SCHOOL_URN, BASELINE_URN]).exists():
        sys.exit(f"Schools {SCHOOL_URN} / {BASELINE_URN} exist already: run against an empty database.")
    school = School.objects.create(name="Benchmark Academy", urn=SCHOOL_URN, phase=Phase.SECONDARY)
    baseline_school = School.objects.create(name="Baseline Academy", urn=BASELINE_URN, phase=Phase.SECONDARY)

    rows = generate_rows(args.rows, seed=args.seed, establishment_base=2000)
    data = to_csv(rows)
    changed = to_csv(change_every_tenth(rows))
    baseline_data = to_csv(generate_rows(args.rows, seed=args.seed, establishment_base=6000))
    families = len({values[-1] for values in rows})
    print(
        f"Django {django.get_version()} on {connection.vendor}; {args.rows:,} rows, {families:,} Family IDs "
        f"({args.rows / families:.2f} pupils each), {len(data) / 1e6:.1f} MB\n"
    )

    def summary(result: dict[str, int]) -> str:
        return (
            f"created {result['created']:,}, updated {result['updated']:,}, "
            f"unchanged {result['unchanged']:,}, new families {result['new_families']:,}"
        )

    def apply(payload: bytes, name: str) -> Callable[[], dict[str, int]]:
        return lambda: pupil_import_apply(school=school, data=payload, actor=None, filename=name)

    measurements = [
        measure(
            "(a) parse only",
            args.rows,
            lambda: pupil_import_parse(data),
            lambda parsed: f"{len(parsed.rows):,} rows, {len(parsed.errors)} errors",
        ),
        measure("(b) first import", args.rows, apply(data, "first.csv"), summary),
        measure("(c) same file again", args.rows, apply(data, "again.csv"), summary),
        measure("(d) 10% of rows changed", args.rows, apply(changed, "changed.csv"), summary),
        measure(
            "bulk_create baseline",
            args.rows,
            bulk_baseline(baseline_school, baseline_data),
            lambda made: (
                f"{made:,} families, {Pupil.objects.filter(school=baseline_school).count():,} pupils"
            ),
        ),
    ]
    print_table(measurements)
    first, baseline = measurements[1], measurements[-1]
    print(
        f"\nFirst import / bare bulk_create: {first.seconds / baseline.seconds:.1f}x the time "
        "(the import also parses and checks the file, plans, looks for duplicate families and audits "
        "every object; the baseline's parse is not timed)"
    )
    for m in measurements[:-1]:
        emit_result(
            bench="import_pupils",
            figure=f"{m.step}, {m.rows:,} rows",
            value=m.rate,
            unit="rows/s",
            baseline=baseline.rate if m is first else None,
            note=f"{m.seconds:.2f} s, {m.queries:,} queries; {m.note}",
        )
    emit_result(
        bench="import_pupils",
        figure="first import time vs a bare bulk_create of the same rows",
        value=first.seconds,
        unit="s",
        baseline=baseline.seconds,
        note="the import also parses, checks, plans, looks for duplicate families and audits",
    )
    assert Pupil.objects.filter(school=school).count() == args.rows
    assert Family.objects.filter(pupils__school=school).distinct().count() == families


if __name__ == "__main__":
    main()
