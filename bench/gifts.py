"""Seconds to generate the welcome-pack gifts of an intake, against a plain bulk_create of the same rows.

    .venv/bin/python bench/gifts.py [--pupils 10000]

One school with a three-item pack and ``--pupils`` Reception pupils. ``gifts_generate`` (scope check,
school lock, pupils without a gift found in one query, gifts + lines + audit events bulk-created in
batches) is timed against a plain ``bulk_create`` of the same gifts and lines in the same run, on a
copy of the intake at a second school. Target: at most 3× the plain insert. Also prints the queries.
"""

import argparse
import time
from pathlib import Path

if __package__ in (None, ""):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import add_database_argument, emit_result, setup_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pupils", type=int, default=10_000)
    add_database_argument(parser)
    args = parser.parse_args()
    workdir = setup_django(use_database_url=args.use_database_url)

    import datetime

    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from support.dates import academic_year_start_for
    from support.models import Family, Membership, Pupil, Role, School
    from support.models.rolls import main_rolls_create
    from support.pupil_csv import normalise_name_key
    from tests.factories import make_upn
    from uniform.models import Gift, GiftLine, UniformItem, WelcomePack, WelcomePackItem
    from uniform.services.gifts import BATCH_SIZE, gifts_generate

    year = academic_year_start_for(timezone.localdate())
    family = Family.objects.create(
        lead_carer_name="Bench Carer", carer_name_key=normalise_name_key("Bench Carer")
    )
    lead = get_user_model().objects.create_user("bench_lead")
    schools, packs = [], []
    for n in range(2):
        school = School.objects.create(name=f"Bench Primary {n}", urn=f"19910{n}", phase="primary")
        pack = WelcomePack.objects.create(school=school, year_group=0)
        for name, sizes in (("Jumper", ["3-4", "5-6"]), ("Polo", ["3-4", "5-6"]), ("Book bag", [])):
            item = UniformItem.objects.create(school=school, name=name, sizes=sizes, unit_cost_pence=500)
            WelcomePackItem.objects.create(pack=pack, item=item, quantity=2 if name == "Polo" else 1)
        pupils = Pupil.objects.bulk_create(
            [
                Pupil(
                    upn=make_upn(
                        la="9" + f"{n}{i // 1000 % 10}", establishment=2000 + i % 1000, year=n * 10 + 10
                    ),
                    legal_forename=f"P{i}",
                    surname="Bench",
                    date_of_birth=datetime.date(year - 5, 1, 1),
                    year_group=0,
                    school=school,
                    family=family,
                )
                for i in range(args.pupils)
            ],
            batch_size=BATCH_SIZE,
        )
        # On the school's roll, as an import leaves them: gifts_generate reads the roll.
        main_rolls_create(pupils, joined=timezone.localdate())
        schools.append(school)
        packs.append(pack)
    Membership.objects.create(user=lead, role=Role.LEAD).schools.set(schools)
    print(f"{args.pupils} Reception pupils at each of 2 schools, a 3-item pack, database {connection.vendor}")

    # The baseline: the same gifts and lines, bulk-created with nothing else, at the second school.
    plain_school, plain_pack = schools[1], packs[1]
    contents = list(plain_pack.items.values_list("item_id", "quantity"))
    started = time.perf_counter()
    with transaction.atomic():
        pupils = list(Pupil.objects.filter(school=plain_school).only("pk", "year_group").order_by("pk"))
        for start in range(0, len(pupils), BATCH_SIZE):
            gifts = Gift.objects.bulk_create(
                [
                    Gift(pupil=p, school=plain_school, academic_year=year, year_group=0)
                    for p in pupils[start : start + BATCH_SIZE]
                ]
            )
            GiftLine.objects.bulk_create(
                [GiftLine(gift=g, item_id=item_id, quantity=qty) for g in gifts for item_id, qty in contents]
            )
    plain = time.perf_counter() - started

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        made = gifts_generate(school=schools[0], academic_year=year, actor=lead).count
        generated = time.perf_counter() - started
    with CaptureQueriesContext(connection) as again:
        started = time.perf_counter()
        assert gifts_generate(school=schools[0], academic_year=year, actor=lead).count == 0
        rerun = time.perf_counter() - started

    assert made == args.pupils
    print(f"plain bulk_create of {args.pupils} gifts and {args.pupils * 3} lines: {plain:.2f} s")
    print(
        f"gifts_generate ({made} gifts, lines and audit events):   {generated:.2f} s, {len(queries)} queries"
    )
    print(f"ratio: {generated / plain:.2f}× (target at most 3×)")
    print(f"running it again (nothing to add): {rerun:.3f} s, {len(again)} queries")
    emit_result(
        bench="gifts",
        figure=f"gifts_generate for {made:,} pupils vs a plain bulk_create",
        value=generated,
        unit="s",
        baseline=plain,
        target="<= 3×",
        passed=generated / plain <= 3,
        note=f"{len(queries)} queries; again with nothing to add: {rerun:.3f} s, {len(again)} queries",
    )
    if workdir is not None:
        workdir.cleanup()


if __name__ == "__main__":
    main()
