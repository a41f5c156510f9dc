"""Personal data rights: subject access (JSON and PDF, admins only, audited), retention (anonymise_expired)
and the record of who viewed and exported a family."""

import datetime
import io
import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader

from funds.models import LedgerEntry, SpendRequest
from funds.selectors.positions import fund_position
from funds.services.ledger import fund_donation_record, standby_fund
from support import data_rights
from support.models import AuditEvent, Enrolment, Family, FamilyDuplicate, Pupil
from support.services import family_update, pupil_set_in_need
from support.tasks import anonymise_expired as anonymise_task
from tests.factories import FamilyFactory, PupilFactory, consent_to
from uniform.models import Gift, GiftLine, SupportRequest, UniformItem
from uniform.services.requests import request_create
from vouchers.models import Redemption, Voucher, VoucherType
from vouchers.services import voucher_issue, voucher_redeem

SECTIONS = {
    "family",
    "consent",
    "pupils",
    "in_need_history",
    "duplicates",
    "pupil_uploads",
    "vouchers",
    "uniform_gifts",
    "uniform_requests",
    "audit_events",
}


@pytest.fixture
def fund(finance):
    fund = standby_fund()
    fund_donation_record(
        fund=fund,
        donor="Trustee",
        amount_pence=500_00,
        received_on=datetime.date.today(),
        gift_aid=False,
        actor=finance,
    )
    return fund


@pytest.fixture
def household(family_a, family_b, school_a, pastoral_a, partner_1, charity_staff, fund):
    """family_a with everything: consent, an in-need pupil, two paid vouchers (one redeemed), a coat
    request paid by the fund, a welcome pack, an edit and a duplicate decision."""
    family_update(family=family_a, actor=pastoral_a, email="anna@example.org", address="1 Mill Lane")
    Family.objects.filter(pk=family_a.pk).update(language="other", language_noted="Somali")  # as imported
    consent_to(family_a, pastoral_a)
    pupil = family_a.pupils.get()
    pupil_set_in_need(pupil=pupil, actor=pastoral_a, in_need=True, reason="Mum lost her job at the mill")
    paid = VoucherType.objects.create(
        partner=partner_1, service="food_parcel", name="Food parcel", face_value_pence=25_00, fund=fund
    )
    family_a.refresh_from_db()
    issued = [
        voucher_issue(
            family=family_a,
            voucher_type=paid,
            school=school_a,
            issued_by=pastoral_a,
            referral_reason="other",
            referral_other="Anna's hours were cut",
            dietary_needs="Halal",
        )
        for _ in range(2)
    ]
    voucher_redeem(
        voucher=issued[0],
        partner=partner_1,
        redeemed_by=charity_staff,
        items_given="Parcel",
        value_pence=24_00,
    )
    coat_item = UniformItem.objects.create(
        school=school_a, name="Winter coat", kind="coat", sizes=["Age 7-8"], unit_cost_pence=20_00
    )
    request_create(
        pupil=pupil,
        kind="coat",
        item=coat_item,
        size="Age 7-8",
        reason="Alfie walks to school in the rain",
        urgency="routine",
        actor=pastoral_a,
    )
    blazer = UniformItem.objects.create(school=school_a, name="Blazer", sizes=["7-8"], unit_cost_pence=30_00)
    gift = Gift.objects.create(
        pupil=pupil, school=school_a, academic_year=2025, year_group=0, cost_pence=30_00
    )
    GiftLine.objects.create(gift=gift, item=blazer, size="7-8")
    low, high = sorted([family_a.pk, family_b.pk])
    FamilyDuplicate.objects.create(family_a_id=low, family_b_id=high, reason="Same postcode")
    family_a.refresh_from_db()
    return family_a


