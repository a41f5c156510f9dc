"""Filters, one way (issue 17): a web list narrows through its app's FilterSet, the one its API uses, never
through a hand-written ``request.GET.get(...)`` chain. The scan below reads every web view module and fails
on a query parameter read by hand that is not paging, a redirect target or a reviewed non-filter."""

import ast
import datetime
from pathlib import Path

import pytest
from django.utils import timezone

from funds.models import Pledge
from funds.services.ledger import standby_fund
from funds.services.pledges import pledge_create
from tests.uniform.test_gifts_fixtures import bag_a, jumper_a, make_intake, pack_a, this_year
from tests.vouchers.factories import PartnerStatementFactory
from uniform.services import gifts as gift_services

FIXTURES = (bag_a, jumper_a, pack_a)  # pytest finds these by name
ROOT = Path(__file__).resolve().parent.parent
WEB_VIEWS = ("funds/web", "vouchers/web", "uniform/web", "support/views.py", "impact/web.py")

# Read anywhere: the pager and a redirect target.
EVERYWHERE = {"page", "next"}
# (module, parameter) → why it is read by hand: none of them narrows a list.
REVIEWED = {
    ("funds/web/dashboard.py", "table"): "which summary table to download (404 if none)",
    ("funds/web/donations.py", "pledge"): "the pledge a new donation's form is filled in from",
    ("vouchers/web/printing.py", "paper"): "the paper a voucher prints on, checked by the print service",
    ("vouchers/web/charity.py", "redeemed"): "the counter's 'hand it over' after its own redemption",
    ("vouchers/web/pastoral.py", "select"): "the list's 'select every voucher on this page'",
    ("uniform/web/requests.py", "kind"): "the new request form's first item kind",
    ("support/views.py", "shown"): "how many timeline entries are shown (paging)",
    ("support/views.py", "format"): "the family export's file format",
    ("support/views.py", "kind"): "the family timeline's kind of entry, from the apps' timeline registry",
}


def _modules() -> list[Path]:
    found: list[Path] = []
    for place in WEB_VIEWS:
        path = ROOT / place
        found += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return found


def _reads_of_get(tree: ast.AST) -> list[tuple[int, str | None]]:
    """Every ``<x>.GET.get(name)``, ``<x>.GET.getlist(name)`` and ``<x>.GET[name]``: (line, name), the
    name ``None`` when it is not a literal string (a helper reading whatever it is given)."""

    def is_get(node: ast.AST) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "GET"

    def literal(node: ast.AST | None) -> str | None:
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

    reads = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("get", "getlist")
            and is_get(node.func.value)
        ):
            reads.append((node.lineno, literal(node.args[0] if node.args else None)))
        elif isinstance(node, ast.Subscript) and is_get(node.value):
            reads.append((node.lineno, literal(node.slice)))
    return reads


def hand_written_filters(source: str, module: str) -> list[str]:
    return [
        f"{module}:{line} reads ?{name}= by hand"
        for line, name in _reads_of_get(ast.parse(source))
        if name not in EVERYWHERE and (module, name) not in REVIEWED
    ]


def test_no_web_view_filters_by_hand():
    found = []
    for path in _modules():
        module = path.relative_to(ROOT).as_posix()
        found += hand_written_filters(path.read_text(), module)
    assert not found, "Filter through the list's FilterSet (<app>/filters.py):\n" + "\n".join(found)


def test_the_scan_sees_a_hand_written_chain():
    source = (
        "def page(request):\n"
        "    rows = Row.objects.all()\n"
        "    if request.GET.get('school'):\n"
        "        rows = rows.filter(school=request.GET['school'])\n"
        "    name = 'year'\n"
        "    return rows.filter(year=self.request.GET.get(name)), request.GET.get('page')\n"
    )
    assert hand_written_filters(source, "x/web/rows.py") == [
        "x/web/rows.py:3 reads ?school= by hand",
        "x/web/rows.py:4 reads ?school= by hand",
        "x/web/rows.py:6 reads ?None= by hand",
    ]


def test_every_reviewed_read_still_exists():
    """A reviewed entry whose read is gone is dead weight that would hide a new chain of the same name."""
    seen = set()
    for path in _modules():
        module = path.relative_to(ROOT).as_posix()
        seen |= {(module, name) for _, name in _reads_of_get(ast.parse(path.read_text()))}
    assert set(REVIEWED) <= seen, set(REVIEWED) - seen


# --- The pages that moved onto their filter sets ------------------------------------------------


