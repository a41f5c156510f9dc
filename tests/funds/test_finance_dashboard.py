"""Finance's dashboard, its summary exports (CSV, XLSX) and the year-end report (PDF).

The ledger is the one ``test_finance_reports`` works out on paper (2024–25 and 2025–26, entries stamped
with chosen days). The page's figures are checked against ``fund_year_summary`` for the same year.
"""

import csv
import datetime
import io
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from funds.models import FundAllocation, Pledge, SpendRequest
from funds.selectors.reports import fund_year_summary
from funds.services.ledger import fund_donation_record, fund_spend_actual, fund_spend_commit
from support import registry
from support.models import AuditEvent
from support.money import pounds
from tests.factories import FamilyFactory, SchoolFactory
from tests.funds.test_finance_reports import Ledger, build_ledger

DASHBOARD = reverse("finance_dashboard")
CSV_URL = reverse("finance_summary_csv")
XLSX_URL = reverse("finance_summary_xlsx")
PDF_URL = reverse("finance_year_end_pdf")
YEAR = 2025  # 2025–26, over by the time these tests run (the clock only moves ledger entries)
INJECTION = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture
def ledger(finance, school_a, school_b, clock) -> Ledger:
    return build_ledger(finance=finance, school_a=school_a, school_b=school_b, clock=clock)


def _summary(ledger: Ledger, year: int = YEAR):
    return fund_year_summary(fund=ledger.fund, year=year)


def _get(client, url=DASHBOARD, **params):
    response = client.get(url, {"fund": params.pop("fund", None) or "", "year": YEAR, **params})
    assert response.status_code == 200, response.content[:500]
    return response


def _page(client_for, user, **params) -> str:
    return _get(client_for(user), **params).content.decode()


def _headline(html: str, key: str) -> tuple[str, str]:
    """(text, ledger link) of a headline figure."""
    match = re.search(rf'data-figure="{key}">\s*<a [^>]*href="([^"]+)">([^<]+)<', html)
    assert match, f"no headline {key}"
    return match[2], unescape(match[1])


def _params(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    assert parts.path == reverse("finance_ledger")
    return {key: values[0] for key, values in parse_qs(parts.query).items()}


def _section(html: str, table_id: str) -> str:
    start = html.index(f'id="{table_id}"')
    return html[start : html.index("</table>", start)]


def _row(html: str, table_id: str, heading: str) -> str:
    section = _section(html, table_id)
    start = section.index(f">{heading}</th>")
    return section[start : section.index("</tr>", start)]


def _links(fragment: str) -> list[tuple[str, str]]:
    """(text, href) of each link in ``fragment``."""
    return [(text, unescape(href)) for href, text in re.findall(r'<a [^>]*href="([^"]+)">([^<]+)<', fragment)]


# --- Who may see it ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("finance", 200),
        ("admin", 200),
        ("pastoral_a", 403),
        ("lead_a", 403),
        ("charity_staff", 403),
        ("no_role", 403),
        (None, 302),
    ],
)
@pytest.mark.parametrize("url", [DASHBOARD, f"{CSV_URL}?table=months", f"{XLSX_URL}?table=schools", PDF_URL])
def test_who_may_see_the_dashboard_and_its_downloads(request, client_for, db, persona, expected, url):
    user = request.getfixturevalue(persona) if persona else None
    response = client_for(user).get(url)
    assert response.status_code == expected
    if expected == 302:
        assert response["Location"].startswith(reverse("login"))


def test_the_top_navigation_shows_finance_only_to_those_with_fund_view(client_for, finance, pastoral_a):
    finance_page = client_for(finance).get(reverse("home")).content.decode()
    assert f'href="{DASHBOARD}"' in finance_page
    assert ">Finance</a>" in finance_page
    assert ">Finance</a>" not in client_for(pastoral_a).get(reverse("home")).content.decode()
    finance_tabs = {section.name: section.items for section in registry.section_navs()}["finance"]
    assert finance_tabs[0][0] == "finance_dashboard"


def test_the_finance_link_is_current_on_finance_pages(client_for, finance, ledger):
    html = _page(client_for, finance)
    assert re.search(rf'href="{DASHBOARD}" aria-current="page">Finance</a>', html)