def _age(family: Family, years: int = 7) -> None:
    """Move every date of the family's activity ``years`` back, as if nothing had happened since: its
    pupils left their schools' rolls then (retention counts from the leaving date)."""
    then = timezone.now() - datetime.timedelta(days=365 * years + 2)
    Enrolment.objects.filter(pupil__family=family).update(
        joined=then.date() - datetime.timedelta(days=365), left_on=then.date()
    )
    Family.objects.filter(pk=family.pk).update(updated_at=then)
    Pupil.objects.filter(family=family).update(updated_at=then)
    Voucher.objects.filter(family=family).update(issued_at=then, updated_at=then)
    Redemption.objects.filter(voucher__family=family).update(redeemed_at=then)
    Gift.objects.filter(pupil__family=family).update(created_at=then)
    SupportRequest.objects.filter(pupil__family=family).update(updated_at=then, requested_at=then)


def _figures(fund) -> dict:
    position = fund_position(fund=fund)
    vouchers = Voucher.objects.aggregate(total=Sum("face_value_pence"))["total"]
    return {
        "position": (position.income_pence, position.spent_pence, position.committed_pence),
        "ledger": list(LedgerEntry.objects.order_by("pk").values_list("pk", "kind", "amount_pence")),
        "vouchers": (
            Voucher.objects.count(),
            vouchers,
            sorted(Voucher.objects.values_list("state", flat=True)),
        ),
        "redemptions": list(Redemption.objects.values_list("value_pence", flat=True)),
        "requests": list(SupportRequest.objects.values_list("status", "cost_pence")),
        "gifts": list(Gift.objects.values_list("cost_pence", "status")),
        "pupils": (Pupil.objects.count(), Pupil.objects.filter(in_need=True).count()),
        "families": Family.objects.count(),
    }


# --- Subject access ------------------------------------------------------------------------------


def test_it_exports_every_section_of_a_familys_data(household, admin, family_b):
    data = data_rights.family_subject_access(family=household, actor=admin)
    assert set(data) >= SECTIONS
    assert data["family"]["lead_carer_name"] == "Anna Able"
    assert data["family"]["email"] == "anna@example.org"
    assert (data["family"]["language"], data["family"]["language_noted"]) == ("other", "Somali")
    [consent] = data["consent"]
    assert (consent["partner"], consent["given_on"], consent["recorded_by"]) == (
        "First Food Bank",
        timezone.localdate().isoformat(),
        "pastoral_a",
    )
    assert (consent["method"], consent["withdrawn_on"]) == ("In person", None)
    assert [p["legal_forename"] for p in data["pupils"]] == ["Alfie"]
    assert data["pupils"][0]["date_of_birth"] == household.pupils.get().date_of_birth.isoformat()
    assert data["in_need_history"][0]["reason"] == "Mum lost her job at the mill"
    codes = {v.display_code: v for v in Voucher.objects.filter(family=household)}
    assert {v["code"] for v in data["vouchers"]} == set(codes)
    redeemed = next(v for v in data["vouchers"] if v["redemption"])
    assert redeemed["redemption"]["value_pence"] == 24_00
    assert redeemed["referral_other"] == "Anna's hours were cut"
    assert data["uniform_requests"][0]["reason"] == "Alfie walks to school in the rain"
    assert data["uniform_gifts"][0]["items"] == [{"item": "Blazer", "quantity": 1, "size": "7-8"}]
    # The other family of a duplicate pair is another person's data: its id only.
    assert data["duplicates"][0]["other_family"] == family_b.pk
    assert "Bella" not in json.dumps(data)
    actions = {event["action"] for event in data["audit_events"]}
    assert {"family.updated", "family.consent_recorded", "pupil.in_need_set", "voucher.issued"} <= actions
    assert {"voucher.redeemed", "support_request.created"} <= actions
    # Dates are ISO 8601 and the whole thing is JSON.
    datetime.datetime.fromisoformat(data["generated_at"])
    json.loads(data_rights.subject_access_json(data))


