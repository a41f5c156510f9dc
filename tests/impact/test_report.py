"""The impact report's figures against a hand-counted fixture, and the one suppression rule.

Academic year 2025–26 (1 September 2025 to 31 August 2026), beside 2024–25.

School A: families A1..A5 each got a food parcel voucher on 10 October 2025 (all redeemed, after 1, 2, 3,
4 and 5 days); A1 also a white goods voucher and a coat for its pupil. A6 had a voucher in March 2025 (the
year before) and a cancelled one in 2025–26 (not counted). A7..A9 got nothing. Family AB has a pupil at
each school; its voucher was given at school B, so only its pupil at B counts as supported.
School B: families B1..B3 and AB got food parcel vouchers (B1's expired unused): 4 families.
"""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from impact import suppression as sup
from impact.selectors import impact_report
from support.models import Enrolment, PupilAttendance, Role, Service
from tests.factories import FamilyFactory, PupilFactory, SchoolFactory, make_user
from tests.vouchers.factories import RedemptionFactory, VoucherFactory, VoucherTypeFactory
from uniform.models import ItemKind, SupportRequest
from vouchers.models import Voucher

pytestmark = pytest.mark.django_db
YEAR = 2025


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def issue(voucher_type, family, school, day, *, state=Voucher.State.ISSUED):
    voucher = VoucherFactory(voucher_type=voucher_type, family=family, school=school)
    cancelled = at(day) if state == Voucher.State.CANCELLED else None
    Voucher.objects.filter(pk=voucher.pk).update(issued_at=at(day), state=state, cancelled_at=cancelled)
    voucher.refresh_from_db()
    return voucher


def redeem(voucher, after_days: int):
    redemption = RedemptionFactory(voucher=voucher)
    Voucher.objects.filter(pk=voucher.pk).update(state=Voucher.State.REDEEMED)
    type(redemption).objects.filter(pk=redemption.pk).update(
        redeemed_at=voucher.issued_at + datetime.timedelta(days=after_days)
    )


