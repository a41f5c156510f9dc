"""Finance's ledger pages: filters, the running balance, exports (CSV and XLSX), one entry and reversal.

A small ledger built through the fund services and worked out on paper (families stand in for the
vouchers and requests that commit money). ``clock`` stamps the entries made next with a chosen day.

    day          entry                                   amount  committed  balance
    1 Oct 2024   donation (FY 2024–25)                   +1000                 1000
    10 Sep 2025  donation                                 +500                 1500
    5 Oct 2025   commit, voucher:food_parcel, school A             +30         1500
    20 Oct 2025  made actual: release, spend                 −30   −30         1470
    3 Nov 2025   commit, coat, school B                            +45         1470
    10 Nov 2025  released (cancelled)                              −45         1470
    12 Nov 2025  commit, shoes, no school                          +20         1470
    15 Nov 2025  made actual: release, spend                 −20   −20         1450
    1 Dec 2025   the voucher spend of 20 Oct reversed        +30               1480
"""

import csv
import datetime
import io
from dataclasses import dataclass

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from funds.models import Fund, LedgerEntry
from funds.services import ledger as fund_module
from funds.services.ledger import (
    SourceFacts,
    fund_commitment_release,
    fund_donation_record,
    fund_entry_reverse,
    fund_spend_actual,
    fund_spend_commit,
    standby_fund,
)
from support.models import AuditEvent
from tests.factories import FamilyFactory

Kind = LedgerEntry.Kind
LEDGER = reverse("finance_ledger")
CSV_URL = reverse("finance_ledger_csv")
XLSX_URL = reverse("finance_ledger_xlsx")
INJECTION = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture
def described(monkeypatch):
    """Describe families (standing in for vouchers) as an app would, with a title that tries a formula.
    Counts its calls: a page must call it once, not once per entry."""
    calls = []

    def describe(ids: list[str]) -> dict[str, SourceFacts]:
        calls.append(ids)
        families = FamilyFactory._meta.model.objects.filter(pk__in=ids)
        return {
            str(family.pk): SourceFacts(
                title=f"{INJECTION} voucher {family.pk}",
                facts=[("State", "Redeemed"), ("Postcode area", "RV1")],
            )
            for family in families
        }

    monkeypatch.setitem(fund_module._DESCRIBERS, "support.family", describe)
    return calls


@dataclass
class Book:
    fund: Fund
    voucher_source: object
    coat_source: object
    shoes_source: object
    voucher_commitment: LedgerEntry
    voucher_spend: LedgerEntry
    coat_commitment: LedgerEntry
    reversal: LedgerEntry


@pytest.fixture
def book(db, finance, school_a, school_b, clock) -> Book:
    fund = standby_fund()

    def donate(day, pence, donor):
        clock(day)
        return fund_donation_record(
            fund=fund, donor=donor, amount_pence=pence, received_on=day, gift_aid=False, actor=finance
        )

    def commit(day, source, pence, category, school):
        clock(day)
        return fund_spend_commit(
            fund=fund, source=source, amount_pence=pence, category=category, school=school, actor=finance
        )

    voucher, coat, shoes = FamilyFactory(), FamilyFactory(), FamilyFactory()
    donate(datetime.date(2024, 10, 1), 1000_00, "Trustee one")
    donate(datetime.date(2025, 9, 10), 500_00, "Trustee two")
    voucher_commitment = commit(datetime.date(2025, 10, 5), voucher, 30_00, "voucher:food_parcel", school_a)
    clock(datetime.date(2025, 10, 20))
    [voucher_spend] = fund_spend_actual(source=voucher, actor=finance)
    coat_commitment = commit(datetime.date(2025, 11, 3), coat, 45_00, "coat", school_b)
    clock(datetime.date(2025, 11, 10))
    fund_commitment_release(source=coat, actor=finance, note="request withdrawn")
    commit(datetime.date(2025, 11, 12), shoes, 20_00, "shoes", None)
    clock(datetime.date(2025, 11, 15))
    fund_spend_actual(source=shoes, actor=finance)
    clock(datetime.date(2025, 12, 1))
    reversal = fund_entry_reverse(entry=voucher_spend, actor=finance, reason=f"{INJECTION} charged twice")
    return Book(fund, voucher, coat, shoes, voucher_commitment, voucher_spend, coat_commitment, reversal)


def _rows(response) -> list[LedgerEntry]:
    assert response.status_code == 200, response.content[:500]
    return response.context["rows"]


