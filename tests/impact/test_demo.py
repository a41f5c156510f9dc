"""The demo has a year of history for the impact report, and a trustee who can read it."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from impact.selectors import impact_report
from support.dates import academic_year_start_for
from support.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def test_the_demo_trustee_reads_last_years_report_beside_the_year_before(client):
    call_command("seed_demo", stdout=StringIO())
    trustee = get_user_model().objects.get(username="trustee")
    assert trustee.check_password(DEMO_PASSWORD)
    client.force_login(trustee)
    year = academic_year_start_for(timezone.localdate()) - 1
    report = impact_report(user=trustee, year=year)
    trust = {row.label: row for section in report.trust.sections for row in section.rows}
    assert trust["Families supported"].this.value > 100
    assert trust["Reception: pack handed over"].this.value > 80
    assert trust["Supported pupils with attendance before and after"].this.value >= 5
    assert trust["Income"].this.value > 0
    response = client.get(reverse("impact_report"), {"year": year})
    assert response.status_code == 200
    assert b"Families supported" in response.content
    pdf = client.get(reverse("impact_report_pdf"), {"year": year})
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert client.get(reverse("family_list")).status_code == 403
