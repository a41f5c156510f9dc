"""The impact report as it may be shown: every figure through ``impact.suppression``, this year beside the
year before, trust-wide and per school.

``impact_report(user=..., year=...)`` is the one read the page, the PDF and the exports use. It refuses
(``PermissionDenied``) a user without ``impact.view``: trust admins, finance and trustees hold it. The
report holds no family, pupil, voucher code or donor: only counts, shares, averages and the fund's money.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from funds.selectors.reports import default_fund, fund_years_totals, pledges_due_and_received
from impact import suppression as sup
from impact.figures import TRUST, Attendance, YearFigures, years_figures
from impact.suppression import Shown
from support.dates import academic_year_start_for
from support.models import School, Service
from support.money import pounds
from support.permissions import has_perm
from uniform.models import ItemKind
from uniform.selectors import secondhand_savings

User = AbstractBaseUser | AnonymousUser | None

FIRST_YEAR = 2015
SAVED = "Saved by donated second-hand uniform (at new prices)"
MEASURES = (
    "Families supported counts each family once, however many kinds of support it had. Pupils supported "
    "counts each pupil once: support given to a pupil, and a voucher given to a family for the family's "
    "pupils at the school that gave it."
)
FSM_MEASURE = (
    "Free school meals means benefits-related free school meals as the school's records show it now (not "
    "universal infant meals); pupil premium as recorded now."
)
ATTENDANCE_WORDS = (
    "Attendance is compared for pupils whose school's export gives it for the term before and the term "
    "after their first support this year, beside pupils of the same school and year group who were not "
    "supported, in the same terms. It shows an association, not proof that the support caused any change: "
    "other things happen in families' lives, and the pupils compared are alike only in school and year."
)
SUPPRESSION_WORDS = (
    f"Small numbers are not shown: a count under {sup.THRESHOLD} shows as \u201c{sup.FEWER}\u201d, and a "
    "share or average is not shown where a count it rests on is under 5, so no family can be recognised."
)


@dataclass(frozen=True)
class Row:
    label: str
    this: Shown
    last: Shown


@dataclass
class Section:
    key: str
    title: str
    rows: list[Row] = field(default_factory=list)
    note: str = ""


@dataclass
class Part:
    """The report for the trust as a whole or for one school."""

    name: str
    school_id: int | None
    sections: list[Section]


@dataclass
class ImpactReport:
    year: int
    label: str
    last_label: str
    start: datetime.date
    end: datetime.date
    generated_at: datetime.datetime
    parts: list[Part]  # the trust first, then each school
    notes: list[str]
    chart_rows: list[tuple[str, Shown, Shown]]  # (kind, this year's pupils, last year's) for the chart

    @property
    def trust(self) -> Part:
        return self.parts[0]

    @property
    def schools(self) -> list[Part]:
        return self.parts[1:]


def year_label(year: int) -> str:
    return f"{year}\u2013{str(year + 1)[-2:]}"


def report_years(today: datetime.date | None = None) -> list[int]:
    this_year = academic_year_start_for(today or timezone.localdate())
    return list(range(this_year, max(FIRST_YEAR, this_year - 6) - 1, -1))


def _given(now: YearFigures, before: YearFigures) -> list:
    """The kinds of support given somewhere in the trust in either year (a kind nobody had is left out)."""
    return [
        kind
        for kind in now.listed
        if any((f.by_kind.get((TRUST, kind.key)) or _none()).families for f in (now, before))
    ]


# --- Sections ------------------------------------------------------------------------------------


def _supported(key, now: YearFigures, before: YearFigures) -> Section:
    section = Section("supported", "Families and pupils supported", note=MEASURES)
    a, b = now.supported.get(key), before.supported.get(key)
    section.rows.append(
        Row("Families supported", sup.count(a.families if a else 0), sup.count(b.families if b else 0))
    )
    section.rows.append(
        Row("Pupils supported", sup.count(a.pupils if a else 0), sup.count(b.pupils if b else 0))
    )
    for kind in _given(now, before):
        this, last = now.by_kind.get((key, kind.key)), before.by_kind.get((key, kind.key))
        section.rows.append(
            Row(
                f"{kind.label}: families",
                sup.count(this.families if this else 0),
                sup.count(last.families if last else 0),
            )
        )
        section.rows.append(
            Row(
                f"{kind.label}: pupils",
                sup.count(this.pupils if this else 0),
                sup.count(last.pupils if last else 0),
            )
        )
    return section


def _reach(key, now: YearFigures, before: YearFigures) -> Section:
    section = Section("reach", "Reach among disadvantaged pupils", note=FSM_MEASURE)
    for measure, label in (
        ("all", "All pupils"),
        ("fsm", "Pupils eligible for free school meals"),
        ("pp", "Pupil premium pupils"),
    ):
        shares = []
        for figures in (now, before):
            reached = figures.reached.get(key, {}).get(measure, 0)
            on_roll = figures.population.get(key, {}).get(measure, 0)
            shares.append(sup.share(reached, on_roll))
        section.rows.append(Row(f"{label}: share supported", *shares))
    for measure, label in (("all", "All pupils"), ("fsm", "Free school meals"), ("pp", "Pupil premium")):
        section.rows.append(
            Row(
                f"{label}: on roll",
                sup.count(now.population.get(key, {}).get(measure, 0)),
                sup.count(before.population.get(key, {}).get(measure, 0)),
            )
        )
    return section


YEAR_GROUPS = ((0, "Reception"), (7, "Year 7"))


def _welcome(key, now: YearFigures, before: YearFigures) -> Section:
    section = Section(
        "welcome",
        "Welcome uniform",
        note=(
            "The share of Reception and Year 7 pupils entitled to the school's welcome pack whose pack "
            "was handed over."
        ),
    )
    for year_group, label in YEAR_GROUPS:
        cells = [figures.welcome.get(key, {}).get(year_group, [0, 0]) for figures in (now, before)]
        section.rows.append(Row(f"{label}: entitled", sup.count(cells[0][0]), sup.count(cells[1][0])))
        section.rows.append(
            Row(
                f"{label}: pack handed over",
                sup.share(cells[0][1], cells[0][0]),
                sup.share(cells[1][1], cells[1][0]),
            )
        )
    return section


def _coats(key, now: YearFigures, before: YearFigures) -> Section:
    section = Section(
        "coats_shoes",
        "Coats and shoes for pupils in need",
        note=(
            "Of the pupils flagged in need now, the share who received a coat this winter and shoes "
            "this year."
        ),
    )
    for kind, label in ((ItemKind.COAT, "a coat this winter"), (ItemKind.SHOES, "shoes this year")):
        cells = [figures.in_need.get((key, str(kind)), [0, 0]) for figures in (now, before)]
        section.rows.append(
            Row(
                f"Pupils in need who received {label}",
                sup.share(cells[0][1], cells[0][0]),
                sup.share(cells[1][1], cells[1][0]),
            )
        )
    flagged = [figures.in_need.get((key, str(ItemKind.COAT)), [0, 0])[0] for figures in (now, before)]
    section.rows.append(Row("Pupils flagged in need", sup.count(flagged[0]), sup.count(flagged[1])))
    return section


def _vouchers(key, now: YearFigures, before: YearFigures) -> Section:
    section = Section(
        "vouchers",
        "Vouchers",
        note=(
            "Take-up is the share of vouchers issued in the year (cancelled ones left out) that were "
            "redeemed."
        ),
    )
    services = [""] + [
        value
        for value, _ in Service.choices
        if (TRUST, value) in now.vouchers or (TRUST, value) in before.vouchers
    ]
    names = dict(Service.choices)
    for service in services:
        prefix = f"{names[service]}: " if service else "All vouchers: "
        cells = [figures.vouchers.get((key, service), {}) for figures in (now, before)]
        section.rows.append(Row(prefix + "issued", *(sup.count(c.get("issued", 0)) for c in cells)))
        section.rows.append(Row(prefix + "redeemed", *(sup.count(c.get("redeemed", 0)) for c in cells)))
        section.rows.append(
            Row(prefix + "take-up", *(sup.share(c.get("redeemed", 0), c.get("issued", 0)) for c in cells))
        )
        section.rows.append(
            Row(
                prefix + "days from issue to redemption (average)",
                *(sup.average(c.get("wait_days", 0), c.get("redeemed", 0), unit=" days") for c in cells),
            )
        )
        section.rows.append(Row(prefix + "expired unused", *(sup.count(c.get("expired", 0)) for c in cells)))
    return section


def _attendance_rows(cell: Attendance | None) -> dict[str, Shown]:
    cell = cell or Attendance()
    return {
        "n": sup.count(cell.n),
        "before": sup.average(cell.before, cell.n, unit="%"),
        "after": sup.average(cell.after, cell.n, unit="%"),
        "pa_before": sup.share(cell.persistent_before, cell.n),
        "pa_after": sup.share(cell.persistent_after, cell.n),
        "c_n": sup.count(cell.compare_n),
        "c_before": sup.average(cell.compare_before, cell.compare_n, unit="%"),
        "c_after": sup.average(cell.compare_after, cell.compare_n, unit="%"),
        "c_pa_before": sup.share(cell.compare_persistent_before, cell.compare_n),
        "c_pa_after": sup.share(cell.compare_persistent_after, cell.compare_n),
    }


ATTENDANCE_LABELS = (
    ("n", "Supported pupils with attendance before and after"),
    ("before", "Supported: attendance the term before first support"),
    ("after", "Supported: attendance the term after first support"),
    ("pa_before", "Supported: persistently absent (under 90%) the term before"),
    ("pa_after", "Supported: persistently absent (under 90%) the term after"),
    ("c_n", "Similar pupils not supported (same school and year group)"),
    ("c_before", "Not supported: attendance the same term before"),
    ("c_after", "Not supported: attendance the same term after"),
    ("c_pa_before", "Not supported: persistently absent the term before"),
    ("c_pa_after", "Not supported: persistently absent the term after"),
)


def _attendance(key, now: YearFigures, before: YearFigures) -> Section:
    section = Section("attendance", "Outcomes: attendance", note=ATTENDANCE_WORDS)
    this, last = _attendance_rows(now.attendance.get(key)), _attendance_rows(before.attendance.get(key))
    for measure, label in ATTENDANCE_LABELS:
        section.rows.append(Row(label, this[measure], last[measure]))
    return section


def _fund(school_id, now: YearFigures, before: YearFigures, summaries, pledges, savings) -> Section:
    """The standby fund: trust-wide income, pledges, spend by category, per pupil supported, committed,
    and what donated second-hand uniform saved it; for a school, its spend, commitments and saving."""
    section = Section("fund", "The standby fund", note="Money is the fund's own and is shown in full.")

    def money(pence: int) -> Shown:
        return sup.money(pence, text=pounds(pence))

    def per_pupil(pence: int, pupils: int) -> Shown:
        shown = sup.average(pence, pupils, places="1")
        if shown.value is None:
            return shown
        return Shown(pounds(int(shown.value)), Decimal(int(shown.value)) / 100)

    years = (now, before)
    if school_id is TRUST:
        section.rows.append(Row("Income", *(money(s.income_pence) for s in summaries)))
        section.rows.append(Row("Pledged for the year", *(money(p[0]) for p in pledges)))
        section.rows.append(Row("Received against pledges", *(money(p[1]) for p in pledges)))
        section.rows.append(Row("Spent", *(money(s.spent_pence) for s in summaries)))
        keys: list[str] = []
        for summary in summaries:
            keys += [group.key for group in summary.categories if group.key not in keys]
        for key in keys:
            groups = [{g.key: g for g in s.categories}.get(key) for s in summaries]
            label = next(g.label for g in groups if g is not None)
            section.rows.append(
                Row(f"Spent on {label.lower()}", *(money(g.spent_pence if g else 0) for g in groups))
            )
        section.rows.append(
            Row(
                "Spent per pupil supported",
                *(
                    per_pupil(s.spent_pence, (f.supported.get(TRUST) or _none()).pupils)
                    for s, f in zip(summaries, years, strict=True)
                ),
            )
        )
        section.rows.append(
            Row(
                "Committed, not yet spent (at the year's end or today)",
                *(money(s.committed_pence) for s in summaries),
            )
        )
        section.rows.append(Row(SAVED, *(money(sum(saved.values())) for saved in savings)))
        return section
    figures = [s.schools.get(school_id, (0, 0)) for s in summaries]  # (spent, committed)
    section.rows.append(Row("Spent at this school", *(money(spent) for spent, _ in figures)))
    section.rows.append(
        Row(
            "Spent per pupil supported",
            *(
                per_pupil(spent, (y.supported.get(school_id) or _none()).pupils)
                for (spent, _), y in zip(figures, years, strict=True)
            ),
        )
    )
    section.rows.append(Row("Committed, not yet spent", *(money(committed) for _, committed in figures)))
    section.rows.append(Row(SAVED, *(money(saved.get(school_id, 0)) for saved in savings)))
    return section


def _none():
    from impact.figures import Counts

    return Counts()


def _part(name: str, key, now: YearFigures, before: YearFigures, summaries, pledges, savings) -> Part:
    return Part(
        name=name,
        school_id=key,
        sections=[
            _supported(key, now, before),
            _reach(key, now, before),
            _welcome(key, now, before),
            _coats(key, now, before),
            _vouchers(key, now, before),
            _fund(key, now, before, summaries, pledges, savings),
            _attendance(key, now, before),
        ],
    )


def impact_report(*, user: User, year: int, school_id: int | None = None) -> ImpactReport:
    """The impact report of the academic year starting September ``year``, beside the year before:
    trust-wide, then each school (or only ``school_id``'s), every figure suppressed where small."""
    if not has_perm(user, "impact.view"):
        raise PermissionDenied
    span = years_figures(year - 1, year)  # both years in one statement
    now, before = span[year], span[year - 1]
    fund = default_fund()
    totals = fund_years_totals(fund=fund, years=[year - 1, year])  # one pass over the ledger for both
    summaries = [totals[year], totals[year - 1]]
    pledges = [pledges_due_and_received(fund=fund, start=f.start, end=f.end) for f in (now, before)]
    # What donated second-hand uniform saved the fund, per school, at the items' new prices.
    savings = [secondhand_savings(f.start, f.end) for f in (now, before)]
    parts = [_part("The trust", TRUST, now, before, summaries, pledges, savings)]
    schools = School.objects.filter(is_active=True).order_by("name")
    if school_id is not None:
        schools = schools.filter(pk=school_id)
        parts = []
    parts += [_part(school.name, school.pk, now, before, summaries, pledges, savings) for school in schools]
    chart_rows = []
    for kind in _given(now, before):
        this, last = now.by_kind.get((TRUST, kind.key)), before.by_kind.get((TRUST, kind.key))
        chart_rows.append(
            (kind.label, sup.count(this.pupils if this else 0), sup.count(last.pupils if last else 0))
        )
    return ImpactReport(
        year=year,
        label=year_label(year),
        last_label=year_label(year - 1),
        start=now.start,
        end=now.end,
        generated_at=timezone.now(),
        parts=parts,
        notes=[SUPPRESSION_WORDS, MEASURES, FSM_MEASURE, ATTENDANCE_WORDS],
        chart_rows=chart_rows,
    )


def report_table(report: ImpactReport) -> list[list]:
    """The report as rows for CSV and XLSX: part, section, measure, this year, last year (the shown
    text for a suppressed figure, the value otherwise)."""
    rows = []
    for part in report.parts:
        for section in part.sections:
            for row in section.rows:
                rows.append(
                    [
                        part.name,
                        section.title,
                        row.label,
                        row.this.text if row.this.value is None else row.this.value,
                        row.last.text if row.last.value is None else row.last.value,
                    ]
                )
    return rows
