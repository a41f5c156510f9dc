"""The impact report's raw figures for academic years, counted in SQL (a handful of queries, however many
years: the report's two are counted together, ``years_figures``).

Nothing here leaves the module unsuppressed: ``impact.selectors`` turns these counts into ``Shown``
values through ``impact.suppression`` before any door sees them.

The SQL is composed from the kinds' own querysets (``query.sql_with_params()``, their values bound as
parameters) and model table names; nothing a user typed is ever part of its text (hence ruff's S608 is
waived for this module in pyproject.toml).

Support events come from the kinds in ``impact.registry``; their querysets are unioned in one SQL
statement (``_events_sql``), every row tagged with its year, so a family or pupil helped in several ways
is counted once a year. Support given to
a family as a whole (a voucher) counts for the family's pupils on the roll of the school that gave it.
"""

import datetime
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Q

from impact.registry import SupportKind, listed_kinds, support_kinds
from support.dates import academic_year_bounds
from support.models import Enrolment, Pupil, PupilAttendance, Registration, Term
from support.models.attendance import TERM_MONTHS
from uniform.models import ItemKind
from uniform.selectors import in_need_received, welcome_coverage
from vouchers.selectors import voucher_year_figures

TRUST = None  # the key of trust-wide figures in every {school id: ...} map
PERSISTENT_ABSENCE_BELOW = Decimal("90")  # the DfE's measure: missing 10% or more of sessions


@dataclass
class Counts:
    families: int = 0
    pupils: int = 0


@dataclass
class Attendance:
    """Supported pupils with attendance the term before and after their first support, and similar
    pupils (same school and year group) not supported, for the same terms."""

    n: int = 0
    before: Decimal = Decimal(0)  # sums of percentages
    after: Decimal = Decimal(0)
    persistent_before: int = 0  # how many were below 90%
    persistent_after: int = 0
    compare_n: int = 0
    compare_before: Decimal = Decimal(0)
    compare_after: Decimal = Decimal(0)
    compare_persistent_before: int = 0
    compare_persistent_after: int = 0


@dataclass
class YearFigures:
    year: int
    start: datetime.date
    end: datetime.date
    kinds: list[SupportKind]  # as registered (the SQL's)
    listed: list[SupportKind]  # as the report lists them (a kind in parts, each part)
    # {school id or TRUST: Counts}
    supported: dict = field(default_factory=lambda: defaultdict(Counts))
    # {(school id or TRUST, kind key): Counts}
    by_kind: dict = field(default_factory=lambda: defaultdict(Counts))
    # {school id or TRUST: {"all": n, "fsm": n, "pp": n}} pupils on roll, and supported among them
    population: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    reached: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    # {school id or TRUST: {year group: (entitled, handed over)}}
    welcome: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(lambda: [0, 0])))
    # {(school id or TRUST, "coat"|"shoes"): [flagged, received]}
    in_need: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    # {(school id or TRUST, service): {"issued", "redeemed", "expired", "wait_days"}}
    vouchers: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    # {school id or TRUST: Attendance}
    attendance: dict = field(default_factory=lambda: defaultdict(Attendance))


def _year_case(column: str, years: list[int]) -> tuple[str, list]:
    """The academic year (of ``years``, consecutive) a date ``column`` falls in, as SQL and parameters."""
    whens, params = [], []
    for year in sorted(years, reverse=True)[:-1]:
        whens.append(f"WHEN {column} >= %s THEN {year}")
        params.append(academic_year_bounds(year)[0])
    if not whens:
        return str(min(years)), params
    return f"CASE {' '.join(whens)} ELSE {min(years)} END", params


