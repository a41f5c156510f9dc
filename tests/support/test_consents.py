"""Named consent (issue 20, item 1): record, withdraw and confirm per partner, audited; the family
page and the API; the migration from the single consent box; merges; subject access."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from support import services
from support.consents import (
    family_consent_confirm,
    family_consent_current,
    family_consent_record,
    family_consent_withdraw,
)
from support.data_rights import subject_access_data
from support.errors import ConflictError, SupportError
from support.models import AuditEvent, FamilyConsent, FamilyDuplicate
from tests.factories import FamilyFactory, PupilFactory, consent_to

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 10, 5)


def test_it_records_and_withdraws_consent_to_a_named_partner_with_an_audit_trail(
    family_a, pastoral_a, lead_a, partner_1
):
    consent = family_consent_record(
        family=family_a,
        partner=partner_1,
        actor=pastoral_a,
        method="paper",
        given_on=datetime.date(2026, 9, 3),
        today=TODAY,
    )
    assert (consent.partner, consent.given_on, consent.method, consent.recorded_by) == (
        partner_1,
        datetime.date(2026, 9, 3),
        "paper",
        pastoral_a,
    )
    withdrawn = family_consent_withdraw(
        family=family_a, partner=partner_1, actor=lead_a, withdrawn_on=TODAY, today=TODAY
    )
    assert (withdrawn.withdrawn_on, withdrawn.withdrawn_by) == (TODAY, lead_a)
    assert family_consent_current(family=family_a, partner=partner_1) is None
    events = AuditEvent.objects.filter(subject_id=str(family_a.pk)).order_by("pk")
    assert [(e.action, e.actor) for e in events] == [
        ("family.consent_recorded", pastoral_a),
        ("family.consent_withdrawn", lead_a),
    ]
    assert events[0].after["partner"] == "First Food Bank"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"method": ""}, "method"),
        ({"method": "migrated"}, "method"),  # only the migration may say it was not recorded how
        ({"given_on": TODAY + datetime.timedelta(days=1)}, "given_on"),
    ],
)
def test_it_refuses_consent_without_how_or_dated_in_the_future(
    family_a, pastoral_a, partner_1, changes, field
):
    kwargs = {
        "family": family_a,
        "partner": partner_1,
        "actor": pastoral_a,
        "method": "phone",
        "today": TODAY,
    }
    with pytest.raises(SupportError) as refused:
        family_consent_record(**{**kwargs, **changes})
    assert refused.value.field == field
    assert not FamilyConsent.objects.exists()


def test_it_refuses_consent_twice_and_a_withdrawal_of_nothing(family_a, pastoral_a, partner_1):
    family_consent_record(family=family_a, partner=partner_1, actor=pastoral_a, method="phone", today=TODAY)
    with pytest.raises(ConflictError, match="already on record"):
        family_consent_record(
            family=family_a, partner=partner_1, actor=pastoral_a, method="phone", today=TODAY
        )
    family_consent_withdraw(family=family_a, partner=partner_1, actor=pastoral_a, today=TODAY)
    with pytest.raises(ConflictError, match="no consent to share with First Food Bank"):
        family_consent_withdraw(family=family_a, partner=partner_1, actor=pastoral_a, today=TODAY)


def test_the_family_page_shows_each_named_consent_and_records_one_with_how_it_was_given(
    client_for, family_a, pastoral_a, partner_1, partner_2
):
    consent_to(family_a, pastoral_a, partner_2)
    client = client_for(pastoral_a)
    page = client.get(f"/families/{family_a.pk}/").content.decode()
    assert "Second Food Bank" in page
    assert "Consent given" in page
    # The wording staff read names the partner still without consent.
    assert "Do you agree that we share these details with First Food Bank?" in page

    refused = client.post(f"/families/{family_a.pk}/consent/", {"partner": partner_1.pk, "given": "yes"})
    assert refused.status_code == 400
    assert "Choose how the carer gave consent" in refused.content.decode()
    assert "<title>Error: " in refused.content.decode()  # a screen reader hears the page has an error

    response = client.post(
        f"/families/{family_a.pk}/consent/",
        {"partner": partner_1.pk, "given": "yes", "method": "phone", "date": "2026-10-01"},
        follow=True,
    )
    assert "Consent to share with First Food Bank recorded." in response.content.decode()
    consent = family_consent_current(family=family_a, partner=partner_1)
    assert (consent.method, consent.given_on, consent.recorded_by) == (
        "phone",
        datetime.date(2026, 10, 1),
        pastoral_a,
    )

    response = client.post(
        f"/families/{family_a.pk}/consent/", {"partner": partner_1.pk, "given": "no"}, follow=True
    )
    assert "Consent to share with First Food Bank withdrawn" in response.content.decode()
    assert family_consent_current(family=family_a, partner=partner_1) is None
    assert family_consent_current(family=family_a, partner=partner_2) is not None


def _migrated(family, partner) -> FamilyConsent:
    from django.utils import timezone

    return FamilyConsent.objects.create(
        family=family,
        partner=partner,
        given_on=datetime.date(2025, 3, 1),
        method="migrated",
        recorded_at=timezone.now(),
        migrated=True,
    )


def test_a_lead_confirms_a_migrated_consent_from_the_family_page_and_pastoral_staff_cannot(
    client_for, family_a, pastoral_a, lead_a, partner_1
):
    consent = _migrated(family_a, partner_1)
    url = f"/families/{family_a.pk}/consents/{consent.pk}/confirm/"
    page = client_for(lead_a).get(f"/families/{family_a.pk}/").content.decode()
    assert "Migrated, to be confirmed" in page
    assert "A pastoral lead asks the family, then confirms it." in page  # said once, not three times
    assert f'action="{url}"' in page
    assert f'action="{url}"' not in client_for(pastoral_a).get(f"/families/{family_a.pk}/").content.decode()

    assert client_for(pastoral_a).post(url).status_code == 403
    consent.refresh_from_db()
    assert consent.confirmed_at is None

    response = client_for(lead_a).post(url, follow=True)
    assert "Consent to share with First Food Bank confirmed." in response.content.decode()
    consent.refresh_from_db()
    assert (consent.confirmed_by, consent.migrated) == (lead_a, True)
    assert not consent.awaits_confirmation
    assert AuditEvent.objects.filter(action="family.consent_confirmed", actor=lead_a).exists()
    with pytest.raises(ConflictError):
        family_consent_confirm(consent=consent, actor=lead_a)


def test_a_lead_of_another_school_cannot_confirm(family_a, lead_b, partner_1):
    consent = _migrated(family_a, partner_1)
    with pytest.raises(SupportError, match="pastoral lead at the family's school"):
        family_consent_confirm(consent=consent, actor=lead_b)


def test_subject_access_lists_each_consent(family_a, pastoral_a, partner_1, partner_2):
    consent_to(family_a, pastoral_a, partner_1)
    family_consent_withdraw(family=family_a, partner=partner_1, actor=pastoral_a)
    _migrated(family_a, partner_2)
    consents = subject_access_data(family=family_a)["consent"]
    assert [(c["partner"], c["method"], c["migrated_from_single_box"]) for c in consents] == [
        ("Second Food Bank", "Not known (migrated from the single consent box)", True),
        ("First Food Bank", "In person", False),
    ]
    assert consents[1]["withdrawn_by"] == "pastoral_a"


def test_a_merge_moves_consents_to_the_kept_family(school_a, lead_a, pastoral_a, partner_1, partner_2):
    kept, merged = FamilyFactory(lead_carer_name="Erin Eve"), FamilyFactory(lead_carer_name="Erin Eve")
    PupilFactory(family=kept, school=school_a)
    PupilFactory(family=merged, school=school_a)
    consent_to(merged, pastoral_a, partner_1)
    consent_to(kept, pastoral_a, partner_2)
    low, high = sorted((kept, merged), key=lambda f: f.pk)
    duplicate = FamilyDuplicate.objects.create(family_a=low, family_b=high, reason="Same carer")

    services.family_duplicate_merge(duplicate=duplicate, actor=lead_a, keep=kept)

    assert not FamilyConsent.objects.filter(family=merged).exists()
    assert family_consent_current(family=kept, partner=partner_1) is not None
    assert family_consent_current(family=kept, partner=partner_2) is not None


@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_the_single_box_into_consent_per_active_partner_marked_migrated():
    before = [("support", "0015_pupil_fsm_periods_and_premium_reasons")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        apps = executor.loader.project_state(before).apps
        user = apps.get_model("auth", "User").objects.create(username="old-pastoral")
        partners = apps.get_model("support", "PartnerCharity").objects
        pantry = partners.create(name="Pantry", address="1 High St")
        partners.create(name="Closed charity", address="2 High St", is_active=False)
        families = apps.get_model("support", "Family").objects
        agreed = families.create(
            lead_carer_name="Agreed", consent_given=True, consent_date=datetime.date(2025, 2, 1),
            consent_recorded_by=user,
        )  # fmt: skip
        never = families.create(lead_carer_name="Never asked")
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

    [consent] = FamilyConsent.objects.all()
    assert (consent.family_id, consent.partner_id, consent.given_on) == (
        agreed.pk,
        pantry.pk,
        datetime.date(2025, 2, 1),
    )
    assert (consent.method, consent.migrated, consent.recorded_by_id) == ("migrated", True, user.pk)
    assert consent.awaits_confirmation
    assert not FamilyConsent.objects.filter(family_id=never.pk).exists()
