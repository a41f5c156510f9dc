"""Who reads the impact report, and what its doors give away: the trustee's home, navigation and schema,
the downloads' contents (suppressed, no names) and their audit."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from support.models import AuditEvent, Role
from tests.factories import make_user
from tests.impact.test_report import YEAR, world  # noqa: F401 (the hand-counted fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def trustee_client(client, db):
    client.force_login(make_user("trustee", Role.TRUSTEE))
    return client


def test_a_trustees_home_shows_the_funds_summary_and_the_report(trustee_client):
    page = trustee_client.get(reverse("home")).content.decode()
    assert "in the standby fund" in page
    assert "committed, not yet spent" in page
    assert reverse("impact_report") in page
    assert reverse("family_list") not in page
    assert reverse("finance_dashboard") not in page


def test_a_trustee_is_served_a_schema_with_no_operations(trustee_client):
    schema = trustee_client.get(reverse("api_schema"), HTTP_ACCEPT="application/json").json()
    assert schema["paths"] == {}


def test_the_csv_holds_the_suppressed_figures_and_no_name(trustee_client, world):  # noqa: F811
    response = trustee_client.get(reverse("impact_report_csv"), {"year": YEAR})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Part", "Section", "Measure", "This year", "Year before"]
    by_measure = {(r[0], r[2]): r[3:] for r in rows[1:]}
    assert by_measure[("The trust", "Families supported")] == ["9", "fewer than 5"]
    assert by_measure[("Beta Secondary Academy", "Families supported")] == ["fewer than 5", "0"]
    assert "Carer" not in response.content.decode()
    event = AuditEvent.objects.get(action="impact.report_exported")
    assert event.after["format"] == "csv"
    assert event.after["year"] == YEAR


def test_the_spreadsheet_gives_numbers_where_shown_and_words_where_suppressed(trustee_client, world):  # noqa: F811
    response = trustee_client.get(reverse("impact_report_xlsx"), {"year": YEAR, "school": world["a"].pk})
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = {row[2]: row[3:] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["Families supported"] == (5, "fewer than 5")
    assert {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)} == {"Alpha Primary Academy"}


def test_a_year_outside_the_list_is_a_form_error(trustee_client):
    response = trustee_client.get(reverse("impact_report"), {"year": "1999"})
    assert response.status_code == 400
    assert "Choose an academic year from the list" in response.content.decode()
    assert trustee_client.get(reverse("impact_report_pdf"), {"year": "1999"}).status_code == 404


@pytest.mark.parametrize("role", [Role.PASTORAL, Role.LEAD])
def test_school_staff_are_refused_every_door(client, world, role):  # noqa: F811
    client.force_login(make_user("staff", role, schools=[world["a"]]))
    for name in ("impact_report", "impact_report_pdf", "impact_report_csv", "impact_report_xlsx"):
        assert client.get(reverse(name)).status_code == 403
    assert reverse("impact_report") not in client.get(reverse("home")).content.decode()
