"""The dashboard's charts, drawn as SVG from plain figures."""

import re

from funds.charts import BurnDownPoint, burn_down_chart


def _text_y(svg: str, text: str) -> float:
    return float(re.search(rf'<text x="[^"]+" y="([^"]+)"[^>]*>{text}</text>', svg).group(1))


def test_it_keeps_the_latest_labels_above_the_month_names_when_the_fund_is_nearly_empty():
    months = ["Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug"]
    reached = {"Sep": (800_000, 700_000), "Oct": (500_000, 300_000), "Nov": (180_000, 120_000)}
    reached["Dec"] = (105_000, 17_400)
    points = [BurnDownPoint(m, 0, *reached.get(m, (None, None))) for m in months]
    svg = burn_down_chart(
        points=points,
        opening_balance_pence=80_000,
        opening_available_pence=40_000,
        title="Standby fund",
        description="Balance and available through the year",
    )
    month_names_y = _text_y(svg, "Jan")
    assert _text_y(svg, "available") < month_names_y - 12
    assert _text_y(svg, "balance") < _text_y(svg, "£174") - 12