@pytest.fixture
def world(db):
    a = SchoolFactory(name="Alpha Primary Academy", urn="140901")
    b = SchoolFactory(name="Beta Secondary Academy", urn="140902")
    food = VoucherTypeFactory(service=Service.FOOD_PARCEL)
    goods = VoucherTypeFactory(service=Service.WHITE_GOODS, partner=food.partner, name="White goods")
    families, pupils = {}, {}
    for name in ("A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "A9"):
        families[name] = FamilyFactory(lead_carer_name=f"Carer {name}")
        pupils[name] = PupilFactory(family=families[name], school=a, year_group=4, fsm=name <= "A5")
    for name in ("B1", "B2", "B3"):
        families[name] = FamilyFactory(lead_carer_name=f"Carer {name}")
        pupils[name] = PupilFactory(family=families[name], school=b, year_group=8)
    families["AB"] = FamilyFactory(lead_carer_name="Carer AB")
    pupils["AB-a"] = PupilFactory(family=families["AB"], school=a, year_group=4)
    pupils["AB-b"] = PupilFactory(family=families["AB"], school=b, year_group=8)
    Enrolment.objects.update(joined=datetime.date(2020, 9, 1))

    october = datetime.date(2025, 10, 10)
    for days, name in enumerate(("A1", "A2", "A3", "A4", "A5"), start=1):
        redeem(issue(food, families[name], a, october), days)
    issue(goods, families["A1"], a, october)
    issue(food, families["A6"], a, datetime.date(2025, 3, 1))
    issue(food, families["A6"], a, october, state=Voucher.State.CANCELLED)
    issue(food, families["B1"], b, october, state=Voucher.State.EXPIRED)
    for name in ("B2", "B3", "AB"):
        issue(food, families[name], b, october)
    staff = make_user("pastoral_a", Role.PASTORAL, schools=[a])
    coat = SupportRequest.objects.create(
        pupil=pupils["A1"],
        school=a,
        kind=ItemKind.COAT,
        size="7-8",
        reason="Torn",
        period=YEAR,
        status=SupportRequest.Status.HANDED_OVER,
        requested_by=staff,
        handed_over_at=at(datetime.date(2025, 11, 3)),
        cost_pence=2200,
    )
    type(pupils["A1"]).objects.filter(pk=pupils["A1"].pk).update(in_need=True)
    # Attendance: the supported (first support in the autumn term) the summer before and the spring after.
    for name in ("A1", "A2", "A3", "A4", "A5"):
        PupilAttendance.objects.create(
            pupil=pupils[name], school=a, academic_year=2024, term=3, percent=Decimal("88")
        )
        PupilAttendance.objects.create(
            pupil=pupils[name], school=a, academic_year=2025, term=2, percent=Decimal("95")
        )
    for name in ("A6", "A7", "A8", "A9", "AB-a"):
        PupilAttendance.objects.create(
            pupil=pupils[name], school=a, academic_year=2024, term=3, percent=Decimal("92")
        )
        PupilAttendance.objects.create(
            pupil=pupils[name], school=a, academic_year=2025, term=2, percent=Decimal("93")
        )
    return {"a": a, "b": b, "coat": coat}


@pytest.fixture
def trustee(db):
    return make_user("trustee", Role.TRUSTEE)


def rows(part) -> dict[str, tuple[str, str]]:
    return {row.label: (row.this.text, row.last.text) for section in part.sections for row in section.rows}


def test_it_counts_each_family_and_pupil_once_across_kinds(world, trustee):
    report = impact_report(user=trustee, year=YEAR)
    trust, alpha, beta = (rows(part) for part in report.parts)
    assert [part.name for part in report.parts] == [
        "The trust",
        "Alpha Primary Academy",
        "Beta Secondary Academy",
    ]
    assert trust["Families supported"] == ("9", "fewer than 5")
    assert trust["Pupils supported"] == ("9", "fewer than 5")
    assert alpha["Families supported"] == ("5", "fewer than 5")
    assert alpha["Pupils supported"] == ("5", "fewer than 5")
    assert beta["Families supported"] == ("fewer than 5", "0")
    assert trust["Food parcel vouchers: families"] == ("9", "fewer than 5")
    assert trust["White goods vouchers: families"] == ("fewer than 5", "0")
    assert trust["Coats: pupils"] == ("fewer than 5", "0")


def test_it_reports_vouchers_take_up_and_days_to_redemption(world, trustee):
    trust, alpha, beta = (rows(part) for part in impact_report(user=trustee, year=YEAR).parts)
    assert alpha["Food parcel: issued"] == ("5", "fewer than 5")
    assert alpha["Food parcel: take-up"] == ("100.0%", "not shown (small numbers)")
    assert alpha["Food parcel: days from issue to redemption (average)"] == ("3.0 days", "–")
    assert trust["Food parcel: issued"] == ("9", "fewer than 5")  # the cancelled one left out
    assert trust["Food parcel: redeemed"] == ("5", "0")
    assert trust["Food parcel: take-up"] == ("55.6%", "not shown (small numbers)")  # 0 of fewer than 5
    assert trust["Food parcel: expired unused"] == ("fewer than 5", "0")
    assert beta["Food parcel: take-up"] == ("not shown (small numbers)", "–")  # 0 of 4 issued


def test_it_reports_reach_among_disadvantaged_pupils(world, trustee):
    alpha = rows(impact_report(user=trustee, year=YEAR).parts[1])
    assert alpha["Pupils eligible for free school meals: share supported"] == ("100.0%", "0.0%")  # 0 of the 5
    assert alpha["All pupils: share supported"] == ("50.0%", "not shown (small numbers)")  # 5 of 10 on roll
    assert alpha["All pupils: on roll"] == ("10", "10")


def test_it_compares_attendance_with_similar_pupils_not_supported(world, trustee):
    alpha = rows(impact_report(user=trustee, year=YEAR).parts[1])
    assert alpha["Supported pupils with attendance before and after"] == ("5", "0")
    assert alpha["Supported: attendance the term before first support"] == ("88.0%", "–")
    assert alpha["Supported: attendance the term after first support"] == ("95.0%", "–")
    assert alpha["Supported: persistently absent (under 90%) the term before"] == ("100.0%", "–")
    assert alpha["Supported: persistently absent (under 90%) the term after"] == ("0.0%", "–")
    assert alpha["Similar pupils not supported (same school and year group)"] == ("5", "0")
    assert alpha["Not supported: attendance the same term before"] == ("92.0%", "–")
    assert alpha["Not supported: attendance the same term after"] == ("93.0%", "–")


def test_attendance_of_four_pupils_is_not_shown(world, trustee):
    PupilAttendance.objects.filter(pupil__family__lead_carer_name="Carer A9").delete()
    alpha = rows(impact_report(user=trustee, year=YEAR).parts[1])
    assert alpha["Similar pupils not supported (same school and year group)"][0] == "fewer than 5"
    assert alpha["Not supported: attendance the same term before"][0] == "not shown (small numbers)"


def test_coats_for_pupils_in_need_are_a_share_hidden_when_small(world, trustee):
    alpha = rows(impact_report(user=trustee, year=YEAR).parts[1])
    assert alpha["Pupils flagged in need"] == ("fewer than 5", "fewer than 5")
    assert alpha["Pupils in need who received a coat this winter"] == (
        "not shown (small numbers)",
        "not shown (small numbers)",
    )


def test_one_school_alone(world, trustee):
    report = impact_report(user=trustee, year=YEAR, school_id=world["b"].pk)
    assert [part.name for part in report.parts] == ["Beta Secondary Academy"]


@pytest.mark.parametrize("role", [Role.PASTORAL, Role.LEAD])
def test_it_is_refused_to_roles_without_impact_view(world, role):
    user = make_user(f"someone_{role}", role, schools=[world["a"]])
    with pytest.raises(PermissionDenied):
        impact_report(user=user, year=YEAR)


def test_finance_and_admins_read_it(world):
    for user in (make_user("fin", Role.FINANCE), make_user("adm", Role.ADMIN, superuser=True)):
        assert impact_report(user=user, year=YEAR).parts[0].name == "The trust"


# --- The one rule -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "text", "value"),
    [(0, "0", 0), (1, "fewer than 5", None), (4, "fewer than 5", None), (5, "5", 5), (1234, "1,234", 1234)],
)
def test_a_count_under_5_is_fewer_than_5(n, text, value):
    shown = sup.count(n)
    assert (shown.text, shown.value) == (text, value)
    assert shown.suppressed == (value is None)


