"""Finance's donation and pledge pages: who may use them, the form's checks, pre-fill from a pledge."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone
from django.utils.formats import date_format

from funds.models import Donation, Fund, LedgerEntry, Pledge
from funds.services.ledger import financial_year_for, fund_donation_record, standby_fund
from funds.services.pledges import pledge_create, pledge_stop
from support.models import AuditEvent
from support.money import parse_pounds

TODAY = timezone.localdate()
YEAR = financial_year_for(TODAY)
FY_START = datetime.date(YEAR, 9, 1)


@pytest.fixture
def fund(db):
    return standby_fund()


@pytest.fixture
def pledge(fund, finance):
    return pledge_create(
        fund=fund,
        donor="Trustee: Mr B. Example",
        amount_pence=10_000_00,
        frequency=Pledge.Frequency.ANNUAL,
        next_due=FY_START,
        gift_aid=True,
        restricted_purpose="coat",
        actor=finance,
    )


def _donate(fund, finance, amount_pence=100_00, **extra) -> Donation:
    values = {"donor": "Riverton Rotary", "received_on": TODAY, "gift_aid": False}
    values.update(extra)
    return fund_donation_record(fund=fund, amount_pence=amount_pence, actor=finance, **values)


def _form(fund, **extra) -> dict:
    data = {
        "fund": fund.pk,
        "donor": "Riverton Rotary",
        "amount": "£1,250.50",
        "received_on": TODAY.isoformat(),
        "restricted_purpose": "",
        "pledge": "",
        "confirm": "yes",  # as from the check page a donation of £1,000 or more is read back on
    }
    data.update(extra)
    return data


# --- Who may use them ----------------------------------------------------------------------------

URLS = [
    ("get", "/finance/donations/"),
    ("get", "/finance/donations/new/"),
    ("post", "/finance/donations/new/"),
    ("get", "/finance/pledges/"),
    ("get", "/finance/pledges/new/"),
    ("post", "/finance/pledges/new/"),
    ("get", "/finance/pledges/{pledge}/stop/"),
    ("post", "/finance/pledges/{pledge}/stop/"),
]
ROLES = [
    ("finance", {"get": 200, "post": 400}),
    ("admin", {"get": 200, "post": 400}),
    ("pastoral_a", {"get": 403, "post": 403}),
    ("lead_a", {"get": 403, "post": 403}),
    ("charity_staff", {"get": 403, "post": 403}),
    ("no_role", {"get": 403, "post": 403}),
    (None, {"get": 302, "post": 302}),
]


@pytest.mark.parametrize(("persona", "expected"), ROLES)
@pytest.mark.parametrize(("method", "url"), URLS)
def test_permissions(request, client_for, pledge, persona, expected, method, url):
    user = request.getfixturevalue(persona) if persona else None
    response = getattr(client_for(user), method)(url.format(pledge=pledge.pk), {})
    assert response.status_code == expected[method]
    if persona is None:
        assert response["Location"].startswith("/accounts/login/")


def test_nobody_but_finance_changes_anything(client_for, fund, pledge, lead_a):
    client = client_for(lead_a)
    client.post("/finance/donations/new/", _form(fund))
    client.post(f"/finance/pledges/{pledge.pk}/stop/", {"reason": "No"})
    assert not Donation.objects.exists()
    pledge.refresh_from_db()
    assert pledge.is_active


# --- Recording a donation ------------------------------------------------------------------------


def test_it_records_a_donation_as_income_and_says_so(client_for, fund, finance):
    response = client_for(finance).post("/finance/donations/new/", _form(fund, gift_aid="on"))
    assert response.status_code == 302
    assert response["Location"] == f"/finance/donations/?fund={fund.pk}&year={YEAR}"
    donation = Donation.objects.get()
    assert (donation.donor, donation.amount_pence, donation.gift_aid, donation.received_on) == (
        "Riverton Rotary",
        1_250_50,
        True,
        TODAY,
    )
    entry = LedgerEntry.objects.get(source_id=str(donation.pk))
    assert (entry.kind, entry.amount_pence, entry.fund_id) == ("income", 1_250_50, fund.pk)
    # The check at each donation: Gift Aid is asked for, but no declaration from the donor covers it.
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "£1,250.50 from Riverton Rotary recorded in Standby fund. No Gift Aid declaration from this donor "
        "covers it yet: record one before it can be claimed."
    ]
    page = client_for(finance).get(response["Location"])
    assert "Riverton Rotary" in page.content.decode()


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("12.345", "no more than 2 digits after the point"),
        ("-5", "more than £0"),
        ("£-5", "more than £0"),
        ("0", "more than £0"),
        ("abc", "Enter an amount in pounds"),
        ("1,00", "Enter an amount in pounds"),
        ("", "Enter the amount"),
        ("99999999999", "no more than £10,000,000.00"),
    ],
)
def test_it_refuses_a_bad_amount_on_the_field(client_for, fund, finance, amount, message):
    response = client_for(finance).post("/finance/donations/new/", _form(fund, amount=amount))
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors["amount"])
    html = response.content.decode()
    assert 'class="govuk-error-summary"' in html
    assert 'href="#id_amount"' in html
    assert not Donation.objects.exists()


@pytest.mark.parametrize(
    ("text", "pence"),
    [("£10,000.00", 10_000_00), ("10000", 10_000_00), ("10,000", 10_000_00), ("250.5", 250_50), ("0.01", 1)],
)
def test_it_reads_pounds_as_people_type_them(text, pence):
    assert parse_pounds(text) == pence


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"donor": "  "}, "donor"),
        ({"received_on": (TODAY + datetime.timedelta(days=1)).isoformat()}, "received_on"),
        ({"received_on": "31/02/2026"}, "received_on"),
        ({"restricted_purpose": "holidays"}, "restricted_purpose"),
        ({"pledge": "999999"}, "pledge"),
    ],
)
def test_it_refuses_other_bad_details(client_for, fund, finance, extra, field):
    response = client_for(finance).post("/finance/donations/new/", _form(fund, **extra))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Donation.objects.exists()


def test_a_refusal_from_the_service_shows_on_its_field(client_for, fund, finance, pledge):
    other = Fund.objects.create(name="Riverside hardship budget")
    response = client_for(finance).post("/finance/donations/new/", _form(other, pledge=pledge.pk))
    assert response.status_code == 400
    assert response.context["form"].errors["pledge"] == ["This pledge is to Standby fund."]
    assert not Donation.objects.exists()


def test_a_closed_fund_is_not_offered(client_for, fund, finance):
    closed = Fund.objects.create(name="Old appeal", is_active=False)
    response = client_for(finance).get("/finance/donations/new/")
    assert "Old appeal" not in response.content.decode()
    response = client_for(finance).post("/finance/donations/new/", _form(closed))
    assert "fund" in response.context["form"].errors


def test_it_opens_the_standby_fund_when_there_is_none(client_for, finance):
    assert not Fund.objects.exists()
    response = client_for(finance).get("/finance/donations/new/")
    assert response.status_code == 200
    assert Fund.objects.get().name == "Standby fund"


def test_a_donation_of_1000_or_more_is_read_back_first_and_recorded_only_when_confirmed(
    client_for, fund, finance
):
    client = client_for(finance)
    entries = LedgerEntry.objects.count()
    data = _form(fund, gift_aid="on")
    data.pop("confirm")
    response = client.post("/finance/donations/new/", data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Check the donation before you record it" in page
    for shown in (
        "Riverton Rotary",
        "£1,250.50",
        "One thousand two hundred and fifty pounds and fifty pence",
        date_format(TODAY, "j F Y"),
        "Claim it while a declaration from the donor covers it",
        "Standby fund",
    ):
        assert shown in page, shown
    assert not Donation.objects.exists()
    assert LedgerEntry.objects.count() == entries
    # Changing brings the form back filled in; confirming records it once, with the figures shown.
    changed = client.post("/finance/donations/new/", {**data, "change": "yes"})
    assert changed.status_code == 200
    assert 'value="£1,250.50"' in changed.content.decode()
    assert not Donation.objects.exists()
    assert client.post("/finance/donations/new/", {**data, "confirm": "yes"}).status_code == 302
    donation = Donation.objects.get()
    assert (donation.amount_pence, donation.gift_aid, donation.donor) == (1_250_50, True, "Riverton Rotary")


def test_a_donation_under_1000_is_recorded_at_once(client_for, fund, finance):
    data = _form(fund, amount="999.99")
    data.pop("confirm")
    assert client_for(finance).post("/finance/donations/new/", data).status_code == 302
    assert Donation.objects.get().amount_pence == 999_99


# --- Pre-fill from a pledge ----------------------------------------------------------------------


def test_it_fills_the_form_in_from_a_pledge(client_for, finance, pledge):
    response = client_for(finance).get(f"/finance/donations/new/?pledge={pledge.pk}")
    form = response.context["form"]
    assert form["donor"].value() == "Trustee: Mr B. Example"
    assert form["amount"].value() == "10,000.00"
    assert form["fund"].value() == pledge.fund_id
    assert form["restricted_purpose"].value() == "coat"
    assert form["gift_aid"].value() is True
    assert form["pledge"].value() == pledge.pk
    html = response.content.decode()
    assert 'value="10,000.00"' in html
    assert "A payment of the pledge from Trustee: Mr B. Example" in html


@pytest.mark.parametrize("query", ["?pledge=999999", "?pledge=abc", "?pledge="])
def test_an_unknown_pledge_fills_nothing_in(client_for, finance, pledge, query):
    response = client_for(finance).get(f"/finance/donations/new/{query}")
    assert response.status_code == 200
    assert response.context["form"]["donor"].value() is None


def test_a_stopped_pledge_fills_nothing_in(client_for, finance, pledge):
    pledge_stop(pledge=pledge, actor=finance, reason="Stood down")
    response = client_for(finance).get(f"/finance/donations/new/?pledge={pledge.pk}")
    assert response.context["prefill"] is None


def test_recording_a_pledge_payment_moves_it_on(client_for, fund, finance, pledge):
    data = _form(fund, donor=pledge.donor, amount="10,000", pledge=pledge.pk, restricted_purpose="coat")
    response = client_for(finance).post("/finance/donations/new/", data)
    assert response.status_code == 302
    donation = Donation.objects.get()
    assert donation.pledge == pledge
    assert donation.restricted_purpose == "coat"
    pledge.refresh_from_db()
    assert pledge.next_due == datetime.date(YEAR + 1, 9, 1)
    message = str(next(iter(get_messages(response.wsgi_request))))
    assert message.endswith(f"The pledge's next payment is due on 1 September {YEAR + 1}.")


# --- The donations list --------------------------------------------------------------------------


def test_it_lists_the_years_donations_with_totals(client_for, fund, finance):
    _donate(fund, finance, 100_00, donor="Gift-aided", gift_aid=True, received_on=FY_START)
    _donate(fund, finance, 50_00, donor="Plain", received_on=FY_START)
    _donate(fund, finance, 999_00, donor="Last year", received_on=FY_START - datetime.timedelta(days=1))
    other = Fund.objects.create(name="Riverside hardship budget")
    _donate(other, finance, 7_00, donor="Other fund")
    response = client_for(finance).get("/finance/donations/")
    html = response.content.decode()
    assert "Gift-aided" in html
    assert "Plain" in html
    assert "Last year" not in html
    assert "Other fund" not in html
    totals = response.context["totals"]
    assert (totals.total_pence, totals.gift_aided_pence, totals.gift_aid_claimable_pence) == (
        150_00,
        100_00,
        25_00,
    )
    assert "£150.00" in html

    last_year = client_for(finance).get(f"/finance/donations/?fund={fund.pk}&year={YEAR - 1}")
    assert "Last year" in last_year.content.decode()
    assert "Gift-aided" not in last_year.content.decode()
    other_fund = client_for(finance).get(f"/finance/donations/?fund={other.pk}&year={YEAR}")
    assert "Other fund" in other_fund.content.decode()


@pytest.mark.parametrize("query", ["?year=1900", "?year=abc&fund=xyz", "?fund=999999", "?page=999"])
def test_odd_filters_fall_back_to_this_year(client_for, fund, finance, query):
    _donate(fund, finance, donor="This year")
    response = client_for(finance).get(f"/finance/donations/{query}")
    assert response.status_code == 200
    assert response.context["year"] == YEAR
    assert "This year" in response.content.decode()


def test_reversed_donations_are_marked_and_not_counted(client_for, fund, finance):
    from funds.services.ledger import fund_entry_reverse

    wrong = _donate(fund, finance, 500_00, donor="Typed twice")
    fund_entry_reverse(entry=LedgerEntry.objects.get(source_id=str(wrong.pk)), actor=finance, reason="Twice")
    response = client_for(finance).get("/finance/donations/")
    assert response.context["totals"].total_pence == 0
    assert "Reversed" in response.content.decode()


def test_the_donations_list_pages_in_a_fixed_number_of_queries(
    client_for, fund, finance, pledge, django_assert_max_num_queries
):
    client = client_for(finance)
    for i in range(3):
        _donate(fund, finance, donor=f"Donor {i}", restricted_purpose="shoes")
    client.get("/finance/donations/")
    with django_assert_max_num_queries(12) as few:
        client.get("/finance/donations/")
    for i in range(30):
        _donate(fund, finance, donor=f"More {i}", pledge=pledge if i == 0 else None)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/finance/donations/")
    assert response.context["page"].paginator.count == 33
    assert len(response.context["page"].object_list) == 25


# --- Pledges -------------------------------------------------------------------------------------


def test_the_pledges_page_shows_what_is_overdue(client_for, fund, finance, pledge):
    paid = pledge_create(
        fund=fund,
        donor="Trustee: Mrs C. Paid",
        amount_pence=10_000_00,
        frequency="annual",
        next_due=FY_START,
        gift_aid=False,
        restricted_purpose="",
        actor=finance,
    )
    _donate(fund, finance, 10_000_00, donor=paid.donor, pledge=paid, received_on=FY_START)
    response = client_for(finance).get("/finance/pledges/")
    statuses = {row["pledge"].pk: row["status"].key for row in response.context["rows"]}
    # The page uses today's date: on 1 September the first is only due, in August the second is due soon.
    overdue = "overdue" if TODAY > FY_START else "due_soon"
    received = "received" if (datetime.date(YEAR + 1, 9, 1) - TODAY).days > 30 else "due_soon"
    assert statuses == {pledge.pk: overdue, paid.pk: received}
    html = response.content.decode()
    if overdue == "overdue":
        assert '<strong class="govuk-tag govuk-tag--red">Overdue</strong>' in html
    assert f"/finance/donations/new/?pledge={pledge.pk}" in html


def test_the_pledges_page_lists_in_a_fixed_number_of_queries(
    client_for, fund, finance, django_assert_max_num_queries
):
    def add(n):
        for i in range(n):
            p = pledge_create(
                fund=fund,
                donor=f"Donor {Pledge.objects.count()}",
                amount_pence=100_00,
                frequency="monthly",
                next_due=FY_START,
                gift_aid=False,
                restricted_purpose="uniform",
                actor=finance,
            )
            if i % 2:
                _donate(fund, finance, donor=p.donor, pledge=p)

    client = client_for(finance)
    add(2)
    client.get("/finance/pledges/")
    with django_assert_max_num_queries(12) as few:
        client.get("/finance/pledges/")
    add(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/finance/pledges/")


def test_it_records_a_pledge(client_for, fund, finance):
    data = {
        "fund": fund.pk,
        "donor": "Trustee: Mrs D. New",
        "amount": "10,000",
        "frequency": "annual",
        "next_due": f"01/09/{YEAR + 1}",
        "gift_aid": "on",
        "restricted_purpose": "",
    }
    response = client_for(finance).post("/finance/pledges/new/", data)
    assert response.status_code == 302
    assert response["Location"] == "/finance/pledges/"
    pledge = Pledge.objects.get()
    assert (pledge.amount_pence, pledge.next_due, pledge.gift_aid) == (
        10_000_00,
        datetime.date(YEAR + 1, 9, 1),
        True,
    )
    assert AuditEvent.objects.filter(action="pledge.created", subject_id=str(pledge.pk)).exists()


def test_it_refuses_a_bad_pledge_on_its_fields(client_for, fund, finance):
    data = {"fund": fund.pk, "donor": "", "amount": "12.345", "frequency": "weekly", "next_due": "soon"}
    response = client_for(finance).post("/finance/pledges/new/", data)
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"donor", "amount", "frequency", "next_due"}
    assert not Pledge.objects.exists()


def test_it_asks_before_stopping_a_pledge_and_needs_a_reason(client_for, finance, pledge):
    client = client_for(finance)
    asked = client.get(f"/finance/pledges/{pledge.pk}/stop/")
    assert f"Stop the pledge from {pledge.donor}?" in asked.content.decode()
    refused = client.post(f"/finance/pledges/{pledge.pk}/stop/", {"reason": ""})
    assert refused.status_code == 400
    assert refused.context["stop_form"].errors["reason"] == ["Enter why the pledge is stopping"]
    pledge.refresh_from_db()
    assert pledge.is_active

    stopped = client.post(f"/finance/pledges/{pledge.pk}/stop/", {"reason": "Stood down as a trustee"})
    assert stopped.status_code == 302
    pledge.refresh_from_db()
    assert not pledge.is_active
    assert AuditEvent.objects.get(action="pledge.stopped").note == "Stood down as a trustee"

    again = client.post(f"/finance/pledges/{pledge.pk}/stop/", {"reason": "Again"})
    assert again.status_code == 302
    assert AuditEvent.objects.filter(action="pledge.stopped").count() == 1
    listed = client.get("/finance/pledges/")
    assert f"/finance/pledges/{pledge.pk}/stop/" not in listed.content.decode()


def test_an_unknown_pledge_cannot_be_stopped(client_for, finance, db):
    assert client_for(finance).post("/finance/pledges/999999/stop/", {"reason": "x"}).status_code == 404