def _figures(response) -> list[tuple[str, int, int, int]]:
    """(kind, amount, committed, running) of the page's rows, oldest first."""
    return [(row.kind, row.amount, row.committed, row.running) for row in reversed(_rows(response))]


# --- The running balance -------------------------------------------------------------------------


def test_it_shows_the_balance_after_each_entry_newest_first(client_for, finance, book):
    response = client_for(finance).get(LEDGER)
    assert _figures(response) == [
        (Kind.INCOME, 1000_00, 0, 1000_00),
        (Kind.INCOME, 500_00, 0, 1500_00),
        (Kind.COMMITMENT, 0, 30_00, 1500_00),
        (Kind.COMMITMENT_RELEASE, 0, -30_00, 1500_00),
        (Kind.SPEND, -30_00, 0, 1470_00),
        (Kind.COMMITMENT, 0, 45_00, 1470_00),
        (Kind.COMMITMENT_RELEASE, 0, -45_00, 1470_00),
        (Kind.COMMITMENT, 0, 20_00, 1470_00),
        (Kind.COMMITMENT_RELEASE, 0, -20_00, 1470_00),
        (Kind.SPEND, -20_00, 0, 1450_00),
        (Kind.REVERSAL, 30_00, 0, 1480_00),
    ]
    assert _rows(response)[0].pk == book.reversal.pk  # newest first
    totals = response.context["totals"]
    assert (totals.count, totals.amount_pence, totals.committed_pence) == (11, 1480_00, 0)
    assert totals.closing_pence == 1480_00
    assert response.context["running_label"] == "Balance"
    page = response.content.decode()
    assert "£1,480.00" in page
    assert "Reversal of spend" in page
    assert ">Reversed</strong>" in page  # the reversed spend is tagged


def test_it_carries_the_balance_into_a_year_from_before_it(client_for, finance, book):
    response = client_for(finance).get(LEDGER, {"year": 2025})
    figures = _figures(response)
    assert figures[0] == (Kind.INCOME, 500_00, 0, 1500_00)  # 1000 from 2024–25 + 500
    assert figures[-1][3] == 1480_00
    totals = response.context["totals"]
    assert (totals.count, totals.opening_pence, totals.amount_pence, totals.closing_pence) == (
        10,
        1000_00,
        480_00,
        1480_00,
    )
    assert "Balance before 1 September 2025" in response.content.decode()


def test_it_filters_a_month_with_its_opening_balance(client_for, finance, book):
    response = client_for(finance).get(LEDGER, {"year": 2025, "month": "2025-11"})
    assert _figures(response) == [
        (Kind.COMMITMENT, 0, 45_00, 1470_00),
        (Kind.COMMITMENT_RELEASE, 0, -45_00, 1470_00),
        (Kind.COMMITMENT, 0, 20_00, 1470_00),
        (Kind.COMMITMENT_RELEASE, 0, -20_00, 1470_00),
        (Kind.SPEND, -20_00, 0, 1450_00),
    ]
    assert response.context["totals"].opening_pence == 1470_00


def test_it_filters_by_dates_from_and_to(client_for, finance, book):
    response = client_for(finance).get(LEDGER, {"date_from": "2025-10-20", "date_to": "2025-11-03"})
    assert _figures(response) == [
        (Kind.COMMITMENT_RELEASE, 0, -30_00, 1500_00),
        (Kind.SPEND, -30_00, 0, 1470_00),
        (Kind.COMMITMENT, 0, 45_00, 1470_00),
    ]
    assert response.context["running_label"] == "Balance"


def test_it_shows_a_running_total_of_the_rows_when_a_school_narrows_them(client_for, finance, book, school_a):
    response = client_for(finance).get(LEDGER, {"school": school_a.pk})
    assert _figures(response) == [
        (Kind.COMMITMENT, 0, 30_00, 0),
        (Kind.COMMITMENT_RELEASE, 0, -30_00, 0),
        (Kind.SPEND, -30_00, 0, -30_00),
        (Kind.REVERSAL, 30_00, 0, 0),
    ]
    assert response.context["running_label"] == "Running total of these entries"
    assert response.context["totals"].opening_pence is None
    page = response.content.decode()
    assert "Running total of these entries" in page
    assert "not the fund's balance" in page


def test_it_filters_entries_with_no_school(client_for, finance, book):
    response = client_for(finance).get(LEDGER, {"school": "none"})
    assert [row[0] for row in _figures(response)] == [
        Kind.INCOME,
        Kind.INCOME,
        Kind.COMMITMENT,
        Kind.COMMITMENT_RELEASE,
        Kind.SPEND,
    ]
    assert _figures(response)[-1][3] == 1480_00  # a running total: 1000 + 500 − 20