def test_it_includes_pupils_at_every_school(family_ab, admin):
    data = data_rights.family_subject_access(family=family_ab, actor=admin)
    assert {p["school"] for p in data["pupils"]} == {"Alpha Primary Academy", "Beta Secondary Academy"}


def test_it_audits_each_export(household, admin):
    data_rights.family_subject_access(family=household, actor=admin)
    event = AuditEvent.objects.get(action="family.subject_access_exported")
    assert (event.actor, event.subject_id, event.after["format"]) == (admin, str(household.pk), "json")
    assert event.after["counts"]["vouchers"] == 2


def test_it_refuses_anyone_but_an_admin_in_the_service(household, lead_a, finance):
    from support.errors import SupportError

    for user in (lead_a, finance):
        with pytest.raises(SupportError):
            data_rights.family_subject_access(family=household, actor=user)
    assert not AuditEvent.objects.filter(action="family.subject_access_exported").exists()


def test_it_renders_the_export_as_a_pdf_with_the_familys_name(household, admin, client_for):
    response = client_for(admin).get(f"/families/{household.pk}/subject-access/?format=pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Anna Able" in text
    assert "Alfie" in text
    assert Voucher.objects.filter(family=household).first().display_code in text
    event = AuditEvent.objects.get(action="family.subject_access_exported")
    assert (event.actor, event.after["format"]) == (admin, "pdf")


def test_it_downloads_the_json_from_the_admin_page(
    household, admin, client_for, django_assert_max_num_queries
):
    client = client_for(admin)
    page = client.get(f"/families/{household.pk}/subject-access/")
    assert page.status_code == 200
    assert "?format=json" in page.content.decode()
    with django_assert_max_num_queries(44):  # a section per app that keeps a family's data
        response = client.get(f"/families/{household.pk}/subject-access/?format=json")
    assert response.status_code == 200
    assert json.loads(response.content)["family"]["id"] == household.pk
    assert AuditEvent.objects.filter(action="family.subject_access_exported", actor=admin).count() == 1


def test_its_queries_do_not_grow_with_the_records(household, school_a, pastoral_a):
    with CaptureQueriesContext(connection) as before:
        data_rights.subject_access_data(family=household)
    voucher_type = VoucherType.objects.get()
    VoucherType.objects.filter(pk=voucher_type.pk).update(limit_count=10)
    voucher_type.refresh_from_db()
    for _ in range(3):
        voucher_issue(
            family=household,
            voucher_type=voucher_type,
            school=school_a,
            issued_by=pastoral_a,
            referral_reason="income_drop",
        )
    PupilFactory(family=household, school=school_a)
    with CaptureQueriesContext(connection) as after:
        data_rights.subject_access_data(family=household)
    assert len(after) == len(before)


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        (None, 302),
        ("pastoral_a", 403),
        ("lead_a", 403),
        ("pastoral_b", 403),
        ("finance", 403),
        ("charity_staff", 403),
        ("admin", 200),
    ],
)
@pytest.mark.parametrize("download", ["", "?format=json", "?format=pdf"])
def test_only_an_admin_gets_the_subject_access_page(
    request, family_a, client_for, persona, expected, download
):
    user = request.getfixturevalue(persona) if persona else None
    response = client_for(user).get(f"/families/{family_a.pk}/subject-access/{download}")
    assert response.status_code == expected
    exported = AuditEvent.objects.filter(action="family.subject_access_exported").exists()
    assert exported == (expected == 200 and bool(download))


def test_it_answers_404_for_a_family_that_does_not_exist(admin, client_for):
    assert client_for(admin).get("/families/999999/subject-access/?format=json").status_code == 404


