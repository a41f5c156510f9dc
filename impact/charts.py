"""The impact report's chart, drawn on the server as SVG like the finance dashboard's (funds.charts):
no JavaScript, every text escaped, an image with a title and a description, the figures in a table beside
it. Pairs of bars: this year solid, the year before hatched (not told by colour alone). A suppressed count
draws no bar and says so in words."""

from html import escape

from funds.charts import FONT, GREY, GRID, INK, TEAL
from impact.suppression import Shown


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def pupils_by_kind_chart(
    rows: list[tuple[str, Shown, Shown]], *, this_label: str, last_label: str, chart_id: str = "by-kind"
) -> str:
    width, label_w, value_w = 760, 230, 150
    top, pair_h, bar_h = 56, 44, 16
    plot_left, plot_w = label_w + 10, width - label_w - 10 - value_w
    height = top + max(len(rows), 1) * pair_h + 20
    highest = max([v.value or 0 for _, a, b in rows for v in (a, b)] + [1])
    hatch = f"{_e(chart_id)}-hatch"
    title = f"Pupils supported by kind of support, {this_label} and {last_label}"
    described = "; ".join(
        f"{label}: {a.text} in {this_label}, {b.text} in {last_label}" for label, a, b in rows
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart" width="100%"'
        f' viewBox="0 0 {width} {height}" role="img"'
        f' aria-labelledby="{_e(chart_id)}-title {_e(chart_id)}-desc" font-family="{_e(FONT)}">',
        f'<title id="{_e(chart_id)}-title">{_e(title)}</title>',
        f'<desc id="{_e(chart_id)}-desc">{_e(described or "No support recorded.")}</desc>',
        f'<defs><pattern id="{hatch}" width="6" height="6" patternUnits="userSpaceOnUse"'
        f' patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{TEAL}" stroke-width="3"/></pattern></defs>',
        f'<rect x="{plot_left}" y="14" width="24" height="14" fill="{TEAL}"/>',
        f'<text x="{plot_left + 30}" y="26" font-size="14" fill="{INK}">{_e(this_label)}</text>',
        f'<rect x="{plot_left + 130}" y="14" width="24" height="14" fill="url(#{hatch})" stroke="{TEAL}"/>',
        f'<text x="{plot_left + 160}" y="26" font-size="14" fill="{INK}">{_e(last_label)}</text>',
        f'<line x1="{plot_left}" y1="{top - 6}" x2="{plot_left}" y2="{top + len(rows) * pair_h}"'
        f' stroke="{GRID}"/>',
    ]
    for index, (label, this, last) in enumerate(rows):
        y = top + index * pair_h
        parts.append(
            f'<text x="{label_w}" y="{y + bar_h + 4}" font-size="14" text-anchor="end"'
            f' fill="{INK}">{_e(label)}</text>'
        )
        for offset, shown, fill in ((0, this, TEAL), (bar_h + 2, last, f"url(#{hatch})")):
            length = (shown.value or 0) / highest * plot_w
            if length:
                parts.append(
                    f'<rect x="{plot_left}" y="{y + offset}" width="{max(length, 1):.1f}" height="{bar_h}"'
                    f' fill="{fill}" stroke="{TEAL}"/>'
                )
            parts.append(
                f'<text x="{plot_left + length + 6:.1f}" y="{y + offset + bar_h - 3}" font-size="12"'
                f' fill="{GREY if shown.suppressed else INK}">{_e(shown.text)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