@pytest.mark.parametrize(
    ("part", "whole", "text"),
    [
        (4, 10, "not shown (small numbers)"),  # the part is suppressed
        (5, 10, "50.0%"),
        (5, 5, "100.0%"),
        (0, 4, "not shown (small numbers)"),  # the whole is suppressed
        (0, 5, "0.0%"),
        (5, 0, "–"),
    ],
)
def test_a_share_is_hidden_where_its_count_is_suppressed(part, whole, text):
    assert sup.share(part, whole).text == text


def test_an_average_is_hidden_for_four_and_shown_for_five():
    assert sup.average(20, 4, unit=" days").text == "not shown (small numbers)"
    assert sup.average(20, 5, unit=" days").text == "4.0 days"


def test_signposting_counts_as_support_once_with_the_rest(world, trustee):
    from signposting.models import Agency, Signpost

    college = Agency.objects.create(name="Riverton College", helps_with="Adult learning")
    staff = type(world["coat"].requested_by).objects.get(username="pastoral_a")
    family_b1 = Voucher.objects.filter(school=world["b"], state=Voucher.State.EXPIRED).get().family
    new_family = FamilyFactory(lead_carer_name="Carer S")
    PupilFactory(family=new_family, school=world["b"], year_group=8)
    Enrolment.objects.update(joined=datetime.date(2020, 9, 1))
    for family in (family_b1, new_family):  # B1 had a voucher already; S only this signpost
        Signpost.objects.create(
            family=family, school=world["b"], agency=college, kind=Signpost.Kind.SIGNPOST,
            given_on=datetime.date(2026, 1, 12), recorded_by=staff, recorded_at=timezone.now(),
        )  # fmt: skip
    trust, _alpha, beta = (rows(part) for part in impact_report(user=trustee, year=YEAR).parts)
    assert trust["Families supported"] == ("10", "fewer than 5")  # 9 before, and S: B1 counted once
    assert beta["Families supported"] == ("5", "0")
    assert trust["Signposting and referrals: families"] == ("fewer than 5", "0")


def test_what_second_hand_uniform_saved_is_in_the_fund_section(world, trustee, monkeypatch):
    import impact.selectors

    calls = []

    def savings(start, end):
        calls.append((start, end))
        return {world["a"].pk: 45_00, world["b"].pk: 20_00} if start.year == YEAR else {}

    monkeypatch.setattr(impact.selectors, "secondhand_savings", savings)
    trust, alpha, beta = (rows(part) for part in impact_report(user=trustee, year=YEAR).parts)
    saved = impact.selectors.SAVED
    assert trust[saved] == ("£65.00", "£0.00")
    assert alpha[saved] == ("£45.00", "£0.00")
    assert beta[saved] == ("£20.00", "£0.00")
    assert calls == [
        (datetime.date(2025, 9, 1), datetime.date(2026, 8, 31)),
        (datetime.date(2024, 9, 1), datetime.date(2025, 8, 31)),
    ]