# --- What it shows ---------------------------------------------------------------------------------


def test_it_shows_the_years_headline_figures_from_the_summary(client_for, finance, ledger):
    summary = _summary(ledger)
    html = _page(client_for, finance)

    expected = {
        "income": summary.income_pence,
        "actual-spend": summary.spent_pence,
        "committed": summary.committed_pence,
        "balance": summary.balance_pence,
        "available": summary.available_pence,
    }
    assert {key: _headline(html, key)[0] for key in expected} == {
        key: pounds(value) for key, value in expected.items()
    }
    # Worked out on paper in test_finance_reports.
    assert _headline(html, "balance")[0] == "£1,375.00"
    assert _headline(html, "available")[0] == "£1,275.00"


def test_the_headline_figures_drill_down_to_their_entries(client_for, finance, ledger):
    html = _page(client_for, finance)
    fund, year = str(ledger.fund.pk), str(YEAR)

    assert _params(_headline(html, "income")[1]) == {"fund": fund, "year": year, "category": "donation"}
    assert _params(_headline(html, "actual-spend")[1]) == {"fund": fund, "year": year, "kind": "spend"}
    assert _params(_headline(html, "committed")[1]) == {"fund": fund, "year": year, "kind": "commitment"}
    assert _params(_headline(html, "balance")[1]) == {"fund": fund, "year": year}


def test_following_a_figure_shows_entries_that_add_up_to_it(client_for, finance, ledger):
    client = client_for(finance)
    html = _get(client).content.decode()

    # Income: the donations and the reversal of the one recorded twice, net £500.
    income = client.get(_headline(html, "income")[1]).content.decode()
    assert "3 entries" in income
    assert "<strong>£500.00</strong>" in income
    # The balance: the year's ledger ends on the closing balance.
    balance = client.get(_headline(html, "balance")[1]).content.decode()
    assert "<strong>£1,375.00</strong>" in balance
    # A school's spend: Beta's coat, handed over in January.
    [spent, *_] = _links(_row(html, "schools", "Beta Secondary Academy"))
    assert spent[0] == "£30.00"
    beta = client.get(spent[1]).content.decode()
    assert "1 entry" in beta
    assert "<strong>-£30.00</strong>" in beta


def test_it_tables_the_months_with_links_to_each_months_entries(client_for, finance, ledger):
    summary = _summary(ledger)
    html = _page(client_for, finance)

    november = summary.months[2]
    links = _links(_row(html, "months", "November 2025"))
    assert [text for text, _ in links] == [
        pounds(november.flows.income_pence),
        pounds(november.flows.spent_pence),
        pounds(november.flows.committed_pence),
        pounds(november.closing.balance_pence),
        pounds(november.closing.available_pence),
    ]
    assert _params(links[1][1]) == {
        "fund": str(ledger.fund.pk),
        "year": str(YEAR),
        "month": "2025-11",
        "kind": "spend",
    }
    assert _params(links[3][1]) == {"fund": str(ledger.fund.pk), "year": str(YEAR), "month": "2025-11"}


def test_it_tables_schools_against_their_allocations(client_for, finance, ledger):
    html = _page(client_for, finance)

    alpha = _row(html, "schools", "Alpha Primary Academy")
    assert [text for text, _ in _links(alpha)] == ["£25.00", "£0.00", "£25.00"]
    assert "£500.00" in alpha
    assert "£475.00" in alpha
    gamma = _row(html, "schools", "Gamma Alternative Provision")
    assert "£200.00" in gamma
    assert _params(_links(alpha)[0][1]) == {
        "fund": str(ledger.fund.pk),
        "year": str(YEAR),
        "school": str(ledger.school_a.pk),
        "kind": "spend",
    }
    trust_wide = _links(_row(html, "schools", "Trust-wide"))
    assert trust_wide[1][0] == "£100.00"  # the shoes committed
    assert _params(trust_wide[1][1])["school"] == "none"


def test_it_flags_a_school_over_its_allocation(client_for, finance, ledger):
    FundAllocation.objects.filter(school=ledger.school_a, financial_year=YEAR).update(amount_pence=1_000)
    row = _row(_page(client_for, finance), "schools", "Alpha Primary Academy")
    assert "Over by £15.00" in row


