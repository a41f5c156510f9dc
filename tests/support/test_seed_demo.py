from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone
from stdnum.gb import upn as upn_module

from support.demo import DEMO_PASSWORD
from support.models import (
    AuditEvent,
    Family,
    FamilyDuplicate,
    Membership,
    PartnerCharity,
    Pupil,
    Role,
    School,
)
from support.pupil_csv import academic_year_start_for, expected_year_group


@pytest.fixture
def seeded(db):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_it_builds_a_realistic_trust(seeded):
    assert School.objects.count() == 12
    phases = dict(School.objects.values_list("phase").annotate(n=Count("pk")))
    assert phases == {"primary": 8, "secondary": 3, "ap": 1}
    assert 2800 <= Pupil.objects.count() <= 3200
    partner = PartnerCharity.objects.get()
    assert set(partner.services.values_list("service", flat=True)) == {
        "food_parcel",
        "white_goods",
        "furniture",
    }
    assert set(Membership.objects.values_list("role", flat=True)) == set(Role.values)
    assert FamilyDuplicate.objects.filter(status="open").exists()


def test_it_puts_some_siblings_in_two_academies_as_one_family(seeded):
    across = Family.objects.annotate(schools=Count("pupils__school", distinct=True)).filter(schools__gte=2)
    assert across.count() >= 100


def test_it_makes_valid_upns_and_consistent_year_groups(seeded):
    start = academic_year_start_for(timezone.localdate())
    for upn, dob, year_group in Pupil.objects.values_list("upn", "date_of_birth", "year_group"):
        assert upn_module.is_valid(upn), upn
        assert expected_year_group(dob, academic_year_start=start) == year_group


def test_it_changes_nothing_when_run_twice(seeded):
    before = [
        model.objects.count() for model in (School, Family, Pupil, Membership, AuditEvent, FamilyDuplicate)
    ]
    out = StringIO()
    call_command("seed_demo", stdout=out)
    after = [
        model.objects.count() for model in (School, Family, Pupil, Membership, AuditEvent, FamilyDuplicate)
    ]
    assert after == before
    assert "nothing changed" in out.getvalue()


def test_it_prints_logins_that_work(seeded, client):
    assert DEMO_PASSWORD in seeded
    for username in ("pastoral_a", "lead_a", "finance", "charity", "admin"):
        assert username in seeded
        response = client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 302, username
        client.post("/accounts/logout/")