def test_the_raw_counts_roll_up_each_family_and_pupil_once_per_school_kind_and_trust(world):
    """The unsuppressed figures (impact.figures' window pass): each (school, kind) cell, each school,
    each kind and the trust count a family or pupil once, and FSM reach is of the pupils counted."""
    from impact.figures import TRUST, year_figures

    figures = year_figures(YEAR)
    a, b = world["a"].pk, world["b"].pk
    food, goods = f"voucher:{Service.FOOD_PARCEL.value}", f"voucher:{Service.WHITE_GOODS.value}"
    counts = {key: (c.families, c.pupils) for key, c in figures.supported.items()}
    assert counts == {a: (5, 5), b: (4, 4), TRUST: (9, 9)}
    by_kind = {key: (c.families, c.pupils) for key, c in figures.by_kind.items()}
    assert by_kind == {
        (a, food): (5, 5),
        (b, food): (4, 4),
        (TRUST, food): (9, 9),
        (a, goods): (1, 1),
        (TRUST, goods): (1, 1),
        (a, "coat"): (1, 1),
        (TRUST, "coat"): (1, 1),
    }
    assert figures.reached[a]["all"] == 5
    assert figures.reached[a]["fsm"] == 5
    assert figures.reached[TRUST]["all"] == 9
    assert figures.reached[TRUST]["fsm"] == 5 + figures.reached[b]["fsm"]
    before = year_figures(YEAR - 1)  # A6's voucher of March 2025 alone
    assert {key: (c.families, c.pupils) for key, c in before.supported.items()} == {a: (1, 1), TRUST: (1, 1)}


def test_a_pupil_helped_at_another_school_counts_there_and_once_a_kind_trust_wide(world):
    """A pupil of school A given a coat by A and another by B: the pupil (and family) counts at both
    schools, once for coats trust-wide, once in all; its flags count where it was helped; its attendance
    stays its own school's."""
    from impact.figures import TRUST, year_figures

    a, b = world["a"], world["b"]
    a2 = type(world["coat"].pupil).objects.get(family__lead_carer_name="Carer A2")
    for school, day in ((a, datetime.date(2025, 11, 4)), (b, datetime.date(2026, 1, 12))):
        SupportRequest.objects.create(
            pupil=a2, school=school, kind=ItemKind.COAT, size="7-8", reason="Lost", period=YEAR,
            status=SupportRequest.Status.HANDED_OVER, requested_by=world["coat"].requested_by,
            handed_over_at=at(day), cost_pence=2200,
        )  # fmt: skip
    figures = year_figures(YEAR)
    counts = {key: (c.families, c.pupils) for key, c in figures.supported.items()}
    assert counts == {a.pk: (5, 5), b.pk: (5, 5), TRUST: (9, 9)}
    coats = {key: (c.families, c.pupils) for key, c in figures.by_kind.items() if key[1] == "coat"}
    assert coats == {(a.pk, "coat"): (2, 2), (b.pk, "coat"): (1, 1), (TRUST, "coat"): (2, 2)}
    assert figures.reached[b.pk]["fsm"] == 1  # A2 is FSM; B's own pupils are not
    assert figures.reached[TRUST]["fsm"] == 5
    assert figures.attendance[a.pk].n == 5
    assert figures.attendance[b.pk].n == 0


def test_more_kinds_than_a_mask_holds_are_refused():
    from impact.figures import _kind_bits
    from impact.registry import SupportKind

    def kinds(n):
        return [SupportKind(f"k{i}", f"K{i}", lambda start, end: None) for i in range(n)]

    assert _kind_bits(kinds(63))[-1] == ("k62", 1 << 62)
    with pytest.raises(ValueError, match="63"):
        _kind_bits(kinds(64))


def _raw(figures) -> dict:
    """Every unsuppressed figure of a YearFigures, as plain data to compare."""
    return {
        "supported": {
            k: (c.families, c.pupils) for k, c in figures.supported.items() if c.families or c.pupils
        },
        "by_kind": {k: (c.families, c.pupils) for k, c in figures.by_kind.items()},
        "reached": {k: {m: n for m, n in v.items() if n} for k, v in figures.reached.items()},
        "population": {k: dict(v) for k, v in figures.population.items()},
        "vouchers": {k: dict(v) for k, v in figures.vouchers.items()},
        "welcome": {k: {g: list(c) for g, c in v.items()} for k, v in figures.welcome.items()},
        "in_need": {k: list(v) for k, v in figures.in_need.items()},
        "attendance": {k: vars(v) for k, v in figures.attendance.items()},
    }