def test_it_tables_categories_with_vouchers_by_service(client_for, finance, ledger):
    html = _page(client_for, finance)

    section = _section(html, "categories")
    labels = re.findall(r'<th scope="row"[^>]*>([^<]+)</th>', section)
    assert labels == ["Vouchers", "Vouchers: food parcel", "Coats", "Shoes"]
    food = _links(_row(html, "categories", "Vouchers: food parcel"))
    assert [text for text, _ in food] == ["£25.00", "£0.00", "£25.00"]
    assert _params(food[0][1])["category"] == "voucher:food_parcel"
    assert _params(_links(_row(html, "categories", "Vouchers"))[2][1])["category"] == "voucher"


def test_it_draws_the_three_charts_inline(client_for, finance, ledger):
    html = _page(client_for, finance)

    titles = re.findall(r'<svg [^>]*role="img"[^>]*>\s*<title id="([^"]+)">([^<]+)</title>', html)
    assert [(chart_id, unescape(title)) for chart_id, title in titles] == [
        (
            "burn-down-title",
            "Standby fund through 2025–26: balance and available at each month end",
        ),
        ("by-school-title", "Spend by school in 2025–26, against each school's allocation"),
        ("by-category-title", "Spend by category in 2025–26"),
    ]
    assert "<script" not in html.split("<main", 1)[1].split("</main>", 1)[0]


def test_it_shows_restricted_donations_and_overdue_pledges(client_for, finance, ledger):
    Pledge.objects.create(
        fund=ledger.fund,
        donor="Trustee Two",
        amount_pence=1_000_000,
        next_due=timezone.localdate() - datetime.timedelta(days=3),
        created_by=finance,
    )
    html = _page(client_for, finance)

    assert "1 pledge overdue" in html
    assert "Trustee Two" in html
    assert "£10,000.00" in html
    assert re.search(r"Coats</a></th>\s*<td[^>]*>£500.00</td>", html)


def test_it_counts_spend_waiting_for_approval_and_links_to_the_queue(client_for, finance, ledger, lead_a):
    family = FamilyFactory()
    for status, note in [(SpendRequest.Status.PENDING, ""), (SpendRequest.Status.REJECTED, "No")]:
        SpendRequest.objects.create(
            fund=ledger.fund,
            source_type=ContentType.objects.get_for_model(family),
            source_id=str(family.pk),
            school=ledger.school_a,
            category="coat",
            amount_pence=15_000,
            summary="A coat",
            reason="Winter",
            requested_by=lead_a,
            status=status,
            decision_note=note,
        )
    html = _page(client_for, finance)
    assert f'<a class="govuk-link" href="{reverse("finance_approvals")}">1 spend request waiting' in html


@pytest.mark.parametrize(
    ("today", "year"),
    [("2026-12-05", 2026), ("2027-08-31", 2026), ("2027-09-01", 2027), ("2028-02-29", 2027)],
)
def test_it_defaults_to_the_standby_funds_current_year(client_for, finance, ledger, today, year):
    noon = datetime.datetime.combine(datetime.date.fromisoformat(today), datetime.time(12))
    with time_machine.travel(timezone.make_aware(noon), tick=False):
        response = client_for(finance).get(DASHBOARD)  # signed in on the day: sessions time out
    assert response.status_code == 200
    summary = response.context["summary"]
    assert summary.fund == ledger.fund
    assert summary.year == year


def _current_year() -> int:
    today = timezone.localdate()
    return today.year if today.month >= 9 else today.year - 1


def test_it_shows_another_fund(client_for, finance, ledger, school_a):
    from funds.models import Fund

    other = Fund.objects.create(name="Alpha hardship budget", school=school_a)
    fund_donation_record(
        fund=other,
        donor="PTA",
        amount_pence=9_999,
        received_on=datetime.date(2026, 2, 1),
        gift_aid=False,
        actor=finance,
    )
    response = client_for(finance).get(DASHBOARD, {"fund": other.pk, "year": YEAR})
    assert response.context["summary"].fund == other
    assert _headline(response.content.decode(), "income")[0] == "£99.99"


