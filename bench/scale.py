"""A demo trust scaled up, in a PostgreSQL database of its own, for the load test (bench/load.py).

    .venv/bin/python bench/scale.py [--families 100000] [--vouchers 500000] [--rebuild]

The real demo trust (``seed_demo``: 12 academies, the demo users, the partner, its three voucher types
paid from the standby fund) plus, written with COPY in batches, ``--families`` families in all with about
1.6 pupils each, and ``--vouchers`` vouchers over three years with their history as the services
would have left it: a fund commitment per voucher; a redemption, a commitment release and a spend for
the redeemed ones; a release for the expired and cancelled; an audit event per voucher issued. About
one voucher in ten is recent and still issued, so there are fresh vouchers to redeem. A large
donation keeps the fund able to pay for what the load test issues.

The database is ``trustsupport_scale_<families>_<vouchers>`` (the prefix from ``SCALE_DATABASE_PREFIX``)
on the PostgreSQL server of ``SCALE_POSTGRES_URL`` (default postgres://postgres@127.0.0.1:5432/). Built
once: a re-run finds the completion marker and only migrates (the load test's own writes stay; it picks
fresh vouchers each run).
Codes come from ``vouchers.codes`` (a seeded generator of the data characters, its check character), so
every code is valid and the build is deterministic.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

SCALE_VERSION = 3  # bump when the shape of the built data changes: older databases are rebuilt
BATCH = 5000
MARKER_TABLE = "bench_scale_marker"
BIG_DONATION_PENCE = 500_000_000_00  # £500m: the load test never runs the fund dry


def server_url() -> str:
    return os.environ.get("SCALE_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/").rstrip("/")


def database_name(families: int, vouchers: int) -> str:
    prefix = os.environ.get("SCALE_DATABASE_PREFIX", "trustsupport_scale")
    return f"{prefix}_{families}_{vouchers}"


def database_url(families: int, vouchers: int) -> str:
    return f"{server_url()}/{database_name(families, vouchers)}"


def _psql(sql: str, *, database: str = "postgres") -> str:
    url = urlparse(server_url())
    args = ["-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    env = {**os.environ, "PGPASSWORD": url.password or ""}
    done = subprocess.run(
        ["psql", *args, "-d", database, "-v", "ON_ERROR_STOP=1", "-Atc", sql],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"psql failed: {done.stderr.strip()}")
    return done.stdout.strip()


def is_built(families: int, vouchers: int) -> bool:
    name = database_name(families, vouchers)
    if _psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") != "1":
        return False
    try:
        found = _psql(f"SELECT version, families, vouchers FROM {MARKER_TABLE}", database=name)
    except RuntimeError:
        return False  # no marker: a build that did not finish
    return found == f"{SCALE_VERSION}|{families}|{vouchers}"


def ensure_scaled_database(*, families: int, vouchers: int, rebuild: bool = False) -> str:
    """The URL of a database holding the scaled trust, built and vacuumed if it is not there yet (in a
    subprocess, so the caller's Django, if any, is untouched). Migrations added since are applied either
    way."""
    url = database_url(families, vouchers)
    if rebuild or not is_built(families, vouchers):
        name = database_name(families, vouchers)
        print(f"Building {name} (once; later runs reuse it)", flush=True)
        _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _psql(f'CREATE DATABASE "{name}"')
        command = [sys.executable, str(Path(__file__)), "--build", f"--families={families}"]
        subprocess.run([*command, f"--vouchers={vouchers}"], check=True, env=_django_env(url))
        # Fresh statistics for the planner, whoever asked for the build (this script or bench/load.py).
        vacuum_analyze(url)
    else:
        print(f"Reusing {database_name(families, vouchers)}", flush=True)
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
            check=True,
            env=_django_env(url),
            cwd=ROOT,
        )
    return url


def _django_env(url: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "false"}
    # Built with Celery eager and a local cache: the build sends nothing anywhere.
    for name in ("CELERY_BROKER_URL", "REDIS_URL"):
        env.pop(name, None)
    env.setdefault("SECRET_KEY", "bench-scale-build-only")
    env.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    return env


def copy_rows(model, objects: list, *, with_pk: bool) -> None:
    """Write ``objects`` (model instances, or dicts of attribute names to values) with PostgreSQL's COPY,
    several times faster than ``bulk_create``.

    With ``with_pk`` the primary keys are drawn from the table's sequence first and set on the objects
    (``obj.pk`` or ``obj["id"]``), so rows that refer to them can be written next. Timestamps are written
    as given (``explicit_timestamps``); a dict's missing fields get the field's default (one value for
    all its rows) and keys that are not fields are ignored.
    """
    if not objects:
        return
    from django.db import connection, models
    from psycopg.types.json import Jsonb

    table = model._meta.db_table
    # A generated column (Family.carer_sort_key) is the database's to fill: COPY refuses it.
    fields = [
        f
        for f in model._meta.concrete_fields
        if (with_pk or not f.primary_key) and not getattr(f, "generated", False)
    ]
    as_dicts = isinstance(objects[0], dict)
    with connection.cursor() as cursor:
        if with_pk:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, len(objects)],
            )
            for obj, (pk,) in zip(objects, cursor.fetchall(), strict=True):
                if as_dicts:
                    obj["id"] = pk
                else:
                    obj.pk = pk
        json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        with cursor.cursor.copy(f"COPY {connection.ops.quote_name(table)} ({columns}) FROM STDIN") as copy:
            if as_dicts:
                defaults = {f.attname: None if f.primary_key else f.get_default() for f in fields}
                names = [f.attname for f in fields]
                wrap = [name in json_fields for name in names]
                for obj in objects:
                    row = [obj.get(name, defaults[name]) for name in names]
                    copy.write_row(
                        [Jsonb(v) if w and v is not None else v for v, w in zip(row, wrap, strict=True)]
                    )
                return
            for obj in objects:
                copy.write_row(
                    [
                        Jsonb(value) if f.attname in json_fields and value is not None else value
                        for f in fields
                        for value in (f.pre_save(obj, True),)
                    ]
                )


def build(families_wanted: int, vouchers_wanted: int) -> None:
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone
    from stdnum.gb import upn as upn_module

    from funds.models import LedgerEntry
    from funds.services.ledger import fund_donation_record, standby_fund
    from support.dates import academic_year_start_for
    from support.demo import (
        CARER_FORENAMES,
        DIETS,
        FORENAMES,
        STREETS,
        SURNAMES,
        explicit_timestamps,  # the demo's history uses the same one
    )
    from support.models import (
        AuditEvent,
        ConsentMethod,
        Enrolment,
        Family,
        FamilyConsent,
        Pupil,
        Registration,
        School,
    )
    from support.pupil_csv import normalise_name_key
    from vouchers import codes
    from vouchers.models import Redemption, ReferralReason, Voucher, VoucherType

    settings.DEBUG = False
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("seed_demo", verbosity=0)
    users = get_user_model().objects
    finance, lead, charity = (users.get(username=n) for n in ("finance", "lead_a", "charity"))
    fund = standby_fund()
    today = timezone.localdate()
    fund_donation_record(
        fund=fund,
        donor="Bench benefactor",
        amount_pence=BIG_DONATION_PENCE,
        received_on=today,
        gift_aid=False,
        actor=finance,
    )
    schools = list(School.objects.order_by("pk"))
    primaries = [s for s in schools if s.phase == "primary"]
    secondaries = [s for s in schools if s.phase == "secondary"]
    types = list(VoucherType.objects.filter(fund=fund).order_by("pk"))
    if not types:
        sys.exit("The demo has no voucher types paid from the standby fund: cannot build the scaled trust.")
    type_weights = [7 if t.service == "food_parcel" else 1 for t in types]
    partner = types[0].partner
    voucher_ct = ContentType.objects.get_for_model(Voucher)
    rng = random.Random(20260707)
    now = timezone.now()
    year_start = academic_year_start_for(today)
    print(f"  demo trust and migrations: {time.perf_counter() - started:.0f} s", flush=True)
    with connection.cursor() as cursor:
        # The rows below are made consistent here: skip the per-row foreign-key checks (triggers) and the
        # wait for each batch's commit to reach the disk. This session only; a crash means a rebuild.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET synchronous_commit = off")

    # --- Families and pupils -------------------------------------------------------------------
    existing = Family.objects.count()
    to_make = max(0, families_wanted - existing)
    # (family id, the school of one of its pupils) for the vouchers: the demo's families and the new.
    family_schools = list(
        Pupil.objects.values_list("family_id", "school_id").distinct().order_by("family_id")
    )
    upn_serial = 0
    step = time.perf_counter()
    with explicit_timestamps(Family, Pupil):
        for start in range(0, to_make, BATCH):
            batch, kids_of, consents_of = [], [], []
            for n in range(start, min(start + BATCH, to_make)):
                surname = rng.choice(SURNAMES)
                carer = f"{rng.choice(CARER_FORENAMES)} {surname}"
                letters = "ABDEFGHJLNPQRSTUWXYZ"
                consent = rng.random() < 0.85
                created = now - datetime.timedelta(days=rng.randrange(30, 1500))
                adults = rng.choice([1, 1, 2, 2, 2, 3])
                kids = rng.choices([1, 2, 3], weights=[55, 35, 10])[0]
                batch.append(
                    Family(
                        lead_carer_name=carer,
                        carer_name_key=normalise_name_key(carer),
                        phone=f"+44770{n:07d}"[:13] if rng.random() < 0.9 else "",
                        email=f"{carer.lower().replace(' ', '.').replace(chr(39), '')}.s{n}@mail.example",
                        address=f"{rng.randint(1, 300)} {rng.choice(STREETS)}, Riverton",
                        postcode=(
                            f"RV{rng.randint(1, 20)} {rng.randint(1, 9)}"
                            f"{rng.choice(letters)}{rng.choice(letters)}"
                        ),
                        adults=adults,
                        children=kids,
                        dietary_needs=rng.choice(DIETS),
                        created_at=created,
                        updated_at=created,
                    )
                )
                kids_of.append(kids)
                consents_of.append(consent)
            with transaction.atomic():
                copy_rows(Family, batch, with_pk=True)
                copy_rows(
                    FamilyConsent,
                    [
                        FamilyConsent(
                            family=family,
                            partner=partner,
                            given_on=family.created_at.date(),
                            method=ConsentMethod.IN_PERSON,
                            recorded_by=lead,
                            recorded_at=family.created_at,
                        )
                        for family, consent in zip(batch, consents_of, strict=True)
                        if consent
                    ],
                    with_pk=False,
                )
                pupils = []
                for family, kids in zip(batch, kids_of, strict=True):
                    primary, secondary = rng.choice(primaries), rng.choice(secondaries)
                    for _ in range(kids):
                        year_group = rng.randint(0, 13)
                        school = primary if year_group < 7 else secondary
                        body = (
                            f"926{5000 + upn_serial // 100_000:04d}"
                            f"{upn_serial // 1000 % 100:02d}{upn_serial % 1000:03d}"
                        )
                        upn_serial += 1
                        born = datetime.date(year_start - year_group - 5, 9, 1) + datetime.timedelta(
                            days=rng.randrange(365)
                        )
                        forename = rng.choice(FORENAMES)
                        pupils.append(
                            Pupil(
                                upn=upn_module.calc_check_digit(body) + body,
                                legal_forename=forename,
                                preferred_forename="",
                                surname=family.lead_carer_name.split(" ", 1)[1],
                                date_of_birth=born,
                                year_group=year_group,
                                school=school,
                                family=family,
                                fsm=rng.random() < 0.27,
                                pupil_premium=rng.random() < 0.3,
                                in_need=rng.random() < 0.05,
                                created_at=family.created_at,
                                updated_at=family.created_at,
                            )
                        )
                    family_schools.append((family.pk, pupils[-1].school_id))
                copy_rows(Pupil, pupils, with_pk=True)
                # Each pupil on its school's roll, as the import would (the scoped selectors read rolls).
                copy_rows(
                    Enrolment,
                    [
                        Enrolment(
                            pupil=pupil,
                            school_id=pupil.school_id,
                            registration=Registration.MAIN,
                            joined=pupil.created_at.date(),
                        )
                        for pupil in pupils
                    ],
                    with_pk=False,
                )
    # The family search's names table is kept by triggers, which this session has turned off.
    from support.models.search import REFILL_SQL

    with connection.cursor() as cursor:
        for statement in REFILL_SQL:
            cursor.execute(statement)
    print(f"  {to_make:,} families and {upn_serial:,} pupils: {time.perf_counter() - step:.0f} s", flush=True)

    # --- Vouchers, their redemptions, ledger entries and audit events -------------------------------
    # Rows as dicts of column values, not model instances: building half a million models costs more
    # than writing them.
    households = {pk: a + c for pk, a, c in Family.objects.values_list("pk", "adults", "children")}
    carers = dict(Family.objects.values_list("pk", "lead_carer_name"))
    to_make = max(0, vouchers_wanted - Voucher.objects.count())
    step = time.perf_counter()
    State = Voucher.State
    reasons = [r for r in ReferralReason.values if r != ReferralReason.OTHER]
    made = 0
    while made < to_make:
        batch = []
        for _ in range(min(BATCH * 2, to_make - made)):
            family_id, school_id = family_schools[rng.randrange(len(family_schools))]
            vtype = rng.choices(types, weights=type_weights)[0]
            if rng.random() < 0.1:  # recent and still issued: fresh vouchers for the load test
                issued = now - datetime.timedelta(days=rng.random() * min(vtype.validity_days - 7, 20))
                state = State.ISSUED
            else:
                issued = now - datetime.timedelta(days=60 + rng.random() * 1035)
                state = rng.choices([State.REDEEMED, State.EXPIRED, State.CANCELLED], weights=[75, 18, 7])[0]
            data = "".join(rng.choices(codes.ALPHABET, k=codes.DATA_LENGTH))
            cancelled = state == State.CANCELLED
            batch.append(
                {
                    "code": data + codes.check_character(data),
                    "public_token": f"s{rng.getrandbits(180):045x}"[:40],
                    "voucher_type_id": vtype.pk,
                    "service": vtype.service,
                    "family_id": family_id,
                    "school_id": school_id,
                    "state": state,
                    "face_value_pence": vtype.face_value_pence,
                    "issued_by_id": lead.pk,
                    "issued_at": issued,
                    "expires_on": timezone.localdate(issued) + datetime.timedelta(days=vtype.validity_days),
                    "referral_reason": rng.choice(reasons),
                    "lead_carer_name": carers[family_id],
                    "household_size": max(1, households[family_id]),
                    "dietary_needs": rng.choice(DIETS),
                    "cancelled_at": issued + datetime.timedelta(days=2) if cancelled else None,
                    "cancelled_by_id": lead.pk if cancelled else None,
                    "cancel_reason": "Family moved away" if cancelled else "",
                    "updated_at": issued,
                }
            )
        with transaction.atomic():
            copy_rows(Voucher, batch, with_pk=True)
            redemptions, entries, events = [], [], []
            for v in batch:
                common = {
                    "fund_id": fund.pk,
                    "amount_pence": v["face_value_pence"],
                    "source_type_id": voucher_ct.pk,
                    "source_id": str(v["id"]),
                    "school_id": v["school_id"],
                    "category": f"voucher:{v['service']}",
                }
                entries.append(
                    {
                        "kind": LedgerEntry.Kind.COMMITMENT,
                        "created_by_id": lead.pk,
                        "created_at": v["issued_at"],
                        "occurred_on": timezone.localdate(v["issued_at"]),
                        **common,
                    }
                )
                events.append(
                    {
                        "at": v["issued_at"],
                        "actor_id": lead.pk,
                        "actor_label": lead.username,
                        "action": "voucher.issued",
                        "subject_type_id": voucher_ct.pk,
                        "subject_id": str(v["id"]),
                        "subject_repr": codes.display(v["code"]),
                        "before": {},
                        "after": {
                            "type": v["voucher_type_id"],
                            "family": v["family_id"],
                            "school": v["school_id"],
                        },
                    }
                )
                if v["state"] == State.REDEEMED:
                    at = v["issued_at"] + datetime.timedelta(days=rng.random() * 20)
                    redemptions.append(
                        {
                            "voucher_id": v["id"],
                            "partner_id": partner.pk,
                            "redeemed_by_id": charity.pk,
                            "redeemed_at": at,
                            "items_given": "",
                        }
                    )
                    for kind, note in (
                        (LedgerEntry.Kind.COMMITMENT_RELEASE, "made actual"),
                        (LedgerEntry.Kind.SPEND, ""),
                    ):
                        entries.append(
                            {
                                "kind": kind,
                                "note": note,
                                "created_by_id": charity.pk,
                                "created_at": at,
                                "occurred_on": timezone.localdate(at),
                                **common,
                            }
                        )
                elif v["state"] != State.ISSUED:
                    at = v["cancelled_at"] or datetime.datetime.combine(
                        v["expires_on"], datetime.time(3), tzinfo=datetime.UTC
                    )
                    entries.append(
                        {
                            "kind": LedgerEntry.Kind.COMMITMENT_RELEASE,
                            "note": "Voucher cancelled" if v["cancelled_at"] else "Voucher expired",
                            "created_at": at,
                            "occurred_on": timezone.localdate(at),
                            **common,
                        }
                    )
            copy_rows(Redemption, redemptions, with_pk=False)
            copy_rows(LedgerEntry, entries, with_pk=False)
            copy_rows(AuditEvent, events, with_pk=False)
        made += len(batch)
        if made % 100_000 < BATCH * 2:
            print(f"  {made:,} vouchers ({time.perf_counter() - step:.0f} s)", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute(
            f"CREATE TABLE {MARKER_TABLE} (version int, families int, vouchers int, built_at text)"
        )
        cursor.execute(
            f"INSERT INTO {MARKER_TABLE} VALUES (%s, %s, %s, %s)",
            [SCALE_VERSION, Family.objects.count(), Voucher.objects.count(), now.isoformat()],
        )
    connection.close()
    print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)


def vacuum_analyze(url: str) -> None:
    _psql("VACUUM (ANALYZE)", database=urlparse(url).path.lstrip("/"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", type=int, default=100_000)
    parser.add_argument("--vouchers", type=int, default=500_000)
    parser.add_argument("--rebuild", action="store_true", help="drop and build again even if built")
    parser.add_argument("--build", action="store_true", help=argparse.SUPPRESS)  # the worker half
    args = parser.parse_args()
    if args.build:
        build(args.families, args.vouchers)
        return
    started = time.perf_counter()
    url = ensure_scaled_database(families=args.families, vouchers=args.vouchers, rebuild=args.rebuild)
    print(f"{url} ready in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
