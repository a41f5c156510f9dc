"""One filter set per list, for its page and its API: both answer the same for the same filters, a role
filters by nothing it cannot see, and a bad value is a form error on the page (never a 500) and a 400
in the API."""

import datetime
import re

import pytest
from rest_framework.test import APIClient

from funds.filters import DonationFilter, LedgerEntryFilter
from funds.models import LedgerEntry
from funds.selectors.ledger import LedgerFilters, ledger_entries
from funds.services.ledger import fund_donation_record, fund_entry_reverse, standby_fund
from funds.services.pledges import donation_list
from tests.uniform.conftest import make_outdoor_item
from uniform.filters import SupportRequestFilter
from uniform.models import ItemKind, SupportRequest
from uniform.services import requests as request_services

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 10, 5)


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _api_ids(user, url: str, params: dict) -> set[int]:
    answer = _api(user).get(url, {**params, "page_size": 100})
    assert answer.status_code == 200, answer.json()
    return {row["id"] for row in answer.json()["results"]}


@pytest.fixture
def requests_made(family_a, family_b, pastoral_a, pastoral_b, school_a, school_b, lead_a):
    made = []
    for family, staff, school in ((family_a, pastoral_a, school_a), (family_b, pastoral_b, school_b)):
        pupil = family.pupils.get()
        pupil.in_need = True
        pupil.save(update_fields=["in_need"])
        for kind in (ItemKind.COAT, ItemKind.SHOES):
            item = make_outdoor_item(school, kind, cost=5000_00)  # waits for a lead
            made.append(
                request_services.request_create(
                    pupil=pupil,
                    kind=kind,
                    item=item,
                    size=item.sizes[0],
                    reason="Outgrown",
                    urgency="routine",
                    actor=staff,
                )
            )
    request_services.request_reject(request=made[0], actor=lead_a, reason="Has one")
    return made


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"status": "rejected"},
        {"status": "requested"},
        {"kind": "shoes"},
        {"status": "requested", "kind": "coat"},
    ],
)
def test_the_requests_page_and_api_answer_the_same(params, requests_made, client_for, admin, school_b):
    for extra in ({}, {"school": str(school_b.pk)}):
        query = {**params, **extra}
        page = client_for(admin).get("/requests/", query).content.decode()
        shown = {int(pk) for pk in re.findall(r'href="/requests/(\d+)/"', page)}
        assert shown == _api_ids(admin, "/api/v1/support-requests/", query), query
        expected = SupportRequest.objects.filter(**query)
        assert shown == set(expected.values_list("pk", flat=True))


@pytest.mark.parametrize(
    "bad", [{"school": "abc"}, {"school": "99999999999999999999999"}, {"status": "nope"}, {"kind": "hat"}]
)
def test_a_bad_request_filter_is_a_form_error_on_the_page_and_a_400_in_the_api(
    bad, requests_made, client_for, lead_a
):
    page = client_for(lead_a).get("/requests/", bad)
    assert page.status_code == 200
    assert "govuk-error-message" in page.content.decode()
    assert _api(lead_a).get("/api/v1/support-requests/", bad).status_code == 400


def test_finance_cannot_narrow_requests_to_a_pupil(requests_made, finance, rf):
    pupil = requests_made[1].pupil
    everything = _api_ids(finance, "/api/v1/support-requests/", {})
    assert _api_ids(finance, "/api/v1/support-requests/", {"pupil": pupil.pk}) == everything
    request = rf.get("/requests/")
    request.user = finance
    assert "pupil" not in SupportRequestFilter(request.GET, request=request).filters


@pytest.fixture
def fund_with_a_reversal(finance):
    fund = standby_fund()
    kept = fund_donation_record(
        fund=fund, donor="PTA", amount_pence=50_00, received_on=DAY, gift_aid=False, actor=finance
    )
    bounced = fund_donation_record(
        fund=fund, donor="Cheque", amount_pence=20_00, received_on=DAY, gift_aid=False, actor=finance
    )
    income = LedgerEntry.objects.get(source_id=str(bounced.pk), kind=LedgerEntry.Kind.INCOME)
    fund_entry_reverse(entry=income, actor=finance, reason="Bounced")
    return fund, kept


@pytest.mark.parametrize("kind", ["", "income", "reversal"])
@pytest.mark.parametrize("month", [None, DAY.replace(day=1)])
def test_the_ledger_page_and_api_filter_the_same_way(kind, month, fund_with_a_reversal, finance):
    fund, _ = fund_with_a_reversal
    filters = LedgerFilters(fund=fund, kind=kind, month=month)
    shown = {entry.pk for entry in ledger_entries(user=finance, filters=filters)}
    assert shown == _api_ids(finance, "/api/v1/ledger-entries/", filters.as_params())
    if kind == "income" and month is None:  # an entry's reversal (made today) comes with it, on both doors
        assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REVERSAL).get().pk in shown


def test_the_ledger_refuses_a_bad_month_in_the_api_and_on_the_page(fund_with_a_reversal, finance, client_for):
    assert _api(finance).get("/api/v1/ledger-entries/", {"month": "2025-13"}).status_code == 400
    page = client_for(finance).get("/finance/ledger/", {"month": "2025-13"})
    assert page.status_code == 400  # the page, with the error on its form
    assert "Enter a month as year and month" in page.content.decode()
    assert not LedgerEntryFilter({"month": "2025-13"}).is_valid()


def test_the_donations_page_filters_with_the_apis_filter_set(fund_with_a_reversal, finance, client_for):
    fund, kept = fund_with_a_reversal
    year = 2026
    page = client_for(finance).get("/finance/donations/", {"fund": fund.pk, "year": year})
    form = page.context["form"]
    assert type(form).__name__ == "DonationFilterForm"  # django-filter's form of DonationFilter
    assert set(form.fields) == {"fund", "year"} <= set(DonationFilter.base_filters)
    assert (form.cleaned_data["fund"], form.cleaned_data["year"]) == (fund.pk, year)
    listed = {d.pk for d in donation_list(user=finance, fund=fund, year=year)}
    assert kept.pk in listed
    assert listed == _api_ids(finance, "/api/v1/donations/", {"fund": fund.pk, "year": year})