def test_a_year_not_started_shows_the_position_now(client_for, finance, ledger):
    response = _get(client_for(finance), year=_current_year() + 1)
    html = response.content.decode()
    assert "The year has not started" in html
    assert _headline(html, "balance")[0] == "£1,375.00"
    assert "The year has not started yet." in html  # the burn-down says so too


@pytest.mark.parametrize("params", [{"fund": "999999"}, {"year": "1999"}, {"year": "x"}])
def test_a_bad_choice_is_a_form_error(client_for, finance, ledger, params):
    response = client_for(finance).get(DASHBOARD, params)
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"fund": "999999", "table": "months"},
        {"year": "nope", "table": "months"},
        {"table": "nope"},
        {},
    ],
)
def test_a_download_of_nothing_real_is_a_404(client_for, finance, ledger, params):
    assert client_for(finance).get(CSV_URL, params).status_code == 404
    assert client_for(finance).get(XLSX_URL, params).status_code == 404


def test_the_query_count_does_not_grow_with_the_ledger(client_for, finance, ledger, clock, school_a):
    client = client_for(finance)
    _get(client)  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as small:
        _get(client)

    clock(datetime.date(2025, 12, 24))
    for index in range(20):
        school = SchoolFactory(name=f"School {index:02d}")
        FundAllocation.objects.create(
            fund=ledger.fund, school=school, financial_year=YEAR, amount_pence=5_000
        )
        source = FamilyFactory()
        fund_spend_commit(
            fund=ledger.fund,
            source=source,
            amount_pence=100 + index,
            category=["coat", "shoes", "voucher:furniture", "voucher:white_goods"][index % 4],
            school=[school, school_a, None][index % 3],
            actor=finance,
        )
        if index % 2:
            fund_spend_actual(source=source, actor=finance)
    with CaptureQueriesContext(connection) as large:
        _get(client)

    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]
    assert len(small) <= 17  # the position now is fund_position's: its checkpoint, then the entries since


# --- Summary exports -------------------------------------------------------------------------------


def _csv(client, table: str, **params) -> list[list[str]]:
    response = _get(client, CSV_URL, table=table, **params)
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_months_csv_has_every_month_and_the_years_total(client_for, finance, ledger):
    rows = _csv(client_for(finance), "months")

    assert rows[0][:3] == ["Month", "Income (£)", "Actual spend (£)"]
    assert [row[0] for row in rows[1:13]] == [f"{m.month:%B %Y}" for m in _summary(ledger).months]
    assert rows[1][1:] == ["700.00", "0.00", "0.00", "0.00", "1630.00", "30.00", "1600.00"]
    assert rows[6][2] == "-60.00"  # February: January's spend reversed
    assert rows[13] == ["Year 2025–26", "500.00", "55.00", "225.00", "155.00", "1375.00", "100.00", "1275.00"]


def test_the_schools_csv_neutralises_formulas_in_names(client_for, finance, ledger, clock):
    evil = SchoolFactory(name=INJECTION)
    FundAllocation.objects.create(fund=ledger.fund, school=evil, financial_year=YEAR, amount_pence=100)
    rows = _csv(client_for(finance), "schools")

    assert rows[0] == [
        "School",
        "Allocation (£)",
        "Actual spend (£)",
        "Committed (£)",
        "Spent and committed (£)",
        "Allocation left (£)",
    ]
    assert ["Alpha Primary Academy", "500.00", "25.00", "0.00", "25.00", "475.00"] in rows
    assert ["'" + INJECTION, "1.00", "0.00", "0.00", "0.00", "1.00"] in rows
    assert rows[-1] == ["All schools and trust-wide", "701.00", "55.00", "100.00", "155.00", ""]


def test_the_categories_xlsx_has_numbers_and_no_formulas(client_for, finance, ledger):
    response = _get(client_for(finance), XLSX_URL, table="categories")
    assert response["Content-Disposition"] == 'attachment; filename="standby-fund-2025-26-by-category.xlsx"'
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook["By category"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]

    assert rows[0] == [
        "Group",
        "Category",
        "Category key",
        "Actual spend (£)",
        "Committed (£)",
        "Spent and committed (£)",
    ]
    assert rows[1:] == [
        ["Vouchers", "Vouchers: food parcel", "voucher:food_parcel", 25, 0, 25],
        ["Coats", "Coats", "coat", 30, 0, 30],
        ["Shoes", "Shoes", "shoes", 0, 100, 100],
        ["All categories", None, None, 55, 100, 155],
    ]
    assert sheet["D2"].number_format == '"£"#,##0.00;-"£"#,##0.00'
    assert sheet["A5"].font.b
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert workbook["About"]["B1"].value == "Standby fund"


