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


def _kind_bits(kinds: list[SupportKind]) -> list[tuple[str, int]]:
    """Each kind's key (a kind in parts: each part's) with its own bit: a set of kinds is one integer."""
    keys = [listed.key for kind in kinds for listed in kind.listed()]
    if len(keys) > 63:
        raise ValueError(f"{len(keys)} kinds of support: the report's kind masks hold 63")
    return [(key, 1 << i) for i, key in enumerate(keys)]


def _bit_or(expr: str, bits: list[int]) -> str:
    """The aggregate OR of the masks ``expr`` (made of ``bits``): PostgreSQL's BIT_OR; elsewhere (SQLite,
    the tests' database, has none) the sum of each bit's MAX, the same number."""
    if connection.vendor == "postgresql":
        return f"BIT_OR({expr})"
    return "(" + " + ".join(f"MAX({expr} & {bit})" for bit in bits) + ")"


def _events_sql(kinds: list[SupportKind], years: list[int]) -> tuple[str, list]:
    """``k0``, ``k1``, ...: each kind's events; ``kb(kind, bit)``: each kind's bit; ``ev(y, family_id,
    pupil_id, school_id, on_day, bit)``: every kind's events in ``years`` (consecutive), unioned, each with
    its academic year ``y`` and its kind's bit, given in its kind's branch (a kind in parts maps its part
    to the part's bit there), not joined to ``kb`` row by row; ``fs(school_id, family_id, mask_<year>,
    fmask_<year>, fday_<year>, ...)``: each family supported, once a school, with each year's columns:
    the kinds it had that year (``mask_<year>``; NULL: none that year) and of them the ones given to the
    family as a whole, with the first day of those (``fmask_<year>``, ``fday_<year>``; NULL: none) — one
    row for both years of the report, so the pupils' pass joins it once; and ``pl(y, school_id,
    pupil_id, mask, first_day)``: support given to a pupil itself (few), once a pupil, school and year
    (the pupil's own school, flags and spread masks come from the pupils' pass, not from a second look
    at the pupils). Support to a family is spread over its pupils on that school's roll in the one pass
    over the pupils (``_attendance_sql``'s ``ac``). ``ev`` is read where it is used rather than kept (on
    PostgreSQL, NOT MATERIALIZED): ``fs`` reads it whole, and ``pl``'s filter reaches into the union,
    whose branches give one set of column types so that it may, and leaves out the kinds given to
    families (the vouchers). A kind the registry does not list (bit 0) counts in the totals only."""
    start, end = academic_year_bounds(min(years))[0], academic_year_bounds(max(years))[1]
    bits = _kind_bits(kinds)
    bit_of = dict(bits)
    ctes, branches, params, union_params = [], [], [], []
    ids = (
        "CAST(family_id AS BIGINT) AS family_id, CAST(pupil_id AS BIGINT) AS pupil_id, "
        "CAST(school_id AS BIGINT) AS school_id, on_day"
    )
    for i, kind in enumerate(kinds):
        sql, kind_params = kind.events(start, end).query.sql_with_params()
        params += kind_params
        if kind.parts:  # the fifth column names the part
            ctes.append(f"k{i}(family_id, pupil_id, school_id, on_day, part) AS ({sql})")
            whens = " ".join(f"WHEN %s THEN {bit_of[part.key]}" for part in kind.listed())
            bit = f"CASE part {whens} ELSE 0 END"
            union_params += [part.key for part in kind.listed()]
        else:
            ctes.append(f"k{i}(family_id, pupil_id, school_id, on_day) AS ({sql})")
            bit = str(bit_of.get(kind.key, 0))
        branches.append(f"SELECT {ids}, CAST({bit} AS BIGINT) AS bit FROM k{i}")
    values = ", ".join("(CAST(%s AS VARCHAR(100)), CAST(%s AS BIGINT))" for _ in bits)
    union = " UNION ALL ".join(branches)
    year, year_params = _year_case("u.on_day", years)
    every = [b for _k, b in bits]
    per_year = ", ".join(
        f"{_bit_or(f'CASE WHEN y = {y} THEN bit END', every)} AS mask_{y}, "
        f"{_bit_or(f'CASE WHEN y = {y} AND pupil_id IS NULL THEN bit END', every)} AS fmask_{y}, "
        f"MIN(CASE WHEN y = {y} AND pupil_id IS NULL THEN on_day END) AS fday_{y}"
        for y in years
    )
    inline = "NOT MATERIALIZED " if connection.vendor == "postgresql" else ""
    return (
        f"WITH {', '.join(ctes)}, "
        f"kb(kind, bit) AS (VALUES {values}), "
        f"ev AS {inline}(SELECT {year} AS y, u.family_id, u.pupil_id, u.school_id, u.on_day, u.bit "
        f"FROM ({union}) u), "
        f"fs AS (SELECT school_id, family_id, {per_year} FROM (SELECT * FROM ev{_fence()}) e "
        "GROUP BY school_id, family_id), "
        f"pl AS (SELECT y, school_id, pupil_id, {_bit_or('bit', [b for _k, b in bits])} AS mask, "
        "MIN(on_day) AS first_day FROM ev WHERE pupil_id IS NOT NULL GROUP BY y, school_id, pupil_id) ",
        [*params, *[v for pair in bits for v in pair], *year_params, *union_params],
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


@contextmanager
def _parallel_aggregate():
    """On PostgreSQL, a parallel plan priced for what its workers send back, for a grouped statement:
    the vouchers' figures are grouped by a year's CASE, whose groups the planner cannot estimate (it
    guessed 250,000 rows out of about 200), so at the default cost of a row through a Gather it never
    split their scan and their join to the redemptions between workers, though each worker's partial
    aggregate sends only a few hundred rows (bench/impact.py: that statement's time about halved). The
    events statement too, since its families are grouped straight from the vouchers' scan and its
    attendance pivoted per pupil (branch impact5): on a quiet machine its median went from 1.42 to
    1.24-1.28 s at 100,000 families, alternated five times."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL parallel_tuple_cost = 0.01")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL parallel_tuple_cost TO DEFAULT")


def _fence() -> str:
    """After a subquery's last clause: on PostgreSQL, ``OFFSET 0``, so that the subquery is run as it
    stands and its computed columns are computed once a row, not copied into every expression of the
    query around it that reads them (a pivot's eight ``CASE``s each recomputing a term's number: about
    a fifth of the pivot's time, bench/impact.py). SQLite has no such copying to stop (and no OFFSET
    without LIMIT)."""
    return " OFFSET 0" if connection.vendor == "postgresql" else ""


def _run(sql: str, params: list) -> list[tuple]:
    """One report query (inside ``_tuned``)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# Every row the one query returns: (measure, year, school id, kind, count, sum before, sum after,
# persistently absent before, after); the supported counts leave the last four empty.
PAD = ", CAST(NULL AS NUMERIC), CAST(NULL AS NUMERIC), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT)"


def _supported_sql(bits: list[int], years: list[int]) -> tuple[str, str]:
    """Families and pupils supported, each once a year: per school and kind, per school, per kind,
    trust-wide; and supported pupils flagged FSM / pupil premium. Each family is one row a school (``fs``)
    carrying, each year, the set of kinds it had as a mask of their bits; the rows are counted per year
    and mask (a few hundred sets), and a kind's count is the sum over the masks holding its bit: distinct
    counts without a (kind, family) row each; trust-wide, a family's masks at every school are ORed
    first (``fam``). Pupils likewise, per mask: each pupil's spread mask each year (its
    family's, at its own school) is counted in the one pass over the pupils (``ac``, from
    ``_attendance_sql``, whose cells carry the masks), and summed here per year, school and mask; a
    pupil also given support itself (``pl``, few) moves from its spread row's mask to the mask of all it
    had (-1 there, +1 here), per school and trust-wide. No (year, pupil) row is grouped: bench/impact.py.
    Returns (its CTEs, its SELECTs)."""
    flags = "CASE WHEN fsm THEN {one} ELSE 0 END, CASE WHEN pp THEN {one} ELSE 0 END"

    def moved(source: str, by: str) -> str:
        """``source``'s pupils helped themselves: +1 at all they had, -1 at their spread row's mask."""
        return (
            f"UNION ALL SELECT y, {by}mask | COALESCE(smask, 0), 1, {flags.format(one=1)} FROM {source} "
            f"UNION ALL SELECT y, {by}smask, -1, {flags.format(one=-1)} FROM {source} "
            "WHERE smask IS NOT NULL"
        )

    here = "CASE WHEN s_school = school_id THEN smask END"
    ctes = (
        "spm AS ("
        + " UNION ALL ".join(
            f"SELECT {year} AS y, school_id, mask_{year} AS mask, SUM(np) AS n, SUM(nfsm) AS fsm, "
            f"SUM(npp) AS pp FROM ac WHERE mask_{year} IS NOT NULL GROUP BY school_id, mask_{year}"
            for year in years
        )
        + "), "
        # Each pupil helped itself, with its spread row that year (its family's at its own school), if any.
        # (The pupils' pass keeps each such pupil a cell of its own, ``own``: its school, flags and spread
        # masks, with no second look at the pupils or the families.)
        "plj AS (SELECT o.y, o.school_id, o.pupil_id, o.mask, a.nfsm > 0 AS fsm, a.npp > 0 AS pp, "
        f"a.school_id AS s_school, CASE o.y {' '.join(f'WHEN {year} THEN a.mask_{year}' for year in years)} "
        "END AS smask FROM pl o JOIN ac a ON a.own = o.pupil_id), "
        f"pls AS (SELECT y, school_id, mask, {here} AS smask, fsm, pp FROM plj), "
        f"plt AS (SELECT y, {_bit_or('mask', bits)} AS mask, smask, fsm, pp FROM plj "
        "GROUP BY y, pupil_id, smask, fsm, pp), "
        "psm AS (SELECT y, school_id, mask, SUM(n) AS n, SUM(fsm) AS fsm, SUM(pp) AS pp FROM "
        f"(SELECT y, school_id, mask, n, fsm, pp FROM spm {moved('pls', 'school_id, ')}) x "
        "GROUP BY y, school_id, mask), "
        "sym AS (SELECT y, mask, SUM(n) AS n, SUM(fsm) AS fsm, SUM(pp) AS pp FROM "
        f"(SELECT y, mask, n, fsm, pp FROM spm {moved('plt', '')}) x GROUP BY y, mask), "
        "fsm AS ("
        + " UNION ALL ".join(
            f"SELECT {year} AS y, school_id, mask_{year} AS mask, COUNT(*) AS n FROM fs "
            f"WHERE mask_{year} IS NOT NULL GROUP BY school_id, mask_{year}"
            for year in years
        )
        + "), "
        # Each family once a year trust-wide, with all it had at every school.
        "fam AS (SELECT "
        + ", ".join(f"{_bit_or(f'mask_{year}', bits)} AS mask_{year}" for year in years)
        + " FROM fs GROUP BY family_id), "
        "fym AS ("
        + " UNION ALL ".join(
            f"SELECT {year} AS y, mask_{year} AS mask, COUNT(*) AS n FROM fam "
            f"WHERE mask_{year} IS NOT NULL GROUP BY mask_{year}"
            for year in years
        )
        + "), "
    )

    def n(column: str = "n") -> str:
        return f"CAST(SUM({column}) AS BIGINT)"

    # A pupil moved off a mask leaves it at 0: a count that sums to 0 is no row, as none was before.
    by_kind = "{s} JOIN kb ON ({s}.mask & kb.bit) <> 0 GROUP BY y, {by}kb.kind{having}"
    pupils = " HAVING SUM(n) > 0"
    branches = [
        f"'f', y, school_id, kb.kind, {n()} FROM {by_kind.format(s='fsm', by='school_id, ', having='')}",
        f"'f', y, school_id, NULL, {n()} FROM fsm GROUP BY y, school_id",
        f"'f', y, NULL, kb.kind, {n()} FROM {by_kind.format(s='fym', by='', having='')}",
        f"'f', y, NULL, NULL, {n()} FROM fym GROUP BY y",
        f"'p', y, school_id, kb.kind, {n()} FROM {by_kind.format(s='psm', by='school_id, ', having=pupils)}",
        f"'p', y, school_id, NULL, {n()} FROM psm GROUP BY y, school_id{pupils}",
        f"'p', y, NULL, kb.kind, {n()} FROM {by_kind.format(s='sym', by='', having=pupils)}",
        f"'p', y, NULL, NULL, {n()} FROM sym GROUP BY y{pupils}",
        # Reach among disadvantaged pupils: supported pupils flagged FSM / pupil premium.
        f"'fsm', y, school_id, NULL, {n('fsm')} FROM psm GROUP BY y, school_id{pupils}",
        f"'fsm', y, NULL, NULL, {n('fsm')} FROM sym GROUP BY y{pupils}",
        f"'pp', y, school_id, NULL, {n('pp')} FROM psm GROUP BY y, school_id{pupils}",
        f"'pp', y, NULL, NULL, {n('pp')} FROM sym GROUP BY y{pupils}",
    ]
    selects = " UNION ALL ".join(
        "SELECT " + branch.replace(" FROM ", PAD + " FROM ", 1) for branch in branches
    )
    return ctes, selects


FLAGS = (("all", Q()), ("fsm", Q(pupil__fsm=True)), ("pp", Q(pupil__pupil_premium=True)))


def _population(span: dict[int, YearFigures]) -> None:
    """Pupils on a main roll at some time in each year, per school: all, FSM, pupil premium. One query
    for every year of ``span``. A pupil has one roll row at a school (``enrolment_once_per_school``:
    rejoining reopens it), so per school a plain count is the distinct count, at 0.07 s instead of 0.17
    at 100,000 families (bench/impact.py)."""
    first, last = min(span.values(), key=lambda f: f.year), max(span.values(), key=lambda f: f.year)
    counts = {}
    for figures in span.values():
        on_roll = Q(joined__lte=figures.end) & (Q(left_on__isnull=True) | Q(left_on__gte=figures.start))
        for measure, flag in FLAGS:
            counts[f"{measure}_{figures.year}"] = Count("pupil_id", filter=on_roll & flag)
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


def _first_term(column: str, year: int) -> tuple[str, list]:
    """The ordinal (``academic_year * 3 + term - 1``) of the term of ``year`` a date ``column`` (of that
    year, or NULL) falls in, as SQL and parameters."""
    spring, summer = term_bounds(year, 2)[0], term_bounds(year, 3)[0]
    sql = (
        f"CASE WHEN {column} IS NULL THEN NULL WHEN {column} < %s THEN {year * 3} "
        f"WHEN {column} < %s THEN {year * 3 + 1} ELSE {year * 3 + 2} END"
    )
    return sql, [spring, summer]


def _attendance_sql(years: list[int]) -> tuple[str, list, str, list]:
    """Attendance the term before and the term after each supported pupil's first support in its year,
    beside unsupported pupils of the same school and year group in the same terms, per year and school,
    for every year of ``years`` (consecutive) at once. A term is numbered ``academic_year * 3 + term - 1``
    so "before" and "after" are the ordinal -1 and +1; every pupil's attendance is pivoted to one row
    once for all the years. Every pupil, measured or not, is then read once, in one pass, joined to its
    family's rows of every year (``fs``), its attendance and its own support (``pl``), and counted into
    cells (``ac``) of its school, year group, first term in each year (its earliest support that year,
    spread to it from its family's row or its own; NULL: not supported that year) and spread mask each
    year (its family's kinds at its school, ``fmask``; NULL: none), each cell with how many pupils, FSM
    and pupil premium it holds (what ``_supported_sql`` counts from it) and measured around every term
    (pupils with no attendance add nothing there); a pupil given support itself is a cell of its own
    (``own``: its id, NULL for every other pupil), which ``_supported_sql`` reads back; the supported of
    a (year, school, year group, first term) cell are compared with that year's unsupported cell of the
    same school and year group, around the same term. Returns (its CTEs, their parameters, its SELECTs,
    theirs)."""
    pupil, att = Pupil._meta.db_table, PupilAttendance._meta.db_table
    first, last = min(years), max(years)
    base = first * 3 - 1  # the ordinal of the first column: the summer before the first year
    columns = range(3 * (last - first + 1) + 2)  # that summer to the autumn after the last year
    ordinals = [first * 3 + i for i in range(3 * (last - first + 1))]  # the years' own terms

    # Percentages are pivoted, compared and summed as whole hundredths (numeric(5, 2) exactly): integers
    # hash, compare and add several times faster than numerics; the sums are turned back at the end.
    pa = int(PERSISTENT_ABSENCE_BELOW * 100)  # a constant of this module, not a value anyone typed

    def stats(before: str, after: str, suffix) -> str:
        """Over pupils measured both terms: how many, their two sums, how many were persistently absent
        (a sum or count of an expression that is NULL unless both terms are measured: the cheapest form)."""
        return (
            f"COUNT({before} + {after}) AS n{suffix}, SUM(CASE WHEN {after} IS NOT NULL THEN {before} END) "
            f"AS b{suffix}, SUM(CASE WHEN {before} IS NOT NULL THEN {after} END) AS a{suffix}, "
            f"COUNT(CASE WHEN {before} < {pa} THEN {after} END) AS pb{suffix}, "
            f"COUNT(CASE WHEN {after} < {pa} THEN {before} END) AS pa{suffix}"
        )

    def column(ordinal: int) -> str:
        return f"c{ordinal - base}"

    names = ("n", "b", "a", "pb", "pa")
    pivot = ", ".join(f"MAX(CASE WHEN o = {i} THEN hundredths END) AS c{i}" for i in columns)
    firsts = ", ".join(f"t_{year}" for year in years)
    masks = ", ".join(f"mask_{year}" for year in years)
    terms, term_params, own, earliest, spread_masks = [], [], [], [], []
    for year in years:
        term, params = _first_term(f"first_{year}", year)
        terms.append(f"{term} AS t_{year}")
        term_params += params
        # The spread's first day and mask from the family's own row (``fs``, one a school for every
        # year): a hash of the supported families, not of every supported pupil's row (bench/impact.py).
        spread_masks.append(f"s.fmask_{year} AS mask_{year}")
        own.append(f"MIN(CASE WHEN y = {year} THEN first_day END) AS first_{year}")
        spread_day, own_day = f"s.fday_{year}", f"o.first_{year}"
        earliest.append(
            f"CASE WHEN {spread_day} IS NULL OR {own_day} < {spread_day} THEN {own_day} "
            f"ELSE {spread_day} END AS first_{year}"
        )
    cells = " UNION ALL ".join(
        f"SELECT {year} AS y, school_id, year_group, t_{year} AS t, "
        + ", ".join(f"SUM({n}{year * 3 + r - base}) AS {n}{r}" for n in names for r in range(3))
        + f" FROM ac GROUP BY school_id, year_group, t_{year}"
        for year in years
    )
    ctes = (
        # Every pupil's attendance in the terms that can be before or after one of the years' (the
        # summer before the first to the autumn after the last), one row a pupil: one pass over the table.
        f"m AS (SELECT pupil_id, {pivot} "
        f"FROM (SELECT pupil_id, academic_year * 3 + term - 1 - %s AS o, "
        f"CAST(ROUND(percent * 100) AS INTEGER) AS hundredths FROM {att} "
        f"WHERE academic_year BETWEEN %s AND %s{_fence()}) x GROUP BY pupil_id), "
        # Each pupil helped itself: its first such day each year.
        f"po AS (SELECT pupil_id, {', '.join(own)} FROM pl GROUP BY pupil_id), "
        # Every pupil measured around each term, per school, year group and first term in each year.
        f"ac AS (SELECT school_id, year_group, {firsts}, {masks}, own, COUNT(*) AS np, "
        "SUM(CASE WHEN fsm THEN 1 ELSE 0 END) AS nfsm, SUM(CASE WHEN pp THEN 1 ELSE 0 END) AS npp, "
        + ", ".join(stats(column(o - 1), column(o + 1), o - base) for o in ordinals)
        + f" FROM (SELECT x.*, {', '.join(terms)} FROM (SELECT p.school_id, p.year_group, p.fsm, "
        f"p.pupil_premium AS pp, m.*, {', '.join(spread_masks)}, {', '.join(earliest)}, "
        f"CASE WHEN o.pupil_id IS NOT NULL THEN p.id END AS own FROM {pupil} p "
        "LEFT JOIN m ON m.pupil_id = p.id LEFT JOIN fs s ON s.family_id = p.family_id "
        "AND s.school_id = p.school_id "
        f"LEFT JOIN po o ON o.pupil_id = p.id) x) x GROUP BY school_id, year_group, {firsts}, {masks}, own), "
        # Per year, school, year group and first term that year (NULL: not supported), measured around
        # each of the year's three terms (``r``).
        f"cy AS ({cells}), "
        # The supported measured around their own first term: the cells to compare in.
        "ms AS (SELECT * FROM (SELECT y, school_id, year_group, t, "
        + ", ".join(f"CASE t - 3 * y WHEN 0 THEN {n}0 WHEN 1 THEN {n}1 ELSE {n}2 END AS {n}" for n in names)
        + " FROM cy WHERE t IS NOT NULL) x WHERE n > 0) "
    )

    def unsupported(n: str) -> str:
        """A cell's pupils not supported that year, around the cell's term."""
        return f"SUM(CASE c.t - 3 * c.y {' '.join(f'WHEN {r} THEN u.{n}{r}' for r in range(3))} END)"

    count, percents = "CAST({} AS BIGINT)", "CAST({} / 100.0 AS NUMERIC(14, 2))"
    selects = (
        "SELECT 's', y, school_id, CAST(NULL AS VARCHAR(100)), "
        f"{count.format('SUM(n)')}, {percents.format('SUM(b)')}, {percents.format('SUM(a)')}, "
        f"{count.format('SUM(pb)')}, {count.format('SUM(pa)')} "
        "FROM ms GROUP BY y, school_id UNION ALL "
        "SELECT 'c', c.y, c.school_id, NULL, "
        f"{count.format(unsupported('n'))}, {percents.format(unsupported('b'))}, "
        f"{percents.format(unsupported('a'))}, {count.format(unsupported('pb'))}, "
        f"{count.format(unsupported('pa'))} FROM ms c "
        "JOIN cy u ON u.y = c.y AND u.school_id = c.school_id AND u.year_group = c.year_group "
        f"AND u.t IS NULL GROUP BY c.y, c.school_id HAVING {unsupported('n')} > 0"
    )
    return ctes, [base, first - 1, last + 1, *term_params], selects, []


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


def _events_statement(kinds: list[SupportKind], years: list[int]) -> tuple[str, list]:
    """The one statement ``_from_events`` runs, and its parameters."""
    head, params = _events_sql(kinds, years)
    sup_ctes, sup_selects = _supported_sql([bit for _key, bit in _kind_bits(kinds)], years)
    att_ctes, att_cte_params, att_selects, att_select_params = _attendance_sql(years)
    # The attendance rows first: their typed columns type the union's. The pupils' cells (``ac``) come
    # before the supported counts, which read them.
    sql = f"{head}, {att_ctes}, {sup_ctes.rstrip(', ')} {att_selects} UNION ALL {sup_selects}"
    return sql, [*params, *att_cte_params, *att_select_params]


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
    rows = _run(*_events_statement(kinds, years))
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
        with _parallel_aggregate():
            _from_events(span)
        _population(span)
        for figures in span.values():
            _welcome(figures)
            _in_need(figures)
        with _parallel_aggregate():
            _vouchers(span)
    return span


def year_figures(year: int) -> YearFigures:
    """Every raw figure of the academic year starting September ``year``."""
    return years_figures(year, year)[year]