def _events_sql(kinds: list[SupportKind], years: list[int]) -> tuple[str, list]:
    """``ev(y, family_id, pupil_id, school_id, on_day, kind)``: every kind's events in ``years``
    (consecutive), unioned, each with its academic year ``y``; and ``pe(y, pupil_id, school_id, on_day,
    kind)``: the pupils they supported."""
    start, end = academic_year_bounds(min(years))[0], academic_year_bounds(max(years))[1]
    parts, params = [], []
    for kind in kinds:
        sql, kind_params = kind.events(start, end).query.sql_with_params()
        if kind.parts:  # the fifth column names the part
            parts.append(f"SELECT t.* FROM ({sql}) t")
            params += kind_params
        else:
            parts.append(f"SELECT t.*, CAST(%s AS VARCHAR(100)) FROM ({sql}) t")
            params += [kind.key, *kind_params]
    pupil = Pupil._meta.db_table
    union = " UNION ALL ".join(parts)
    year, year_params = _year_case("u.on_day", years)
    # On PostgreSQL the kinds sort byte by byte: the database's own collation compares text the slow way.
    kind = "u.kind"
    return (
        f"WITH u(family_id, pupil_id, school_id, on_day, kind) AS ({union}), "
        f"ev AS (SELECT {year} AS y, u.family_id, u.pupil_id, u.school_id, u.on_day, {kind} AS kind "
        "FROM u), "
        "pe(y, pupil_id, school_id, on_day, kind) AS ("
        "SELECT y, pupil_id, school_id, on_day, kind FROM ev WHERE pupil_id IS NOT NULL "
        f"UNION ALL SELECT ev.y, p.id, ev.school_id, ev.on_day, ev.kind FROM ev JOIN {pupil} p "
        "ON p.family_id = ev.family_id AND p.school_id = ev.school_id WHERE ev.pupil_id IS NULL) ",
        [*params, *year_params],
    )


@contextmanager
def _tuned():
    """The report's queries in one transaction (one snapshot for both years) and, on PostgreSQL, with
    room to hash and sort in memory, no JIT (compiling a plan costs more than it saves on a query run
    once) and no nested loops: the planner cannot see how many rows the unioned kinds give (it guessed
    hundreds for 150,000 vouchers) and looked each family's pupils up one by one; every join here is over
    whole sets (bench/impact.py: 2.3 s to 0.8 s). The vouchers' figures, grouped by a year it cannot
    estimate, sorted on disk without the memory."""
    postgresql, outermost = connection.vendor == "postgresql", not connection.in_atomic_block
    with transaction.atomic():
        if postgresql:
            with connection.cursor() as cursor:
                if outermost:  # one snapshot for every figure (the first statement of the transaction)
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute(
                    "SET LOCAL work_mem = '64MB'; SET LOCAL jit = off; SET LOCAL enable_nestloop = off"
                )
        yield
        if postgresql and not outermost:  # SET LOCAL outlives a savepoint: hand the caller its settings back
            with connection.cursor() as cursor:
                cursor.execute(
                    "SET LOCAL work_mem TO DEFAULT; SET LOCAL jit TO DEFAULT; "
                    "SET LOCAL enable_nestloop TO DEFAULT"
                )