@pytest.fixture
def pledges(db, finance):
    fund = standby_fund()
    made = {}
    for donor, frequency in (("Monthly Ltd", "monthly"), ("Yearly plc", "annual")):
        made[donor] = pledge_create(
            fund=fund,
            donor=donor,
            amount_pence=10_00,
            frequency=frequency,
            next_due=timezone.localdate() + datetime.timedelta(days=10),
            gift_aid=False,
            restricted_purpose="",
            actor=finance,
        )
    made["Yearly plc"].is_active = False
    made["Yearly plc"].save(update_fields=["is_active"])
    return made


@pytest.mark.django_db
def test_the_pledges_page_filters_as_the_api_does(client_for, finance, pledges):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(finance)
    for query in ({}, {"is_active": "true"}, {"is_active": "false"}, {"frequency": "monthly"}):
        page = client_for(finance).get("/finance/pledges/", query)
        assert page.status_code == 200
        shown = {p["pledge"].pk for p in page.context["rows"]}
        answer = api.get("/api/v1/pledges/", query).json()["results"]
        assert shown == {row["id"] for row in answer} == set(Pledge.objects.filter(**{
            {"is_active": "is_active"}.get(k, k): {"true": True, "false": False}.get(v, v)
            for k, v in query.items()
        }).values_list("pk", flat=True)), query  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("query", [{"frequency": "hourly"}, {"fund": "1.5"}, {"fund": "x"}])
def test_the_pledges_page_answers_a_bad_filter_with_a_form_error(client_for, finance, pledges, query):
    page = client_for(finance).get("/finance/pledges/", query)
    assert page.status_code == 400
    assert "govuk-error-summary" in page.content.decode()
    assert len(page.context["rows"]) == 2  # the whole list beside the error


@pytest.mark.django_db
def test_the_statements_page_narrows_to_a_partner_and_refuses_another(
    client_for, finance, partner_1, partner_2
):
    month = datetime.date(2026, 1, 1)
    for partner in (partner_1, partner_2):
        PartnerStatementFactory(partner=partner, month=month)
    client = client_for(finance)
    every = client.get("/statements/")
    assert every.status_code == 200
    assert {s.partner_id for s in every.context["page"]} == {partner_1.pk, partner_2.pk}
    one = client.get("/statements/", {"partner": partner_1.pk})
    assert {s.partner_id for s in one.context["page"]} == {partner_1.pk}
    for bad in ("999999", "abc"):
        refused = client.get("/statements/", {"partner": bad})
        assert refused.status_code == 400
        assert "Choose a partner charity from the list" in refused.content.decode()


@pytest.mark.django_db
def test_the_redemptions_list_refuses_a_bad_month(client_for, charity_staff):
    client = client_for(charity_staff)
    assert client.get("/redemptions/").status_code == 200
    assert client.get("/redemptions/", {"month": "2025-11"}).status_code == 200
    for bad in ("2025-13", "November", "99999-01"):
        page = client.get("/redemptions/", {"month": bad})
        assert page.status_code == 400, bad
        assert "Enter a month as year and month" in page.content.decode()
        export = client.get("/redemptions/export.csv", {"month": bad})
        assert export.status_code == 400, bad


@pytest.mark.django_db
def test_the_gift_pages_read_year_and_class_through_the_gift_filter(client_for, lead_a, school_a):
    from uniform.web.gifts import current_year

    client = client_for(lead_a)
    year = current_year()
    assert client.get("/uniform/", {"year": year}).status_code == 200
    overview = client.get("/uniform/", {"year": "abc"})
    assert overview.status_code == 400
    assert "Choose an academic year" in overview.content.decode()
    slips = f"/uniform/schools/{school_a.pk}/packing-list.pdf"
    for bad in ({"year": "1900"}, {"year": "x"}, {"year_group": "x"}, {"year_group": "99"}):
        assert client.get(slips, bad).status_code == 400, bad
    # The API reads the same filter set: the same bounds, as a 400.
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(lead_a)
    assert api.get("/api/v1/gifts/", {"academic_year": "1900"}).status_code == 400
    assert api.get("/api/v1/gifts/", {"year_group": "99"}).status_code == 400
    assert api.get("/api/v1/gifts/", {"academic_year": year, "year_group": 0}).status_code == 200


@pytest.mark.django_db
def test_the_print_pages_print_the_class_asked_for(client_for, lead_a, school_a, pack_a):
    make_intake(school_a, 2)  # Reception
    gift_services.gifts_generate(school=school_a, academic_year=this_year(), actor=lead_a)
    client = client_for(lead_a)
    url = f"/uniform/schools/{school_a.pk}/order.csv"
    reception = client.get(url, {"year": this_year(), "year_group": 0}).content.decode().splitlines()
    year_7 = client.get(url, {"year": this_year(), "year_group": 7}).content.decode().splitlines()
    assert len(reception) > 1  # the header and the Reception packs' lines
    assert year_7 == reception[:1]  # the header alone: no Year 7 packs