def test_the_family_admin_action_opens_the_subject_access_page(family_a, family_b, admin, client_for):
    client = client_for(admin)
    response = client.post(
        "/admin/support/family/", {"action": "subject_access", "_selected_action": [family_a.pk]}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/families/{family_a.pk}/subject-access/"
    two = client.post(
        "/admin/support/family/", {"action": "subject_access", "_selected_action": [family_a.pk, family_b.pk]}
    )
    assert two.status_code == 302
    assert two["Location"] == "/admin/support/family/"


# --- Who looked ------------------------------------------------------------------------------------


def test_viewing_a_family_page_writes_an_audit_event(family_a, pastoral_a, client_for):
    assert client_for(pastoral_a).get(f"/families/{family_a.pk}/").status_code == 200
    event = AuditEvent.objects.get(action="family.viewed")
    assert (event.actor, event.subject_type.model, event.subject_id) == (
        pastoral_a,
        "family",
        str(family_a.pk),
    )


def test_a_refused_view_writes_no_event(family_b, pastoral_a, client_for):
    assert client_for(pastoral_a).get(f"/families/{family_b.pk}/").status_code == 404
    assert not AuditEvent.objects.filter(action="family.viewed").exists()


def test_the_search_export_records_each_family_exported(
    family_a, family_ab, family_b, pastoral_a, client_for
):
    response = client_for(pastoral_a).get("/families/export.csv")
    b"".join(response.streaming_content)
    exported = set(
        AuditEvent.objects.filter(action="family.exported", actor=pastoral_a).values_list(
            "subject_id", flat=True
        )
    )
    assert exported == {str(family_a.pk), str(family_ab.pk)}
    summary = AuditEvent.objects.get(action="families.exported")
    assert summary.after["count"] == 2
    # The per-family rows name the family by id only.
    assert not AuditEvent.objects.filter(action="family.exported", subject_repr__icontains="Able").exists()


# --- Retention -------------------------------------------------------------------------------------


def test_it_strips_a_family_past_retention_and_keeps_money_and_counts(household, fund, family_b):
    _age(household)
    figures = _figures(fund)
    expired, result = data_rights.anonymise_expired()
    assert [pk for pk, _ in expired] == [household.pk]
    assert (result.families, result.pupils) == (1, 1)

    family = Family.objects.get(pk=household.pk)
    assert family.lead_carer_name == "Anonymised"
    assert (family.phone, family.email, family.address, family.postcode, family.dietary_needs) == ("",) * 5
    assert (family.language, family.language_noted) == ("", "")  # a home language goes with the rest
    assert (family.adults, family.children) == (household.adults, household.children)
    # That the household agreed to share with a partner is not personal once the household is anonymous.
    assert family.consents.filter(withdrawn_on__isnull=True).exists()
    pupil = family.pupils.get()
    assert (pupil.legal_forename, pupil.surname, pupil.preferred_forename) == ("Anonymised", "Anonymised", "")
    assert pupil.date_of_birth == data_rights.ANONYMISED_BIRTH_DATE
    assert pupil.upn == f"anon{pupil.pk}"
    assert pupil.in_need
    assert pupil.year_group == 4
    for voucher in Voucher.objects.filter(family=family):
        assert (voucher.lead_carer_name, voucher.dietary_needs, voucher.referral_other) == (
            "Anonymised",
            "",
            "",
        )
    assert Redemption.objects.get(voucher__family=family).items_given == "Anonymised"
    request = SupportRequest.objects.get(pupil__family=family)
    assert request.reason == "Anonymised"
    assert FamilyDuplicate.objects.get().reason == "Anonymised"
    # Finance's figures and every count are as they were.
    assert _figures(fund) == figures
    # The other family is untouched.
    family_b.refresh_from_db()
    assert family_b.lead_carer_name == "Bella Brook"
    run = AuditEvent.objects.get(action="retention.anonymised")
    assert (run.after["families"], run.after["pupils"], run.after["family_ids"]) == (1, 1, [household.pk])
    assert AuditEvent.objects.filter(action="family.anonymised", subject_id=str(household.pk)).exists()


def test_it_strips_the_spend_request_finance_saw(household, fund):
    request = SupportRequest.objects.get(pupil__family=household)
    spend = SpendRequest.objects.create(
        fund=fund,
        source_type=ContentType.objects.get_for_model(SupportRequest),
        source_id=str(request.pk),
        category="coat",
        amount_pence=20_00,
        summary="Coat, size Age 7-8",
        reason=request.reason,
        requested_by=request.requested_by,
    )
    _age(household)
    data_rights.anonymise_expired()
    spend.refresh_from_db()
    assert (spend.reason, spend.amount_pence, spend.status) == ("Anonymised", 20_00, "pending")


def test_it_leaves_a_recent_family_alone(household, fund):
    expired, result = data_rights.anonymise_expired()
    assert expired == []
    assert result.families == 0
    household.refresh_from_db()
    assert household.lead_carer_name == "Anna Able"


def test_a_recent_voucher_keeps_an_old_family(household):
    _age(household)
    Voucher.objects.filter(family=household).filter(
        pk=Voucher.objects.filter(family=household).first().pk
    ).update(updated_at=timezone.now() - datetime.timedelta(days=365))
    expired, _ = data_rights.anonymise_expired()
    assert expired == []
    assert Family.objects.get(pk=household.pk).lead_carer_name == "Anna Able"


def test_a_recent_request_keeps_an_old_family(household):
    _age(household)
    SupportRequest.objects.filter(pupil__family=household).update(updated_at=timezone.now())
    assert data_rights.anonymise_expired()[0] == []


def test_the_retention_period_is_a_setting(household, settings):
    _age(household, years=3)
    assert data_rights.anonymise_expired(dry_run=True)[0] == []
    settings.RETENTION_YEARS_AFTER_LEAVING = 2
    assert [pk for pk, _ in data_rights.anonymise_expired(dry_run=True)[0]] == [household.pk]


def test_a_dry_run_lists_and_changes_nothing(household, fund):
    _age(household)
    figures = _figures(fund)
    out = io.StringIO()
    call_command("anonymise_expired", "--dry-run", stdout=out)
    assert f"family {household.pk}: last activity" in out.getvalue()
    assert "Anna" not in out.getvalue()
    assert Family.objects.get(pk=household.pk).lead_carer_name == "Anna Able"
    assert Pupil.objects.get(family=household).legal_forename == "Alfie"
    assert _figures(fund) == figures
    run = AuditEvent.objects.get(action="retention.dry_run")
    assert (run.after["expired"], run.after["families"]) == (1, 0)


def test_it_is_idempotent(household, fund):
    _age(household)
    call_command("anonymise_expired", stdout=io.StringIO())
    after_first = (
        list(Family.objects.values()),
        list(Pupil.objects.values()),
        list(Voucher.objects.values()),
        _figures(fund),
    )
    out = io.StringIO()
    call_command("anonymise_expired", stdout=out)
    assert "Anonymised 0 families" in out.getvalue()
    assert (
        list(Family.objects.values()),
        list(Pupil.objects.values()),
        list(Voucher.objects.values()),
        _figures(fund),
    ) == after_first
    runs = list(AuditEvent.objects.filter(action="retention.anonymised").order_by("pk"))
    assert [r.after["families"] for r in runs] == [1, 0]


def test_the_beat_task_runs_it(household, eager):
    _age(household)
    counts = anonymise_task.delay().get()
    assert counts["families"] == 1
    assert Family.objects.get(pk=household.pk).lead_carer_name == "Anonymised"


def test_the_task_is_on_the_beat_schedule(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "support.anonymise_expired" in tasks


def test_the_migrations_install_the_redaction_exception(household):
    """Migration 0008 installs the narrow exception: a retention run redacts without any set-up."""
    events = list(data_rights.audit_events_about(household).values_list("pk", flat=True))
    assert events
    _age(household)
    _, result = data_rights.anonymise_expired()
    assert (result.audit_events_redacted, result.audit_events_kept) == (len(events), 0)
    assert set(AuditEvent.objects.filter(pk__in=events).values_list("subject_repr", flat=True)) == {
        data_rights.ANONYMISED
    }


def test_with_the_redaction_exception_audit_events_lose_personal_data_only(household):
    events = {e.pk: e for e in data_rights.audit_events_about(household)}
    _age(household)
    _, result = data_rights.anonymise_expired()
    assert result.audit_events_redacted == len(events)
    assert result.audit_events_kept == 0
    for event in AuditEvent.objects.filter(pk__in=events):
        old = events[event.pk]
        assert (event.at, event.actor_id, event.action, event.subject_type_id, event.subject_id) == (
            old.at,
            old.actor_id,
            old.action,
            old.subject_type_id,
            old.subject_id,
        )
        assert event.subject_repr == "Anonymised"
        dumped = json.dumps([event.before, event.after, event.note])
        for personal in ("Anna", "Alfie", "anna@example.org", "Mill Lane", "mill", "rain", "hours were cut"):
            assert personal not in dumped, (event.action, dumped)
    # Money and states in the trail stay.
    redeemed = AuditEvent.objects.get(action="voucher.redeemed")
    assert redeemed.after["value_pence"] == 24_00
    assert redeemed.after["state"] == "redeemed"
    # A second run redacts nothing more.
    _, again = data_rights.anonymise_expired()
    assert (again.audit_events_redacted, again.audit_events_kept) == (0, 0)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE support_auditevent SET action = 'tampered' WHERE id = %s",
        "UPDATE support_auditevent SET subject_repr = 'Anonymised', actor_label = 'someone' WHERE id = %s",
        "UPDATE support_auditevent SET note = 'rewritten' WHERE id = %s",
        "DELETE FROM support_auditevent WHERE id = %s",
    ],
)
def test_the_redaction_exception_still_refuses_any_other_change(family_a, admin, sql):
    event = AuditEvent.objects.create(
        actor=admin, actor_label="admin", action="test.done", subject_repr="Anna"
    )
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [event.pk])
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.action, stored.subject_repr, stored.note, stored.actor_label) == (
        "test.done",
        "Anna",
        "",
        "admin",
    )


