import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from stdnum.gb import upn as upn_module

from funds.models import LedgerEntry, SpendRequest
from funds.selectors.positions import fund_position
from funds.selectors.reports import fund_year_summary
from funds.services.ledger import financial_year_for, standby_fund
from support.dates import academic_year_start_for
from support.demo import DEMO_PASSWORD
from support.models import (
    AuditEvent,
    Family,
    FamilyConsent,
    FamilyDuplicate,
    Membership,
    PartnerCharity,
    Pupil,
    Role,
    School,
)
from support.pupil_csv import expected_year_group
from vouchers.models import Voucher


@pytest.fixture(scope="module")
def _seeded_once(django_db_setup, django_db_blocker):
    """The demo, seeded once for this module: seeding is most of a test's time (6,500 pupils). It is
    held in a transaction the module's tests run inside, each in its own savepoint (the ``db``
    fixture's), so what one test changes is gone before the next; the seed itself is rolled back when
    the module ends, and the database is empty again for the rest of the suite."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        call_command("seed_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def seeded(_seeded_once, db):
    return _seeded_once


def test_it_builds_a_trust_the_size_of_a_real_one(seeded):
    assert School.objects.count() == 12
    phases = dict(School.objects.values_list("phase").annotate(n=Count("pk")))
    assert phases == {"primary": 7, "secondary": 4, "ap": 1}
    pupils = Pupil.objects.count()
    assert 6200 <= pupils <= 6800
    assert 3800 <= Family.objects.count() <= 4300
    assert 0.27 <= Pupil.objects.filter(fsm=True).count() / pupils <= 0.33
    # Entitled to a welcome pack: Reception at the primaries, Year 7 at the secondaries.
    entitled = Pupil.objects.filter(
        Q(school__phase="primary", year_group=0) | Q(school__phase="secondary", year_group=7)
    ).count()
    assert 1100 <= entitled <= 1400
    partner = PartnerCharity.objects.get()
    assert set(partner.services.values_list("service", flat=True)) == {
        "food_parcel",
        "white_goods",
        "furniture",
    }
    assert set(Membership.objects.values_list("role", flat=True)) == set(Role.values)
    assert FamilyDuplicate.objects.filter(status="open").exists()
    # Families who receive things in their own language too, every language several times (issue 19),
    # and some of them with vouchers to open.
    languages = dict(Family.objects.exclude(language="").values_list("language").annotate(n=Count("pk")))
    assert set(languages) == {"pl", "ur", "pa", "ro", "ar", "other"}
    assert min(languages.values()) >= 20
    assert Voucher.objects.filter(family__language="ur").exists()


def test_it_records_named_consent_to_the_partner_and_leaves_a_few_migrated_for_a_lead(seeded):
    partner = PartnerCharity.objects.get()
    consents = FamilyConsent.objects.filter(partner=partner, withdrawn_on__isnull=True)
    assert 0.6 <= consents.count() / Family.objects.count() <= 0.8
    waiting = consents.filter(migrated=True, confirmed_at__isnull=True)
    assert 0 < waiting.count() < consents.count() / 5
    lead_schools = Membership.objects.get(user__username="lead_a").schools.all()
    assert waiting.filter(family__pupils__school__in=lead_schools).exists()  # for the walk-through
    assert set(consents.filter(migrated=False).values_list("method", flat=True)) == {
        "in_person", "phone", "paper", "email",
    }  # fmt: skip
    # Every demo voucher was issued for a partner the family consents to.
    assert not Voucher.objects.exclude(family__consents__partner=partner).exists()


def test_it_puts_some_siblings_in_two_academies_as_one_family(seeded):
    across = Family.objects.annotate(schools=Count("pupils__school", distinct=True)).filter(schools__gte=2)
    assert across.count() >= 100


def test_it_makes_valid_upns_and_consistent_year_groups(seeded):
    start = academic_year_start_for(timezone.localdate())
    for upn, dob, year_group in Pupil.objects.values_list("upn", "date_of_birth", "year_group"):
        assert upn_module.is_valid(upn), upn
        assert expected_year_group(dob, academic_year_start=start) == year_group


def test_it_spreads_a_year_of_the_standby_funds_history_over_the_months(seeded):
    today = timezone.localdate()
    entries = LedgerEntry.objects.filter(fund=standby_fund())
    assert entries.filter(occurred_on__gt=today).count() == 0
    months = {(day.year, day.month) for day in entries.values_list("occurred_on", flat=True)}
    assert len(months) >= 13  # every month since 1 September last year
    year_ago = today - datetime.timedelta(days=365)
    food = Voucher.objects.filter(voucher_type__service="food_parcel", issued_at__date__gt=year_ago)
    assert 250 <= food.count() <= 600  # a few hundred food vouchers a year
    last_year = fund_year_summary(fund=standby_fund(), year=financial_year_for(today) - 1, today=today)
    assert sum(1 for month in last_year.months if month.flows.spent_pence) == 12
    assert 15_000_00 <= last_year.spent_pence <= 30_000_00


def test_its_standby_fund_runs_short_so_finance_approves_and_refuses(seeded):
    today = timezone.localdate()
    assert fund_position(fund=standby_fund()).available_pence >= 0
    last_year = fund_year_summary(fund=standby_fund(), year=financial_year_for(today) - 1, today=today)
    assert min(month.closing.available_pence for month in last_year.months) < 1_000_00
    statuses = set(SpendRequest.objects.values_list("status", flat=True))
    assert {"pending", "approved", "rejected"} <= statuses
    assert LedgerEntry.objects.exclude(override_reason="").exists()


def test_it_changes_nothing_when_run_twice(seeded):
    models = (
        School,
        Family,
        Pupil,
        Membership,
        AuditEvent,
        FamilyDuplicate,
        LedgerEntry,
        Voucher,
        SpendRequest,
    )
    before = [model.objects.count() for model in models]
    out = StringIO()
    call_command("seed_demo", stdout=out)
    after = [model.objects.count() for model in models]
    assert after == before
    assert "nothing changed" in out.getvalue()


def test_it_prints_logins_that_work(seeded, client):
    assert DEMO_PASSWORD in seeded
    for username in ("pastoral_a", "lead_a", "finance", "charity", "admin"):
        assert username in seeded
        response = client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 302, username
        client.post("/accounts/logout/")


def test_it_has_former_pupils_and_supported_families_not_registered_for_fsm(seeded):
    from django.contrib.auth import get_user_model

    from support import data_rights
    from support.free_meals import fsm_check_families
    from support.models import Enrolment

    left = Enrolment.objects.filter(left_on__isnull=False)
    assert left.count() >= 80
    # Whole households that moved away, and older siblings who left while a younger one stays.
    gone = Family.objects.exclude(pupils__enrolments__left_on__isnull=True).filter(pupils__isnull=False)
    assert gone.count() >= 40
    assert Family.objects.filter(pupils__enrolments__left_on__isnull=False).exclude(pk__in=gone).count() >= 40
    # Not due yet: retention counts from last summer's leaving date.
    assert data_rights.anonymise_expired(dry_run=True)[0] == []
    lead = get_user_model().objects.get(username="lead_a")
    rows = fsm_check_families(user=lead)
    assert len(rows) >= 3
    assert Pupil.objects.filter(uifsm=True, year_group__gt=2).count() == 0
    assert Pupil.objects.filter(fsm=True, fsm_start__isnull=True).count() == 0
