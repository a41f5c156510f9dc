"""Server-side SVG charts for the finance dashboard and the year-end PDF: no JavaScript, no CDN.

Each chart is a pure function from plain figures to an SVG string with every piece of text escaped, so
a template may mark it safe. The SVG is an image to assistive technology (``role="img"``, a ``<title>``
and a ``<desc>`` that says what the chart shows); the page puts the same figures in a table beside it.
Colours are presentation attributes (the CSP forbids ``style``), drawn from the trust's palette with at
least 3:1 contrast against white, and nothing is told by colour alone: committed spend is hatched,
available is a dashed line, an allocation is a marked line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

from support.money import pounds

if TYPE_CHECKING:
    from funds.selectors.reports import FundYearSummary

TEAL = "#00625a"  # trust brand: 7.3:1 on white
BLUE = "#1d70b8"  # 5.2:1
PURPLE = "#4c2c92"  # 10:1
INK = "#0b0c0c"
GREY = "#505a5f"  # secondary text, 7:1
GRID = "#b1b4b6"
RED = "#d4351c"  # 4.5:1; only with words ("over")
AREA = "#e6efef"  # the balance's fill, a tint of the teal
FONT = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"
CHAR_WIDTH = 0.6  # a generous average glyph width of the fonts, in ems, for fitting labels


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def whole_pounds(pence: int) -> str:
    """1234567 → '£12,346': charts label to the pound; the tables beside them give the pence."""
    rounded = int(math.copysign(math.floor(abs(pence) / 100 + 0.5), pence)) * 100
    return pounds(rounded)[:-3]


def short_pounds(pence: int) -> str:
    """An axis tick: '£0', '£500', '£2.5k', '£40k', '£1.2m'."""
    value = pence / 100
    sign = "-" if value < 0 else ""
    value = abs(value)
    for limit, suffix in ((1_000_000, "m"), (1_000, "k")):
        if value >= limit:
            scaled = value / limit
            text = f"{scaled:.1f}".rstrip("0").rstrip(".") if scaled < 10 else f"{scaled:.0f}"
            return f"{sign}£{text}{suffix}"
    return f"{sign}£{value:.0f}"


def nice_ticks(low: int, high: int, *, count: int = 5) -> list[int]:
    """Round tick values (pence) covering [low, high] and zero, about ``count`` of them."""
    low, high = min(low, 0), max(high, 0)
    if high == low:
        high = low + 10_000
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value < high + step * 0.999:
        ticks.append(round(value))
        value += step
    return ticks


def _fit(label: str, width: float, size: float) -> str:
    """``label`` cut with an ellipsis to fit ``width`` pixels at font ``size``."""
    most = max(int(width / (size * CHAR_WIDTH)), 4)
    return label if len(label) <= most else label[: most - 1].rstrip() + "…"


def _text(
    x: float,
    y: float,
    text: str,
    *,
    size: float = 14,
    anchor: str = "start",
    fill: str = INK,
    bold: bool = False,
) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" font-size="{_num(size)}" text-anchor="{anchor}" fill="{fill}"'
        f"{weight}>{_e(text)}</text>"
    )


def _open_svg(chart_id: str, width: int, height: int, title: str, description: str) -> list[str]:
    cid = _e(chart_id)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart" width="100%"'
        f' viewBox="0 0 {width} {height}" role="img" aria-labelledby="{cid}-title {cid}-desc"'
        f' font-family="{_e(FONT)}">',
        f'<title id="{cid}-title">{_e(title)}</title>',
        f'<desc id="{cid}-desc">{_e(description)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]


def _legend(x: float, y: float, items: Sequence[tuple[str, str]]) -> tuple[list[str], float]:
    """Swatches and labels in a row from (x, y); ``items`` are (swatch SVG at 0,0 in 24×14, label)."""
    parts = []
    for swatch, label in items:
        parts.append(f'<g transform="translate({_num(x)} {_num(y - 11)})">{swatch}</g>')
        parts.append(_text(x + 30, y, label, size=13, fill=GREY))
        x += 30 + len(label) * 13 * CHAR_WIDTH + 22
    return parts, x


# --- Burn-down ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BurnDownPoint:
    """One month: its label, the income in it, and the position at its end (None: not reached)."""

    label: str  # "Sep"
    income_pence: int
    balance_pence: int | None
    available_pence: int | None


def burn_down_chart(
    *,
    points: Sequence[BurnDownPoint],
    opening_balance_pence: int,
    opening_available_pence: int,
    title: str,
    description: str,
    chart_id: str = "burn-down",
    year_labels: tuple[str, str] = ("", ""),
) -> str:
    """The fund's balance (a line over a shaded area) and available (a dashed line) at the start of the
    year and at each month end, with each month's income as a bar. Months not reached are left blank.

    The x axis has a slot for the start of the year and one for each month; a month's point and its
    income bar sit in its slot, above its name.
    """
    width, height = 760, 340
    left, right, top, bottom = 64, 112, 50, 54
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / (len(points) + 1)

    def cx(index: int) -> float:  # index -1: the start of the year
        return left + slot * (index + 1.5)

    reached = [(i, p) for i, p in enumerate(points) if p.balance_pence is not None]
    values = [opening_balance_pence, opening_available_pence, 0]
    values += [p.income_pence for p in points]
    values += [v for _i, p in reached for v in (p.balance_pence, p.available_pence) if v is not None]
    ticks = nice_ticks(min(values), max(values))
    low, high = ticks[0], ticks[-1]

    def y(pence: int) -> float:
        return top + plot_h - (pence - low) / (high - low) * plot_h

    parts = _open_svg(chart_id, width, height, title, description)
    legend, _ = _legend(
        left,
        22,
        [
            (
                f'<rect x="0" y="0" width="24" height="14" fill="{AREA}"/>'
                f'<line x1="0" y1="2" x2="24" y2="2" stroke="{TEAL}" stroke-width="3"/>',
                "Balance",
            ),
            (
                f'<line x1="0" y1="7" x2="24" y2="7" stroke="{BLUE}" stroke-width="3"'
                ' stroke-dasharray="6 3"/>',
                "Available (balance less committed)",
            ),
            (f'<rect x="6" y="1" width="12" height="13" fill="{PURPLE}"/>', "Income in the month"),
        ],
    )
    parts += legend

    for tick in ticks:
        parts.append(
            f'<line x1="{left}" y1="{_num(y(tick))}" x2="{left + plot_w}" y2="{_num(y(tick))}"'
            f' stroke="{GRID}" stroke-width="1" stroke-dasharray="2 3"/>'
        )
        parts.append(_text(left - 8, y(tick) + 5, short_pounds(tick), size=13, anchor="end", fill=GREY))
    parts.append(_text(cx(-1), top + plot_h + 20, "Start", size=13, anchor="middle", fill=GREY))
    for index, point in enumerate(points):
        parts.append(_text(cx(index), top + plot_h + 20, point.label, size=13, anchor="middle"))
    first_year, second_year = year_labels
    if first_year and points:
        parts.append(_text(cx(0), top + plot_h + 40, first_year, size=12, anchor="middle", fill=GREY))
    if second_year and len(points) > 4:
        parts.append(_text(cx(4), top + plot_h + 40, second_year, size=12, anchor="middle", fill=GREY))

    balance = [(cx(-1), y(opening_balance_pence))] + [(cx(i), y(p.balance_pence)) for i, p in reached]
    available = [(cx(-1), y(opening_available_pence))] + [
        (cx(i), y(p.available_pence)) for i, p in reached if p.available_pence is not None
    ]
    if reached:
        # Layers: the balance's area, then the income bars over it, then the lines and their points.
        line = " ".join(f"{_num(px)},{_num(py)}" for px, py in balance)
        baseline = y(max(low, 0))
        parts.append(
            f'<polygon points="{_num(balance[0][0])},{_num(baseline)} {line} '
            f'{_num(balance[-1][0])},{_num(baseline)}" fill="{AREA}"/>'
        )
    bar_w = min(slot * 0.34, 20)
    for index, point in enumerate(points):
        if point.income_pence:
            y0, y1 = sorted((y(0), y(point.income_pence)))
            parts.append(
                f'<rect x="{_num(cx(index) - bar_w / 2)}" y="{_num(y0)}" width="{_num(bar_w)}"'
                f' height="{_num(max(y1 - y0, 1))}" fill="{PURPLE}">'
                f"<title>{_e(point.label)}: {_e(pounds(point.income_pence))} income</title></rect>"
            )
    parts.append(
        f'<line x1="{left}" y1="{_num(y(0))}" x2="{left + plot_w}" y2="{_num(y(0))}" stroke="{INK}"'
        ' stroke-width="1"/>'
    )
    if reached:
        parts.append(
            f'<polyline points="{line}" fill="none" stroke="{TEAL}" stroke-width="3"'
            ' stroke-linejoin="round"/>'
        )
        parts.append(
            f'<polyline points="{" ".join(f"{_num(px)},{_num(py)}" for px, py in available)}" fill="none"'
            f' stroke="{BLUE}" stroke-width="3" stroke-dasharray="8 4" stroke-linejoin="round"/>'
        )
        for px, py in balance:
            parts.append(f'<circle cx="{_num(px)}" cy="{_num(py)}" r="4" fill="{TEAL}"/>')
        for px, py in available:
            parts.append(
                f'<circle cx="{_num(px)}" cy="{_num(py)}" r="3.5" fill="#ffffff" stroke="{BLUE}"'
                ' stroke-width="2"/>'
            )
        # Direct labels beside the latest points, kept apart when the two lines run close.
        last = reached[-1][1]
        (bx, by), (_ax, ay) = balance[-1], available[-1]
        if abs(by - ay) < 34:
            middle = (by + ay) / 2
            by, ay = (middle - 17, middle + 17) if by <= ay else (middle + 17, middle - 17)
        # Near zero the lower label's second line would sit on the month names: lift both labels.
        lowest = max(by, ay) if last.available_pence is not None else by
        overshoot = lowest + 14 - (top + plot_h - 4)
        if overshoot > 0:
            by, ay = by - overshoot, ay - overshoot
        label_x = bx + 12
        parts.append(_text(label_x, by, whole_pounds(last.balance_pence), size=14, bold=True, fill=TEAL))
        parts.append(_text(label_x, by + 14, "balance", size=12, fill=GREY))
        if last.available_pence is not None:
            parts.append(
                _text(label_x, ay, whole_pounds(last.available_pence), size=14, bold=True, fill=BLUE)
            )
            parts.append(_text(label_x, ay + 14, "available", size=12, fill=GREY))
    else:
        parts.append(
            _text(
                left + plot_w / 2,
                top + plot_h / 2,
                "The year has not started yet.",
                anchor="middle",
                fill=GREY,
            )
        )
    parts.append("</svg>")
    return "".join(parts)


# --- Horizontal bars: by school, by category ------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    actual_pence: int
    committed_pence: int = 0
    marker_pence: int | None = None  # e.g. the school's allocation


def bar_chart(
    *,
    bars: Sequence[Bar],
    title: str,
    description: str,
    chart_id: str,
    marker_label: str = "Allocation",
    empty_text: str = "Nothing spent or committed this year.",
) -> str:
    """Horizontal bars, one a row: actual spend solid, open commitments hatched after it, and a marker
    line where ``marker_pence`` is set. The total is written at the end of each bar."""
    width = 760
    label_w, value_w = 236, 180
    top, row_h, bar_h = 56, 34, 18
    plot_left, plot_w = label_w + 10, width - label_w - 10 - value_w
    height = top + max(len(bars), 1) * row_h + 34
    hatch = f"{_e(chart_id)}-hatch"

    highest = max(
        [max(b.actual_pence, 0) + max(b.committed_pence, 0) for b in bars]
        + [b.marker_pence or 0 for b in bars]
        + [0]
    )
    ticks = nice_ticks(0, highest, count=5)
    scale_top = ticks[-1]

    def x(pence: int) -> float:
        return plot_left + max(pence, 0) / scale_top * plot_w

    parts = _open_svg(chart_id, width, height, title, description)
    parts.append(
        f'<defs><pattern id="{hatch}" width="6" height="6" patternUnits="userSpaceOnUse"'
        f' patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{TEAL}" stroke-width="3"/></pattern></defs>'
    )
    legend_items = [
        (f'<rect x="0" y="0" width="24" height="14" fill="{TEAL}"/>', "Actual spend"),
        (
            f'<rect x="0.75" y="0.75" width="22.5" height="12.5" fill="url(#{hatch})" stroke="{TEAL}"'
            ' stroke-width="1.5"/>',
            "Committed",
        ),
    ]
    if any(b.marker_pence is not None for b in bars):
        legend_items.append(
            (f'<line x1="12" y1="-3" x2="12" y2="17" stroke="{INK}" stroke-width="3"/>', marker_label)
        )
    legend, _ = _legend(plot_left, 22, legend_items)
    parts += legend

    bottom = top + max(len(bars), 1) * row_h
    for tick in ticks:
        tx = x(tick)
        stroke, dash = (INK, "") if tick == 0 else (GRID, ' stroke-dasharray="2 3"')
        parts.append(
            f'<line x1="{_num(tx)}" y1="{top - 6}" x2="{_num(tx)}" y2="{bottom}" stroke="{stroke}"'
            f' stroke-width="1"{dash}/>'
        )
        parts.append(_text(tx, bottom + 18, short_pounds(tick), size=13, anchor="middle", fill=GREY))

    if not bars:
        parts.append(
            _text(plot_left + plot_w / 2, top + row_h / 2 + 5, empty_text, anchor="middle", fill=GREY)
        )
    for index, bar in enumerate(bars):
        row_y = top + index * row_h
        bar_y = row_y + (row_h - bar_h) / 2
        label = _fit(bar.label, label_w - 6, 14)
        title_tag = f"<title>{_e(bar.label)}</title>" if label != bar.label else ""
        parts.append(
            f'<text x="{label_w}" y="{_num(bar_y + bar_h - 4)}" font-size="14" text-anchor="end"'
            f' fill="{INK}">{title_tag}{_e(label)}</text>'
        )
        actual, committed = max(bar.actual_pence, 0), max(bar.committed_pence, 0)
        x0, x1, x2 = x(0), x(actual), x(actual + committed)
        if actual:
            parts.append(
                f'<rect x="{_num(x0)}" y="{_num(bar_y)}" width="{_num(max(x1 - x0, 1))}" height="{bar_h}"'
                f' fill="{TEAL}"/>'
            )
        if committed:
            parts.append(
                f'<rect x="{_num(x1 + 0.75)}" y="{_num(bar_y + 0.75)}" width="{_num(max(x2 - x1 - 1.5, 1))}"'
                f' height="{bar_h - 1.5}" fill="url(#{hatch})" stroke="{TEAL}" stroke-width="1.5"/>'
            )
        total = bar.actual_pence + bar.committed_pence
        value = whole_pounds(total)
        over = False
        if bar.marker_pence is not None:
            mx = x(bar.marker_pence)
            parts.append(
                f'<line x1="{_num(mx)}" y1="{_num(bar_y - 5)}" x2="{_num(mx)}" y2="{_num(bar_y + bar_h + 5)}"'
                f' stroke="{INK}" stroke-width="3"/>'
            )
            value = f"{value} of {whole_pounds(bar.marker_pence)}"
            over = total > bar.marker_pence
        end = max(x2, x(bar.marker_pence) if bar.marker_pence is not None else 0)
        over_tag = f' <tspan font-weight="bold" fill="{RED}">over</tspan>' if over else ""
        parts.append(
            f'<text x="{_num(end + 8)}" y="{_num(bar_y + bar_h - 4)}" font-size="14" fill="{INK}">'
            f"{_e(value)}{over_tag}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


# --- The dashboard's three charts from a summary --------------------------------------------------


def _month_name(summary: FundYearSummary, index: int) -> str:
    return f"{summary.months[index].month:%B %Y}"


def burn_down_for(summary: FundYearSummary, *, chart_id: str = "burn-down") -> str:
    points = [
        BurnDownPoint(
            label=f"{m.month:%b}",
            income_pence=m.flows.income_pence,
            balance_pence=m.closing.balance_pence if m.closing else None,
            available_pence=m.closing.available_pence if m.closing else None,
        )
        for m in summary.months
    ]
    reached = [i for i, m in enumerate(summary.months) if m.closing is not None]
    if reached:
        last = summary.months[reached[-1]].closing
        busiest = max(summary.months, key=lambda m: m.flows.income_pence)
        description = (
            f"Balance {pounds(summary.opening.balance_pence)} on 1 September {summary.year}, "
            f"{pounds(last.balance_pence)} at the end of {_month_name(summary, reached[-1])}"
            f"{' (to date)' if summary.is_current else ''}. Available (balance less committed) "
            f"{pounds(summary.opening.available_pence)}, then {pounds(last.available_pence)}. "
            f"Income in the year {pounds(summary.income_pence)}"
        )
        if busiest.flows.income_pence > 0:
            description += f", most in {busiest.month:%B %Y} ({pounds(busiest.flows.income_pence)})"
        description += "."
    else:
        description = f"The year {summary.label} has not started yet."
    return burn_down_chart(
        points=points,
        opening_balance_pence=summary.opening.balance_pence,
        opening_available_pence=summary.opening.available_pence,
        title=f"{summary.fund.name} through {summary.label}: balance and available at each month end",
        description=description,
        chart_id=chart_id,
        year_labels=(str(summary.year), str(summary.year + 1)),
    )


def _bars_description(plural: str, bars: Sequence[Bar]) -> str:
    if not bars:
        return "Nothing spent or committed this year."
    top = max(bars, key=lambda bar: bar.actual_pence + bar.committed_pence)
    text = (
        f"{len(bars)} {plural}. Spent {pounds(sum(b.actual_pence for b in bars))} and committed "
        f"{pounds(sum(b.committed_pence for b in bars))} in all; the most, {top.label}: "
        f"{pounds(top.actual_pence)} spent, {pounds(top.committed_pence)} committed."
    )
    over = [
        b.label
        for b in bars
        if b.marker_pence is not None and b.actual_pence + b.committed_pence > b.marker_pence
    ]
    if over:
        text += f" Over their allocation: {', '.join(over)}."
    return text


def schools_chart_for(summary: FundYearSummary, *, chart_id: str = "by-school") -> str:
    bars = [Bar(s.name, s.spent_pence, s.committed_pence, s.allocation_pence) for s in summary.schools]
    return bar_chart(
        bars=bars,
        title=f"Spend by school in {summary.label}, against each school's allocation",
        description=_bars_description("schools", bars),
        chart_id=chart_id,
    )


def categories_chart_for(summary: FundYearSummary, *, chart_id: str = "by-category") -> str:
    bars = [Bar(row.label, row.spent_pence, row.committed_pence) for row in summary.category_rows]
    return bar_chart(
        bars=bars,
        title=f"Spend by category in {summary.label}",
        description=_bars_description("categories", bars),
        chart_id=chart_id,
    )


def charts_for(summary: FundYearSummary, *, prefix: str = "") -> dict[str, str]:
    """The three charts for ``summary``: ``burn_down``, ``schools``, ``categories``."""
    return {
        "burn_down": burn_down_for(summary, chart_id=f"{prefix}burn-down"),
        "schools": schools_chart_for(summary, chart_id=f"{prefix}by-school"),
        "categories": categories_chart_for(summary, chart_id=f"{prefix}by-category"),
    }
