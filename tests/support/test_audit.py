import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from support import services
from support.audit import audit_record
from support.models import AuditEvent
from support.models.audit import AuditImmutableError
from tests.factories import consent_to


@pytest.fixture
def event(db, admin):
    return audit_record(actor=admin, action="test.done", before={"a": 1}, after={"a": 2})


def test_it_records_who_when_what_and_the_change(event, admin):
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor == admin
    assert stored.actor_label == "admin"
    assert stored.action == "test.done"
    assert stored.before == {"a": 1}
    assert stored.after == {"a": 2}
    assert stored.at is not None


def test_it_refuses_to_change_an_event_through_the_model(event):
    event.action = "test.undone"
    with pytest.raises(AuditImmutableError):
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.done"


def test_it_refuses_to_delete_an_event_through_the_model(event):
    with pytest.raises(AuditImmutableError):
        event.delete()
    with pytest.raises(AuditImmutableError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AuditImmutableError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    assert AuditEvent.objects.filter(pk=event.pk, action="test.done").exists()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE support_auditevent SET action = 'tampered' WHERE id = %s",
        "DELETE FROM support_auditevent WHERE id = %s",
    ],
)
def test_it_refuses_raw_sql_changes_in_the_database_itself(event, sql):
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk, action="test.done").exists()


def test_it_shows_the_audit_log_read_only_in_the_admin(event, client_for, admin):
    client = client_for(admin)
    listing = client.get("/admin/support/auditevent/")
    assert listing.status_code == 200
    assert "test.done" in listing.content.decode()
    assert client.get("/admin/support/auditevent/add/").status_code == 403
    assert client.get(f"/admin/support/auditevent/{event.pk}/delete/").status_code == 403
    change = client.post(f"/admin/support/auditevent/{event.pk}/change/", {"action": "tampered"})
    assert change.status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).action == "test.done"


def test_it_audits_admin_changes_to_schools(client_for, admin, school_a):
    response = client_for(admin).post(
        f"/admin/support/school/{school_a.pk}/change/",
        {
            "name": "Alpha Primary Academy (renamed)",
            "urn": school_a.urn,
            "phase": "primary",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="school.updated")
    assert event.before == {"name": "Alpha Primary Academy"}
    assert event.after == {"name": "Alpha Primary Academy (renamed)"}
    assert event.actor == admin


def test_it_audits_admin_changes_to_families_through_the_service(client_for, admin, family_a):
    response = client_for(admin).post(
        f"/admin/support/family/{family_a.pk}/change/",
        {
            "lead_carer_name": "Anna Able-Smith",
            "phone": "",
            "email": "",
            "address": "",
            "postcode": "RV1 1AA",
            "adults": 2,
            "children": 1,
            "dietary_needs": "",
        },
    )
    assert response.status_code == 302
    family_a.refresh_from_db()
    assert family_a.lead_carer_name == "Anna Able-Smith"
    assert family_a.carer_name_key == "anna able smith"
    event = AuditEvent.objects.get(action="family.updated")
    assert event.after["lead_carer_name"] == "Anna Able-Smith"
    assert event.after["adults"] == 2


def test_it_writes_audit_events_from_services(family_a, pastoral_a, partner_1):
    consent_to(family_a, pastoral_a, partner_1)
    pupil = family_a.pupils.get()
    services.pupil_set_in_need(pupil=pupil, actor=pastoral_a, in_need=True, reason="Lost job")
    actions = list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))
    assert actions == ["family.consent_recorded", "pupil.in_need_set"]
    need = AuditEvent.objects.get(action="pupil.in_need_set")
    assert need.note == "Lost job"
    assert need.subject_id == str(pupil.pk)


def test_it_lets_a_trust_admin_who_is_not_a_superuser_manage_users(client_for, school_a):
    from django.contrib.auth import get_user_model

    from tests.factories import make_user

    trust_admin = make_user("trust_admin", "admin")
    client = client_for(trust_admin)
    assert client.get("/admin/auth/user/").status_code == 200
    response = client.post(
        "/admin/auth/user/add/",
        {
            "username": "new_pastoral",
            "password1": "a-long-enough-pass-9",
            "password2": "a-long-enough-pass-9",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = get_user_model().objects.get(username="new_pastoral")
    event = AuditEvent.objects.get(action="user.created", subject_id=str(created.pk))
    assert event.after["username"] == "new_pastoral"
    assert "password" not in event.after
    assert "pbkdf2" not in str(event.after)
    assert "md5" not in str(event.after)