def _run(sql: str, params: list) -> list[tuple]:
    """One report query (inside ``_tuned``)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# Every row the one query returns: (measure, year, school id, kind, count, sum before, sum after,
# persistently absent before, after); the supported counts leave the last four empty.
PAD = ", CAST(NULL AS NUMERIC), CAST(NULL AS NUMERIC), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT)"


def _supported_sql() -> tuple[str, str]:
    """Families and pupils supported, each once a year: per school and kind, per school, per kind,
    trust-wide; and supported pupils flagged FSM / pupil premium. Each figure counts the rows of one
    distinct set, each set grouped (hashed) from a smaller one before it: (year, school, kind, family)
    from the events, then (year, school, family), (year, kind, family), (year, family); for pupils,
    ``pk`` (year, school, kind, pupil) and ``sup`` (year, pupil, with the pupil's flags), both from
    ``_attendance_sql``. Hashing beat sorting for the window flags this replaced (bench/impact.py).
    Returns (its CTEs, its SELECTs)."""
    ctes = (
        "fk AS (SELECT y, school_id, kind, family_id FROM ev GROUP BY y, school_id, kind, family_id), "
        "fs AS (SELECT y, school_id, family_id FROM fk GROUP BY y, school_id, family_id), "
        "ps AS (SELECT x.y, x.school_id, s.fsm, s.pupil_premium FROM "
        "(SELECT y, school_id, pupil_id FROM pk GROUP BY y, school_id, pupil_id) x "
        "JOIN sup s ON s.y = x.y AND s.pupil_id = x.pupil_id) "
    )
    n = "CAST(COUNT(*) AS BIGINT)"
    per_kind = "SELECT y, kind FROM {s} GROUP BY y, kind, {who}"
    fsm, pp = "SUM(CASE WHEN fsm THEN 1 ELSE 0 END)", "SUM(CASE WHEN pupil_premium THEN 1 ELSE 0 END)"
    branches = [
        f"'f', y, school_id, kind, {n} FROM fk GROUP BY y, school_id, kind",
        f"'f', y, school_id, NULL, {n} FROM fs GROUP BY y, school_id",
        f"'f', y, NULL, kind, {n} FROM ({per_kind.format(s='fk', who='family_id')}) x GROUP BY y, kind",
        f"'f', y, NULL, NULL, {n} FROM (SELECT y FROM fs GROUP BY y, family_id) x GROUP BY y",
        f"'p', y, school_id, kind, {n} FROM pk GROUP BY y, school_id, kind",
        f"'p', y, school_id, NULL, {n} FROM ps GROUP BY y, school_id",
        f"'p', y, NULL, kind, {n} FROM ({per_kind.format(s='pk', who='pupil_id')}) x GROUP BY y, kind",
        f"'p', y, NULL, NULL, {n} FROM sup GROUP BY y",
        # Reach among disadvantaged pupils: supported pupils flagged FSM / pupil premium.
        f"'fsm', y, school_id, NULL, CAST({fsm} AS BIGINT) FROM ps GROUP BY y, school_id",
        f"'fsm', y, NULL, NULL, CAST({fsm} AS BIGINT) FROM sup GROUP BY y",
        f"'pp', y, school_id, NULL, CAST({pp} AS BIGINT) FROM ps GROUP BY y, school_id",
        f"'pp', y, NULL, NULL, CAST({pp} AS BIGINT) FROM sup GROUP BY y",
    ]
    selects = " UNION ALL ".join(
        "SELECT " + branch.replace(" FROM ", PAD + " FROM ", 1) for branch in branches
    )
    return ctes, selects


FLAGS = (("all", Q()), ("fsm", Q(pupil__fsm=True)), ("pp", Q(pupil__pupil_premium=True)))


def _population(span: dict[int, YearFigures]) -> None:
    """Pupils on a main roll at some time in each year, per school: all, FSM, pupil premium. One query
    for every year of ``span``."""
    first, last = min(span.values(), key=lambda f: f.year), max(span.values(), key=lambda f: f.year)
    counts = {}
    for figures in span.values():
        on_roll = Q(joined__lte=figures.end) & (Q(left_on__isnull=True) | Q(left_on__gte=figures.start))
        for measure, flag in FLAGS:
            counts[f"{measure}_{figures.year}"] = Count("pupil_id", filter=on_roll & flag, distinct=True)
    rows = (
        Enrolment.objects.filter(registration=Registration.MAIN, joined__lte=last.end)
        .filter(Q(left_on__isnull=True) | Q(left_on__gte=first.start))
        .order_by()
        .values("school_id")
        .annotate(**counts)
    )
    for row in rows:
        for figures in span.values():
            if not row[f"all_{figures.year}"]:
                continue  # nobody on this school's roll that year
            for measure, _flag in FLAGS:
                n = row[f"{measure}_{figures.year}"]
                figures.population[row["school_id"]][measure] = n
                figures.population[TRUST][measure] += n


def _welcome(figures: YearFigures) -> None:
    for row in welcome_coverage(figures.year):
        for key in (row["school_id"], TRUST):
            cell = figures.welcome[key][row["year_group"]]
            cell[0] += row["entitled"]
            cell[1] += row["handed_over"]


def _in_need(figures: YearFigures) -> None:
    flagged = Pupil.objects.filter(in_need=True)
    for kind in (ItemKind.COAT, ItemKind.SHOES):
        for row in in_need_received(kind, figures.year, flagged):
            for key in (row["school_id"], TRUST):
                cell = figures.in_need[(key, str(kind))]
                cell[0] += row["flagged"]
                cell[1] += row["received_count"]


def _days(wait) -> int:
    if wait is None:
        return 0
    if isinstance(wait, datetime.timedelta):
        return wait.days
    return int(wait) // 86_400_000_000  # SQLite sums durations as microseconds


def _vouchers(span: dict[int, YearFigures]) -> None:
    years = sorted(span)
    for row in voucher_year_figures([(span[year].start, span[year].end) for year in years]):
        figures = span[years[row["period"]]]
        for key in (row["school_id"], TRUST):
            for service in (row["service"], ""):  # "": every service
                cell = figures.vouchers[(key, service)]
                cell["issued"] += row["issued"]
                cell["redeemed"] += row["redeemed"]
                cell["expired"] += row["expired"]
                cell["wait_days"] += _days(row["wait"])


def term_bounds(year: int, term: int) -> tuple[datetime.date, datetime.date]:
    first, last = TERM_MONTHS[Term(term)]
    start_year = year if first >= 9 else year + 1
    start = datetime.date(start_year, first, 1)
    end = (datetime.date(start_year + (last == 12), last % 12 + 1, 1)) - datetime.timedelta(days=1)
    return start, end


def _attendance_sql(years: list[int]) -> tuple[str, list, str, list]:
    """Attendance the term before and the term after each supported pupil's first support in its year,
    beside unsupported pupils of the same school and year group in the same terms, per year and school,
    for every year of ``years`` (consecutive) at once. A term is numbered ``academic_year * 3 + term - 1``
    so "before" and "after" are the ordinal -1 and +1; every pupil's attendance is pivoted to one row
    once for all the years. Returns (its CTEs, their parameters, its SELECTs, theirs)."""
    pupil, att = Pupil._meta.db_table, PupilAttendance._meta.db_table
    first, last = min(years), max(years)
    base = first * 3 - 1  # the ordinal of the first column: the summer before the first year
    columns = range(3 * (last - first + 1) + 2)  # that summer to the autumn after the last year
    ordinals = [first * 3 + i for i in range(3 * (last - first + 1))]  # the years' own terms
    # The ordinal of the term a first support fell in: the term starts, after the first, in order.
    whens, term_params = [], []
    for ordinal in ordinals[1:]:
        whens.append(f"WHEN x.first_day < %s THEN {ordinal - 1}")
        term_params.append(term_bounds(ordinal // 3, ordinal % 3 + 1)[0])
    term = f"CASE {' '.join(whens)} ELSE {ordinals[-1]} END" if whens else str(ordinals[-1])

    def around(t: str, step: int) -> str:
        whens = " ".join(f"WHEN {o} THEN m.c{o + step - base}" for o in ordinals)
        return f"CASE {t} {whens} END"

    pivot = ", ".join(f"MAX(CASE WHEN o = {i} THEN percent END) AS c{i}" for i in columns)
    ctes = (
        # Each supported pupil's school, year group and the term (its ordinal) of their first support,
        # per year. One row a supported pupil and year (also what ``_supported_sql`` counts them and
        # their flags from).
        "pk AS (SELECT y, school_id, kind, pupil_id, MIN(on_day) AS first_day FROM pe "
        "GROUP BY y, school_id, kind, pupil_id), "
        "sup AS (SELECT x.y, x.pupil_id, p.school_id, p.year_group, p.fsm, p.pupil_premium, "
        f"{term} AS t FROM (SELECT y, pupil_id, MIN(first_day) AS first_day FROM pk "
        f"GROUP BY y, pupil_id) x JOIN {pupil} p ON p.id = x.pupil_id), "
        # Every pupil's attendance in the terms that can be before or after one of the years' (the
        # summer before the first to the autumn after the last), one row a pupil: one pass over the table.
        f"m AS (SELECT pupil_id, {pivot} "
        f"FROM (SELECT pupil_id, academic_year * 3 + term - 1 - %s AS o, percent FROM {att} "
        "WHERE academic_year BETWEEN %s AND %s) x GROUP BY pupil_id), "
        f"measured AS (SELECT s.y, s.school_id, s.year_group, s.t, {around('s.t', -1)} AS before_pc, "
        f"{around('s.t', 1)} AS after_pc FROM sup s JOIN m ON m.pupil_id = s.pupil_id), "
        "measured_both AS (SELECT * FROM measured WHERE before_pc IS NOT NULL AND after_pc IS NOT NULL), "
        "cells AS (SELECT DISTINCT y, school_id, year_group, t FROM measured_both), "
        f"compared AS (SELECT c.y, c.school_id, {around('c.t', -1)} AS before_pc, "
        f"{around('c.t', 1)} AS after_pc FROM cells c "
        f"JOIN {pupil} p ON p.school_id = c.school_id AND p.year_group = c.year_group "
        "JOIN m ON m.pupil_id = p.id "
        "WHERE NOT EXISTS (SELECT 1 FROM sup WHERE sup.y = c.y AND sup.pupil_id = p.id)), "
        "compared_both AS (SELECT * FROM compared WHERE before_pc IS NOT NULL AND after_pc IS NOT NULL), "
    )
    select = (
        "SELECT '{group}', y, school_id, CAST(NULL AS VARCHAR(100)), COUNT(*), SUM(before_pc), "
        "SUM(after_pc), SUM(CASE WHEN before_pc < %s THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN after_pc < %s THEN 1 ELSE 0 END) FROM {source} GROUP BY y, school_id"
    )
    selects = (
        select.format(group="s", source="measured_both")
        + " UNION ALL "
        + select.format(group="c", source="compared_both")
    )
    pa = int(PERSISTENT_ABSENCE_BELOW)
    return ctes, [*term_params, base, first - 1, last + 1], selects, [pa] * 4


def _add_attendance(
    figures: YearFigures, group: str, school_id, n, before, after, pa_before, pa_after
) -> None:
    before, after = Decimal(str(before or 0)), Decimal(str(after or 0))
    for key in (school_id, TRUST):
        cell = figures.attendance[key]
        if group == "s":
            cell.n += n
            cell.before += before
            cell.after += after
            cell.persistent_before += pa_before or 0
            cell.persistent_after += pa_after or 0
        else:
            cell.compare_n += n
            cell.compare_before += before
            cell.compare_after += after
            cell.compare_persistent_before += pa_before or 0
            cell.compare_persistent_after += pa_after or 0


def _from_events(span: dict[int, YearFigures]) -> None:
    """Everything counted from the support events, for every year of ``span`` in ONE query (the events
    unioned once): families and pupils supported (``_supported_sql``) and attendance outcomes
    (``_attendance_sql``)."""
    years = sorted(span)
    kinds = span[years[0]].kinds
    for figures in span.values():  # a year nobody was supported in still says 0
        figures.supported[TRUST] = Counts()
        figures.reached[TRUST]["all"] = 0
    if not kinds:
        return
    head, params = _events_sql(kinds, years)
    att_ctes, att_cte_params, att_selects, att_select_params = _attendance_sql(years)
    sup_ctes, sup_selects = _supported_sql()
    # The attendance rows first: their typed columns type the union's.
    sql = f"{head}, {att_ctes}{sup_ctes}{att_selects} UNION ALL {sup_selects}"
    rows = _run(sql, [*params, *att_cte_params, *att_select_params])
    for measure, year, school_id, kind, n, before, after, pa_before, pa_after in rows:
        figures = span[year]
        if measure in ("s", "c"):
            _add_attendance(figures, measure, school_id, n, before, after, pa_before, pa_after)
        elif measure in ("fsm", "pp"):
            figures.reached[school_id][measure] = n
        else:
            target = figures.supported[school_id] if kind is None else figures.by_kind[(school_id, kind)]
            setattr(target, "families" if measure == "f" else "pupils", n)
            if measure == "p" and kind is None:
                figures.reached[school_id]["all"] = n


def years_figures(first: int, last: int) -> dict[int, YearFigures]:
    """Every raw figure of each academic year from September ``first`` to the one starting September
    ``last``, {year: YearFigures}: the support events of all of them counted in one statement (the
    attendance pivoted and the pupils read once for all), the same figures as each year alone."""
    span = {}
    for year in range(first, last + 1):
        start, end = academic_year_bounds(year)
        span[year] = YearFigures(
            year=year, start=start, end=end, kinds=support_kinds(), listed=listed_kinds()
        )
    with _tuned():
        _from_events(span)
        _population(span)
        for figures in span.values():
            _welcome(figures)
            _in_need(figures)
        _vouchers(span)
    return span


def year_figures(year: int) -> YearFigures:
    """Every raw figure of the academic year starting September ``year``."""
    return years_figures(year, year)[year]