def test_it_filters_by_school_b(client_for, finance, book, school_b):
    response = client_for(finance).get(LEDGER, {"school": school_b.pk})
    assert {row.category for row in _rows(response)} == {"coat"}
    assert len(_rows(response)) == 2


@pytest.mark.parametrize(
    ("category", "count"),
    [("voucher", 4), ("voucher:food_parcel", 4), ("voucher:furniture", 0), ("coat", 2), ("donation", 2)],
)
def test_it_filters_by_category_group_or_key(client_for, finance, book, category, count):
    response = client_for(finance).get(LEDGER, {"category": category})
    assert response.status_code == 200
    assert response.context["totals"].count == count
    assert response.context["running_label"] == "Running total of these entries"


def test_a_category_group_does_not_match_a_longer_name(client_for, finance, book, clock, school_a):
    clock(datetime.date(2025, 12, 2))
    fund_spend_commit(
        fund=book.fund, source=FamilyFactory(), amount_pence=1_00, category="coats_extra", actor=finance
    )
    response = client_for(finance).get(LEDGER, {"category": "coat"})
    assert {row.category for row in _rows(response)} == {"coat"}


def test_it_filters_by_kind(client_for, finance, book):
    response = client_for(finance).get(LEDGER, {"kind": "spend"})
    # The voucher's spend was reversed: its reversal is listed with the spend, so the total is true.
    assert _figures(response) == [
        (Kind.SPEND, -30_00, 0, -30_00),
        (Kind.SPEND, -20_00, 0, -50_00),
        (Kind.REVERSAL, 30_00, 0, -20_00),
    ]
    assert response.context["totals"].amount_pence == -20_00
    response = client_for(finance).get(LEDGER, {"kind": "reversal"})
    assert [row.kind for row in _rows(response)] == [Kind.REVERSAL]
    response = client_for(finance).get(LEDGER, {"kind": "commitment"})
    assert [row[2] for row in _figures(response)] == [30_00, 45_00, 20_00]
    assert response.context["totals"].committed_pence == 95_00