def test_both_years_in_one_statement_give_what_each_year_gives_alone(world):
    """The report counts this year and the year before in one statement (``years_figures``); each year's
    figures are those of the year counted alone, attendance included (a supported pupil of one year is
    still a pupil to compare with in the other)."""
    from impact.figures import year_figures, years_figures

    signposted = FamilyFactory(lead_carer_name="Carer late")
    pupil = PupilFactory(family=signposted, school=world["a"], year_group=4)
    # Supported in 2024–25 (the spring term), compared in 2025–26 among the not supported.
    SupportRequest.objects.create(
        pupil=pupil, school=world["a"], kind=ItemKind.SHOES, size="2", reason="Worn", period=YEAR - 1,
        status=SupportRequest.Status.HANDED_OVER, requested_by=world["coat"].requested_by,
        handed_over_at=at(datetime.date(2025, 2, 3)), cost_pence=1800,
    )  # fmt: skip
    for year, term, percent in ((2024, 1, "80"), (2024, 3, "85"), (2025, 2, "97")):
        PupilAttendance.objects.create(
            pupil=pupil, school=world["a"], academic_year=year, term=term, percent=Decimal(percent)
        )
    span = years_figures(YEAR - 1, YEAR)
    assert sorted(span) == [YEAR - 1, YEAR]
    for year in (YEAR - 1, YEAR):
        assert _raw(span[year]) == _raw(year_figures(year))
    assert span[YEAR - 1].attendance[world["a"].pk].n == 1  # the spring's shoes: autumn before, summer after
    assert span[YEAR].attendance[world["a"].pk].compare_n == 6  # and compared the year after


def test_the_report_makes_the_same_queries_however_much_support_and_however_many_schools(world, trustee):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    impact_report(user=trustee, year=YEAR)  # content types and the fund made
    with CaptureQueriesContext(connection) as small:
        impact_report(user=trustee, year=YEAR)
    c = SchoolFactory(name="Gamma Academy", urn="140903")
    food = Voucher.objects.filter(school=world["a"]).first().voucher_type
    for n in range(6):
        family = FamilyFactory(lead_carer_name=f"Carer C{n}")
        PupilFactory(family=family, school=c, year_group=2)
        issue(food, family, c, datetime.date(2024 + n % 2, 11, 5))
    with CaptureQueriesContext(connection) as large:
        impact_report(user=trustee, year=YEAR)
    assert len(large) == len(small) <= 30


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_alone_it_reads_one_snapshot_and_inside_a_transaction_it_hands_back_the_settings(world, trustee):
    """On its own the report's figures come from one read-only REPEATABLE READ transaction; called inside
    someone's transaction, its planner and memory settings (SET LOCAL) do not outlive it."""
    from django.db import connection, transaction

    def settings_now() -> list[str]:
        with connection.cursor() as cursor:
            found = []
            for name in ("work_mem", "jit", "enable_nestloop", "parallel_tuple_cost"):
                cursor.execute(f"SHOW {name}")
                found.append(cursor.fetchone()[0])
            return found

    alone = impact_report(user=trustee, year=YEAR)
    with transaction.atomic():
        before = settings_now()
        inside = impact_report(user=trustee, year=YEAR)
        assert settings_now() == before
    assert [rows(part) for part in inside.parts] == [rows(part) for part in alone.parts]
    assert rows(alone.parts[0])["Families supported"] == ("9", "fewer than 5")


@pytest.mark.postgres
def test_only_the_events_and_the_vouchers_figures_are_planned_with_cheap_parallel_rows(world, trustee):
    """The events statement and the vouchers' grouped figures may be split between parallel workers; the
    other figures (the rolls, counted in a moment alone) keep the default price of a row, and the setting
    is handed back after each."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        impact_report(user=trustee, year=YEAR)
    sql = [query["sql"] for query in queries.captured_queries]
    cheap = [i for i, s in enumerate(sql) if "parallel_tuple_cost = 0.01" in s]
    back = [i for i, s in enumerate(sql) if "parallel_tuple_cost TO DEFAULT" in s]
    events = next(i for i, s in enumerate(sql) if s.startswith("WITH ") and ", fs AS (" in s)
    vouchers = [i for i, s in enumerate(sql) if "vouchers_redemption" in s and "GROUP BY" in s]
    rolls = next(i for i, s in enumerate(sql) if s.startswith('SELECT "support_enrolment"."school_id"'))
    assert len(cheap) == len(back) == 2
    assert cheap[0] < events < back[0] < rolls < cheap[1] < min(vouchers)
    assert max(vouchers) < back[1]