def test_the_xlsx_neutralises_a_formula_in_a_school_name(client_for, finance, ledger):
    evil = SchoolFactory(name=INJECTION)
    FundAllocation.objects.create(fund=ledger.fund, school=evil, financial_year=YEAR, amount_pence=100)
    response = _get(client_for(finance), XLSX_URL, table="schools")
    sheet = load_workbook(io.BytesIO(response.content))["By school"]

    names = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert "'" + INJECTION in names
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_each_download_is_audited(client_for, finance, ledger):
    client = client_for(finance)
    _get(client, CSV_URL, table="months")
    _get(client, XLSX_URL, table="schools")
    events = AuditEvent.objects.filter(action="finance.summary_exported").order_by("pk")
    assert [(e.after["table"], e.after["format"], e.after["year"]) for e in events] == [
        ("months", "csv", YEAR),
        ("schools", "xlsx", YEAR),
    ]


def test_download_links_show_only_to_those_who_may_export(client_for, finance, ledger, monkeypatch):
    html = _page(client_for, finance)
    assert f"{CSV_URL}?fund={ledger.fund.pk}&amp;year={YEAR}&amp;table=months" in html
    assert f"{PDF_URL}?fund={ledger.fund.pk}&amp;year={YEAR}" in html

    from support import permissions

    monkeypatch.setitem(permissions.PERMISSIONS, "fund.export", frozenset())
    html = _page(client_for, finance)
    assert CSV_URL not in html
    assert PDF_URL not in html


# --- The year-end report ---------------------------------------------------------------------------


def _pdf_text(client, **params) -> tuple[PdfReader, str]:
    response = _get(client, PDF_URL, **params)
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(page.extract_text() for page in reader.pages)
    return reader, re.sub(r"\s+", " ", text)


def test_the_year_end_report_has_the_years_totals_schools_and_donations(client_for, finance, ledger):
    Pledge.objects.create(
        fund=ledger.fund,
        donor="Trustee Two",
        amount_pence=1_000_000,
        next_due=timezone.localdate() + datetime.timedelta(days=30),
        created_by=finance,
    )
    response = _get(client_for(finance), PDF_URL)
    assert response["Content-Disposition"] == (
        'attachment; filename="standby-fund-2025-26-year-end-report.pdf"'
    )
    reader, text = _pdf_text(client_for(finance))

    assert 2 <= len(reader.pages) <= 6
    assert "Year-end report for the trust board" in text
    assert "2025–26" in text
    for figure in ["£1,630.00", "£500.00", "£55.00", "£1,375.00", "£100.00", "£1,275.00"]:
        assert figure in text, figure
    assert "Total £500.00 £55.00 £225.00 £1,375.00 £100.00 £1,275.00" in text
    assert "Alpha Primary Academy £500.00 £25.00 £0.00 £25.00 £475.00" in text
    assert "Vouchers: food parcel" in text
    assert "Trustee One" in text
    assert "Recorded twice (reversed)" in text
    assert "Trustee Two £10,000.00" in text
    # The charts are drawn, with their labels as text.
    assert "Income in the month" in text
    assert "Allocation" in text
    assert AuditEvent.objects.filter(action="finance.summary_exported", after__format="pdf").exists()


def test_the_year_end_report_of_the_year_in_progress_says_so(client_for, finance, ledger):
    _, text = _pdf_text(client_for(finance), year=_current_year())
    assert "The year is not over" in text


def test_finance_home_shows_the_standby_fund_and_the_way_in(client_for, finance):
    page = client_for(finance).get(reverse("home")).content.decode()
    assert "The standby fund" in page
    assert "waiting for your approval" in page
    assert f'href="{DASHBOARD}"' in page