def test_it_shows_another_fund_when_asked(client_for, finance, book, clock):
    other = Fund.objects.create(name="Hardship budget")
    clock(datetime.date(2025, 9, 20))
    fund_donation_record(
        fund=other,
        donor="PTA",
        amount_pence=75_00,
        received_on=datetime.date(2025, 9, 20),
        gift_aid=False,
        actor=finance,
    )
    response = client_for(finance).get(LEDGER, {"fund": other.pk})
    assert _figures(response) == [(Kind.INCOME, 75_00, 0, 75_00)]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"fund": "abc"}, "Choose a fund from the list"),
        ({"fund": "99999"}, "Choose a fund from the list"),
        ({"year": "abc"}, "Choose a financial year from the list"),
        ({"year": "1900"}, "Choose a financial year from the list"),
        ({"month": "2025-13"}, "Enter a month as year and month, like 2025-11"),
        ({"month": "November"}, "Enter a month as year and month, like 2025-11"),
        ({"year": "2025", "month": "2025-03"}, "March 2025 is not in the 2025–26 financial year"),
        ({"school": "99999"}, "Choose a school from the list"),
        ({"school": "abc"}, "Choose a school from the list"),
        ({"category": "'; DROP TABLE x"}, "Choose a category from the list"),
        ({"kind": "gift"}, "Choose a kind of entry from the list"),
        ({"date_from": "2025-02-30"}, "Enter a real date"),
        ({"date_from": "2025-12-01", "date_to": "2025-11-01"}, "must be on or after"),
    ],
)
def test_bad_filters_are_form_errors_not_500s(client_for, finance, book, params, message):
    client = client_for(finance)
    response = client.get(LEDGER, params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "There is a problem" in response.content.decode()
    assert "rows" not in response.context
    for url in (CSV_URL, XLSX_URL):
        response = client.get(url, params)
        assert response.status_code == 400
        assert message in response.content.decode()
    assert not AuditEvent.objects.filter(action="ledger.exported").exists()


def test_it_defaults_to_the_standby_fund(client_for, finance, book):
    Fund.objects.create(name="A hardship budget")  # sorts before the standby fund
    response = client_for(finance).get(LEDGER)
    assert response.context["fund"] == book.fund
    assert f'<option value="{book.fund.pk}" selected>' in response.content.decode()


def test_it_describes_what_is_behind_a_page_with_one_call(client_for, finance, book, described):
    response = client_for(finance).get(LEDGER)
    assert len(described) == 1
    titles = {row.pk: row.what for row in _rows(response)}
    assert titles[book.voucher_spend.pk] == f"{INJECTION} voucher {book.voucher_source.pk}"
    assert titles[book.reversal.pk].endswith(f"voucher {book.voucher_source.pk}")


def test_the_query_count_does_not_grow_with_the_page(client_for, finance, book, described, clock):
    client = client_for(finance)
    client.get(LEDGER)  # warm the content-type cache and the session
    with CaptureQueriesContext(connection) as few:
        assert client.get(LEDGER, {"year": 2025}).status_code == 200
    clock(datetime.date(2025, 12, 5))
    for _ in range(25):
        source = FamilyFactory()
        fund_spend_commit(fund=book.fund, source=source, amount_pence=1_00, category="coat", actor=finance)
        fund_spend_actual(source=source, actor=finance)
    with CaptureQueriesContext(connection) as many:
        response = client.get(LEDGER, {"year": 2025})
    assert len(response.context["rows"]) == 50  # a full page out of 85
    # (one query per kind of source on the page: the first page had a donation, this one may not)
    assert len(many) <= len(few), "\n".join(q["sql"] for q in many.captured_queries)
    with CaptureQueriesContext(connection) as narrowed:
        assert client.get(LEDGER, {"year": 2025, "kind": "spend", "page": 2}).status_code == 200
    assert len(narrowed) <= len(few)


def test_it_paginates_with_the_balance_continuing_across_pages(client_for, finance, book, clock):
    clock(datetime.date(2025, 12, 5))
    for _ in range(45):
        fund_donation_record(
            fund=book.fund,
            donor="Cake sale",
            amount_pence=1_00,
            received_on=datetime.date(2025, 12, 5),
            gift_aid=False,
            actor=finance,
        )
    client = client_for(finance)
    first = _rows(client.get(LEDGER))
    second = _rows(client.get(LEDGER, {"page": 2}))
    assert len(first) == 50
    assert len(second) == 6
    assert first[0].running == 1480_00 + 45_00
    assert first[-1].running - first[-1].amount == second[0].running  # continuous
    assert second[-1].running == 1000_00


# --- One entry, and reversal ---------------------------------------------------------------------


def test_an_entry_shows_its_chain_source_and_reversal(client_for, finance, book, described):
    response = client_for(finance).get(reverse("finance_entry", args=[book.voucher_spend.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    chain = response.context["chain"]
    assert [entry.kind for entry in chain] == [
        Kind.COMMITMENT,
        Kind.COMMITMENT_RELEASE,
        Kind.SPEND,
        Kind.REVERSAL,
    ]
    assert response.context["reversal"] == book.reversal
    assert reverse("finance_entry", args=[book.reversal.pk]) in page
    assert "Postcode area" in page
    assert "Redeemed" in page
    assert "finance" in page  # who recorded it
    assert "This entry was reversed by entry" in page  # so no reverse button
    assert reverse("finance_entry_reverse", args=[book.voucher_spend.pk]) not in page


def test_a_reversal_links_to_what_it_reverses(client_for, finance, book):
    response = client_for(finance).get(reverse("finance_entry", args=[book.reversal.pk]))
    page = response.content.decode()
    assert reverse("finance_entry", args=[book.voucher_spend.pk]) in page
    assert "charged twice" in page
    assert "Reason for the reversal" in page


def test_an_entry_shows_an_override_reason(client_for, finance, book, clock):
    clock(datetime.date(2025, 12, 3))
    entry = fund_spend_commit(
        fund=book.fund,
        source=FamilyFactory(),
        amount_pence=5000_00,
        category="coat",
        actor=finance,
        override_reason="Trustees agreed by phone",
    )
    page = client_for(finance).get(reverse("finance_entry", args=[entry.pk])).content.decode()
    assert "Balance overridden" in page
    assert "Trustees agreed by phone" in page
    assert "Commitments are not reversed" in page


def test_it_asks_once_saying_what_will_happen_then_reverses(client_for, finance, book, clock):
    [donation] = LedgerEntry.objects.filter(kind=Kind.INCOME, amount_pence=500_00)
    url = reverse("finance_entry_reverse", args=[donation.pk])
    client = client_for(finance)
    page = client.get(url).content.decode()
    assert "from £1,480.00 to £980.00" in page  # the balance
    assert "A reversal cannot itself be reversed" in page

    response = client.post(url, {"reason": "  "})
    assert response.status_code == 400
    assert "Give a reason for the reversal" in response.content.decode()
    assert not LedgerEntry.objects.filter(reverses=donation).exists()

    clock(datetime.date(2025, 12, 4))
    response = client.post(url, {"reason": "Cheque bounced"})
    assert response.status_code == 302
    reversal = LedgerEntry.objects.get(reverses=donation)
    assert (reversal.kind, reversal.amount_pence, reversal.note, reversal.created_by) == (
        Kind.REVERSAL,
        500_00,
        "Cheque bounced",
        finance,
    )
    assert AuditEvent.objects.filter(action="fund.entry_reversed", note="Cheque bounced").exists()
    assert _rows(client.get(LEDGER))[0].running == 980_00

    response = client.post(url, {"reason": "Again"})
    assert response.status_code == 409
    assert "This entry has already been reversed." in response.content.decode()
    assert LedgerEntry.objects.filter(reverses=donation).count() == 1


def test_it_refuses_to_reverse_a_commitment_or_a_reversal(client_for, finance, book):
    client = client_for(finance)
    url = reverse("finance_entry_reverse", args=[book.coat_commitment.pk])
    page = client.get(url).content.decode()
    assert "Commitments are not reversed" in page
    assert 'name="reason"' not in page
    response = client.post(url, {"reason": "Wrong"})
    assert response.status_code == 409
    assert "release the commitment instead" in response.content.decode()

    response = client.post(reverse("finance_entry_reverse", args=[book.reversal.pk]), {"reason": "Wrong"})
    assert response.status_code == 409
    assert "A reversal cannot be reversed" in response.content.decode()
    assert LedgerEntry.objects.filter(kind=Kind.REVERSAL).count() == 1


def test_an_unknown_entry_is_a_404(client_for, finance, book):
    assert client_for(finance).get(reverse("finance_entry", args=[999999])).status_code == 404


# --- Exports -------------------------------------------------------------------------------------


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_csv_is_the_filtered_ledger_oldest_first_with_the_balance(client_for, finance, book, described):
    response = client_for(finance).get(CSV_URL, {"year": 2025})
    assert response["Content-Disposition"] == 'attachment; filename="standby-fund-ledger-2025-26.csv"'
    header, *rows = _csv(response)
    assert header[:4] == ["Entry", "Date", "Recorded", "Back-dated"]
    assert header[11:14] == ["Amount (£)", "Committed (£)", "Balance (£)"]
    assert len(rows) == 10
    assert [row[13] for row in rows] == [
        "1500.00", "1500.00", "1500.00", "1470.00", "1470.00", "1470.00", "1470.00", "1470.00", "1450.00",
        "1480.00",
    ]  # fmt: skip
    spend = next(row for row in rows if row[0] == str(book.voucher_spend.pk))
    assert spend[1:5] == ["20/10/2025", "20/10/2025 12:00", "", "Spend"]
    assert spend[5:8] == ["Vouchers: food parcel", "voucher:food_parcel", "Alpha Primary Academy"]
    assert spend[9:12] == ["support.family", str(book.voucher_source.pk), "-30.00"]
    reversal = rows[-1]
    assert reversal[4] == "Reversal of spend"
    assert reversal[14] == str(book.voucher_spend.pk)
    # Text that would run as a formula is neutralised: the describer's title and the reason.
    assert spend[8] == f"'{INJECTION} voucher {book.voucher_source.pk}"
    assert reversal[15] == f"'{INJECTION} charged twice"
    assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row)


def test_the_csv_under_narrowing_filters_has_a_running_total(client_for, finance, book, school_a):
    header, *rows = _csv(client_for(finance).get(CSV_URL, {"school": school_a.pk}))
    assert header[13] == "Running total (£)"
    assert [row[13] for row in rows] == ["0.00", "0.00", "-30.00", "0.00"]


def test_the_xlsx_has_numeric_money_and_no_formulas(client_for, finance, book, described):
    response = client_for(finance).get(XLSX_URL, {"year": 2025})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="standby-fund-ledger-2025-26.xlsx"'
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook["Ledger"]
    header, *rows = list(sheet.iter_rows())
    assert [cell.value for cell in header][11:14] == ["Amount (£)", "Committed (£)", "Balance (£)"]
    assert len(rows) == 10
    balances = [row[13] for row in rows]
    assert [float(cell.value) for cell in balances][-1] == 1480.0
    assert all(cell.data_type == "n" and "£" in cell.number_format for cell in balances)
    spend = next(row for row in rows if row[0].value == book.voucher_spend.pk)
    assert float(spend[11].value) == -30.0
    assert spend[1].value.date() == datetime.date(2025, 10, 20)
    assert spend[2].value == datetime.datetime(2025, 10, 20, 12, 0)
    assert spend[8].value == f"'{INJECTION} voucher {book.voucher_source.pk}"
    assert spend[8].data_type == "s"
    assert rows[-1][15].value == f"'{INJECTION} charged twice"
    assert not any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row)
    about = {row[0].value: row[1].value for row in workbook["About"].iter_rows()}
    assert about["Fund"] == "Standby fund"
    assert about["Entries"] == 10
    assert float(about["Balance before the first entry"]) == 1000.0


def test_each_export_is_audited_with_its_filters(client_for, finance, book, school_a):
    client = client_for(finance)
    b"".join(client.get(CSV_URL, {"year": 2025, "school": school_a.pk}).streaming_content)
    client.get(XLSX_URL, {"kind": "spend"})
    events = list(AuditEvent.objects.filter(action="ledger.exported").order_by("pk"))
    assert [event.after["format"] for event in events] == ["csv", "xlsx"]
    assert all(event.actor == finance for event in events)
    assert all(event.subject_id == str(book.fund.pk) for event in events)
    assert events[0].subject_type == ContentType.objects.get_for_model(Fund)
    assert events[0].after == {
        "fund": str(book.fund.pk),
        "year": "2025",
        "school": str(school_a.pk),
        "format": "csv",
    }
    assert events[1].after["kind"] == "spend"


def test_the_export_filename_without_a_year(client_for, finance, book):
    response = client_for(finance).get(CSV_URL)
    assert response["Content-Disposition"] == 'attachment; filename="standby-fund-ledger-all-years.csv"'
    assert len(_csv(response)) == 12


# --- Who may ------------------------------------------------------------------------------------


def _urls(book) -> dict[str, str]:
    return {
        "ledger": LEDGER,
        "csv": CSV_URL,
        "xlsx": XLSX_URL,
        "entry": reverse("finance_entry", args=[book.voucher_commitment.pk]),
        "reverse": reverse("finance_entry_reverse", args=[book.voucher_commitment.pk]),
    }


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
@pytest.mark.parametrize("door", ["ledger", "csv", "xlsx", "entry", "reverse"])
def test_who_may_see_the_ledger(request, client_for, book, persona, expected, door):
    user = request.getfixturevalue(persona) if persona else None
    response = client_for(user).get(_urls(book)[door])
    assert response.status_code == expected
    if expected == 302:
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["pastoral_a", "lead_a", "charity_staff"])
def test_others_cannot_reverse(request, client_for, book, persona):
    [donation] = LedgerEntry.objects.filter(kind=Kind.INCOME, amount_pence=500_00)
    response = client_for(request.getfixturevalue(persona)).post(
        reverse("finance_entry_reverse", args=[donation.pk]), {"reason": "Because"}
    )
    assert response.status_code == 403
    assert not LedgerEntry.objects.filter(reverses=donation).exists()


def test_an_admin_sees_the_service_refuse_a_reversal(client_for, admin, book):
    """fund_entry_reverse lets finance alone reverse (admins hold fund.reverse, but the money
    rule is finance's): the page shows the service's answer rather than a rule of its own."""
    [donation] = LedgerEntry.objects.filter(kind=Kind.INCOME, amount_pence=500_00)
    response = client_for(admin).post(
        reverse("finance_entry_reverse", args=[donation.pk]), {"reason": "Duplicate"}
    )
    assert response.status_code == 400
    assert "Only finance can reverse ledger entries." in response.content.decode()
    assert not LedgerEntry.objects.filter(reverses=donation).exists()


def test_export_links_show_only_to_those_who_may_export(client_for, finance, book):
    page = client_for(finance).get(LEDGER, {"year": 2025}).content.decode()
    assert f"{CSV_URL}?fund={book.fund.pk}&amp;year=2025" in page
    assert f"{XLSX_URL}?fund={book.fund.pk}&amp;year=2025" in page


def test_a_donation_on_the_ledger_says_who_gave_it(client_for, finance, book):
    response = client_for(finance).get(LEDGER, {"kind": "income"})
    page = response.content.decode()
    assert "Donation from Trustee one" in page
    assert "Donation from Trustee two" in page