def test_a_redacted_event_cannot_be_changed_again(admin):
    event = AuditEvent.objects.create(
        actor=admin, actor_label="admin", action="test.done", subject_repr="Anna"
    )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE support_auditevent SET subject_repr = 'Anonymised' WHERE id = %s", [event.pk])
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE support_auditevent SET note = 'again' WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).note == ""


def test_an_unregistered_core_name_cannot_be_taken():
    with pytest.raises(ValueError):
        data_rights.register_subject_access_section("pupils", lambda family: [])


def test_an_anonymised_family_still_exports(household, admin):
    _age(household)
    data_rights.anonymise_expired()
    data = data_rights.family_subject_access(family=Family.objects.get(pk=household.pk), actor=admin)
    assert data["family"]["lead_carer_name"] == "Anonymised"
    assert len(data["vouchers"]) == 2


def test_a_family_with_no_pupils_uses_its_own_dates(db):
    family = FamilyFactory(lead_carer_name="Old Shell")
    Family.objects.filter(pk=family.pk).update(updated_at=timezone.now() - datetime.timedelta(days=365 * 7))
    assert [pk for pk, _ in data_rights.anonymise_expired()[0]] == [family.pk]
    assert Family.objects.get(pk=family.pk).lead_carer_name == "Anonymised"


@pytest.mark.postgres
def test_the_searchs_distinct_names_keep_no_name_of_an_anonymised_family(household, fund):
    from support.models import SearchName

    assert SearchName.objects.filter(name__icontains="able").exists()
    _age(household)
    data_rights.anonymise_expired()
    # Nobody else bears the family's names, so the search's list of names drops them with the family.
    assert not SearchName.objects.filter(name__icontains="able").exists()
