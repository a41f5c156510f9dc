"""The voucher list (issue 15.7): search by code or family name; tick a page's vouchers to print or
export them. And a voucher code typed into the family search finds its family (15.1)."""

import csv
import io

import pytest
from rest_framework.test import APIClient

from support.models import AuditEvent
from tests.factories import FamilyFactory, PupilFactory, consent_to
from vouchers.services import voucher_issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def okafor(school_a):
    family = FamilyFactory(lead_carer_name="Mrs Grace Okafor", postcode="RV3 7WB")
    PupilFactory(family=family, school=school_a)
    return family


@pytest.fixture
def vouchers(issue, okafor, family_a, food_type):
    """Two of Grace Okafor's vouchers and one of Anna Able's, all issued at school A."""
    return [issue(okafor, food_type), issue(okafor, food_type), issue(family_a, food_type)]


@pytest.fixture
def b_voucher(family_b, food_type, pastoral_b, school_b):
    consent_to(family_b, pastoral_b, food_type.partner)
    return voucher_issue(
        family=family_b, voucher_type=food_type, school=school_b, issued_by=pastoral_b, referral_reason="debt"
    )


def web_ids(client, **params) -> list[int]:
    response = client.get("/vouchers/", params)
    assert response.status_code == 200, response.content[:400]
    return sorted(v.pk for v in response.context["page"].object_list)


def api_ids(user, **params) -> list[int]:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get("/api/v1/vouchers/", params)
    assert response.status_code == 200, response.content[:400]
    return sorted(row["id"] for row in response.json()["results"])


def both(user, client, **params) -> list[int]:
    found = web_ids(client, **params)
    assert api_ids(user, **params) == found, "the web list and the API disagree"
    return found


# --- Search by code or family name ------------------------------------------------------------------


def test_it_finds_a_voucher_by_its_code_typed_any_way(vouchers, client_for, pastoral_a):
    client = client_for(pastoral_a)
    target = vouchers[0]
    for typed in (target.display_code, target.code.lower(), " ".join(target.display_code.split("-"))):
        assert both(pastoral_a, client, q=typed) == [target.pk]


def test_it_finds_a_voucher_by_the_first_characters_of_its_code(vouchers, client_for, pastoral_a):
    target = vouchers[0]
    start = target.code[:8]
    if not any(ch.isdigit() for ch in start):  # a start without a digit reads as a name
        start = target.code[:16]
    found = both(pastoral_a, client_for(pastoral_a), q=start)
    assert target.pk in found
    assert vouchers[2].pk not in found or vouchers[2].code.startswith(start)


@pytest.mark.parametrize("typed", ["Okafor", "okafur", "Mrs Okafor", "grace okafor"])
def test_it_finds_vouchers_by_the_familys_name(vouchers, client_for, pastoral_a, typed):
    assert both(pastoral_a, client_for(pastoral_a), q=typed) == sorted(v.pk for v in vouchers[:2])


def test_it_searches_only_the_users_vouchers(vouchers, b_voucher, client_for, pastoral_a, pastoral_b):
    assert both(pastoral_a, client_for(pastoral_a), q=b_voucher.code) == []
    assert both(pastoral_b, client_for(pastoral_b), q="Okafor") == []


def test_finance_searches_by_code_but_never_by_name(vouchers, client_for, finance):
    client = client_for(finance)
    assert both(finance, client, q=vouchers[0].code) == [vouchers[0].pk]
    # Finance never sees whose a voucher is: a carer's name finds what a made-up one does, nothing.
    assert both(finance, client, q="Okafor") == both(finance, client, q="Nobodyatall") == []


def test_it_refuses_a_search_too_long_with_the_fields_message(client_for, pastoral_a):
    response = client_for(pastoral_a).get("/vouchers/", {"q": "x" * 101})
    assert response.status_code == 400
    assert b"Search for at most 100 characters" in response.content


def test_a_voucher_code_in_the_family_search_finds_its_family(vouchers, b_voucher, client_for, pastoral_a):
    client = client_for(pastoral_a)
    found = client.get("/families/", {"q": vouchers[0].display_code.lower()}).context["page"].object_list
    assert [f.pk for f in found] == [vouchers[0].family_id]
    # Another school's voucher finds nothing, not even that it exists.
    assert list(client.get("/families/", {"q": b_voucher.code}).context["page"].object_list) == []


# --- Select all on a page, to print or export ---------------------------------------------------------


def test_it_ticks_every_printable_voucher_on_the_page_without_javascript(vouchers, client_for, lead_a):
    page = client_for(lead_a).get("/vouchers/", {"q": "Okafor", "select": "page"}).content.decode()
    for voucher in vouchers[:2]:
        assert f'name="voucher" type="checkbox" value="{voucher.pk}" checked' in page
    assert f'value="{vouchers[2].pk}"' not in page  # not on this page: the search left it out
    assert "Clear the ticks on this page" in page
    assert "Export selected (CSV)" in page
    assert "Print selected (PDF)" in page


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_it_exports_just_the_ticked_vouchers(vouchers, b_voucher, client_for, lead_a):
    ticked = [vouchers[0].pk, vouchers[2].pk, b_voucher.pk]  # the last is another school's
    response = client_for(lead_a).post("/vouchers/export.csv", {"voucher": ticked})
    assert response.status_code == 200
    _header, *rows = read_csv(response)
    assert sorted(row[0] for row in rows) == sorted([vouchers[0].display_code, vouchers[2].display_code])
    event = AuditEvent.objects.get(action="vouchers.exported")
    asked = "&".join(f"voucher={pk}" for pk in ticked)
    assert event.after == {"query": asked}


def test_it_asks_for_a_tick_before_exporting_a_selection(vouchers, client_for, lead_a):
    client = client_for(lead_a)
    response = client.post("/vouchers/export.csv", {})
    assert response.status_code == 302
    assert b"Tick the vouchers to export" in client.get(response["Location"]).content


def test_it_refuses_more_ticks_than_a_page_with_a_message(vouchers, client_for, lead_a):
    response = client_for(lead_a).post("/vouchers/export.csv", {"voucher": list(range(1, 102))})
    assert response.status_code == 400
    assert b"Choose at most 100 vouchers at a time" in response.content


def test_it_prints_the_ticked_vouchers(vouchers, client_for, lead_a, eager):
    response = client_for(lead_a).post("/vouchers/print/", {"voucher": [v.pk for v in vouchers[:2]]})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
