"""A family's contacts (issue 20, item 2): kept in priority order, restrictions audited with before and
after, shown to staff as restricted (never hidden), school staff's business only, moved by a merge, in
subject access and gone at anonymisation."""

import io
import re

import pytest
from django.core.management import call_command

from support import data_rights, services
from support.contacts import contact_create, contact_update, contacts_of, family_recipient
from support.errors import SupportError
from support.models import AuditEvent, Contact, Family, FamilyDuplicate, Role
from support.visibility import SCHOOL_STAFF, roles_seeing
from tests.factories import FamilyFactory, PupilFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def restricted(family_a, lead_a):
    return contact_create(
        family=family_a, actor=lead_a, name="Dan Able", relationship="Father",
        parental_responsibility=True, restriction="court_order", restriction_note="Prohibited steps order",
    )  # fmt: skip


def test_it_audits_a_restriction_with_before_and_after(family_a, lead_a, pastoral_a):
    contact = contact_create(family=family_a, actor=pastoral_a, name="Dan Able", parental_responsibility=True)
    assert not AuditEvent.objects.filter(action="contact.restriction_changed").exists()
    contact_update(
        contact=contact, actor=lead_a, restriction="court_order", restriction_note="Order of 3 May"
    )
    contact_update(contact=contact, actor=lead_a, restriction="none")
    events = list(
        AuditEvent.objects.filter(action="contact.restriction_changed", subject_id=str(contact.pk))
        .order_by("pk")
        .values_list("actor", "before", "after")
    )
    assert events == [
        (
            lead_a.pk,
            {"restriction": "none", "restriction_note": ""},
            {"restriction": "court_order", "restriction_note": "Order of 3 May"},
        ),
        (
            lead_a.pk,
            {"restriction": "court_order", "restriction_note": "Order of 3 May"},
            {"restriction": "none", "restriction_note": ""},
        ),
    ]
    contact.refresh_from_db()
    assert (contact.created_by, contact.updated_by) == (pastoral_a, lead_a)


def test_it_audits_a_contact_created_under_a_restriction(restricted, lead_a):
    event = AuditEvent.objects.get(action="contact.restriction_changed", subject_id=str(restricted.pk))
    assert event.after == {"restriction": "court_order", "restriction_note": "Prohibited steps order"}


def test_it_refuses_an_other_restriction_without_saying_what_it_is(family_a, lead_a):
    with pytest.raises(SupportError) as refused:
        contact_create(family=family_a, actor=lead_a, name="Dan Able", restriction="other")
    assert refused.value.field == "restriction_note"
    with pytest.raises(SupportError):
        contact_create(family=family_a, actor=lead_a, name="Dan Able", restriction_note="x" * 201)
    assert not Contact.objects.exists()


def test_it_keeps_contacts_in_priority_order_and_picks_the_first_allowed(family_a, lead_a, restricted):
    no_pr = contact_create(family=family_a, actor=lead_a, name="Gran Able", priority=2)
    mum = contact_create(
        family=family_a, actor=lead_a, name="Anna Able", priority=3, parental_responsibility=True
    )
    assert list(contacts_of(family_a)) == [restricted, no_pr, mum]
    assert family_recipient(family_a).contact == mum
    contact_update(contact=mum, actor=lead_a, restriction="no_contact")
    assert family_recipient(family_a) is None


def test_the_family_page_shows_a_restricted_contact_as_restricted(
    family_a, restricted, pastoral_a, client_for
):
    page = client_for(pastoral_a).get(f"/families/{family_a.pk}/").content.decode()
    assert "Dan Able" in page
    assert "Restricted: Court order" in page
    assert "govuk-tag--red" in page
    assert "Prohibited steps order" in page


def test_the_contact_form_shows_its_tick_boxes_and_asks_for_a_phone_number_in_plain_words(
    family_a, pastoral_a, client_for
):
    page = client_for(pastoral_a).get(f"/families/{family_a.pk}/contacts/add/").content.decode()
    # A GOV.UK tick box is drawn by its item wrapper: a bare input with the class is invisible.
    for name in ("parental_responsibility", "lives_with_pupil"):
        assert re.search(rf'<div class="govuk-checkboxes__item"><input[^>]+id="id_{name}"', page)
    assert "for example 07700 900123" in page
    assert "E.164" not in page


def test_staff_add_and_change_a_contact_on_the_page(family_a, pastoral_a, lead_a, client_for):
    response = client_for(pastoral_a).post(
        f"/families/{family_a.pk}/contacts/add/",
        {"name": "Dan Able", "relationship": "Father", "priority": 1, "parental_responsibility": "on",
         "restriction": "none", "phone": "07400 123456"},
    )  # fmt: skip
    assert response.status_code == 302
    contact = Contact.objects.get(family=family_a)
    assert (contact.phone, contact.parental_responsibility, contact.created_by) == (
        "+447400123456",
        True,
        pastoral_a,
    )
    response = client_for(lead_a).post(
        f"/contacts/{contact.pk}/edit/",
        {"name": "Dan Able", "priority": 1, "parental_responsibility": "on", "restriction": "court_order"},
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.restriction == "court_order"
    assert AuditEvent.objects.filter(action="contact.restriction_changed", actor=lead_a).exists()


def test_other_schools_staff_cannot_see_or_change_a_contact(restricted, pastoral_b, finance, client_for):
    assert client_for(pastoral_b).get(f"/contacts/{restricted.pk}/edit/").status_code == 404
    assert client_for(pastoral_b).post(f"/contacts/{restricted.pk}/edit/", {"name": "X"}).status_code == 404
    assert client_for(finance).get(f"/contacts/{restricted.pk}/edit/").status_code == 403
    restricted.refresh_from_db()
    assert restricted.name == "Dan Able"


def test_contacts_are_school_staff_only_in_the_visibility_table():
    for name in ("name", "phone", "email", "restriction", "restriction_note", "parental_responsibility"):
        assert roles_seeing(Contact, name) == SCHOOL_STAFF
    assert Role.FINANCE not in roles_seeing(Contact, "restriction")


def test_a_merge_moves_the_contacts_after_the_kept_familys(school_a, lead_a):
    keep = FamilyFactory(lead_carer_name="Erin Eve", postcode="RV5 5EE")
    other = FamilyFactory(lead_carer_name="Erin Eve", postcode="RV5 5EE")
    PupilFactory(family=keep, school=school_a)
    PupilFactory(family=other, school=school_a)
    mine = contact_create(family=keep, actor=lead_a, name="Erin Eve", parental_responsibility=True)
    theirs = contact_create(family=other, actor=lead_a, name="Ed Eve", restriction="no_contact")
    low, high = sorted((keep, other), key=lambda f: f.pk)
    duplicate = FamilyDuplicate.objects.create(family_a=low, family_b=high, reason="Same carer")
    services.family_duplicate_merge(duplicate=duplicate, actor=lead_a, keep=keep)
    assert list(contacts_of(keep)) == [mine, theirs]
    theirs.refresh_from_db()
    assert (theirs.priority, theirs.restriction) == (2, "no_contact")


def test_subject_access_lists_the_contacts_and_anonymisation_removes_them(family_a, restricted, admin):
    data = data_rights.family_subject_access(family=family_a, actor=admin)
    assert [(c["name"], c["restriction"]) for c in data["contacts"]] == [("Dan Able", "court_order")]
    assert "contact.restriction_changed" in {event["action"] for event in data["audit_events"]}

    from tests.support.test_data_rights import _age

    _age(family_a)  # its pupils left seven years ago: retention counts from the leaving date
    _, result = data_rights.anonymise_expired()
    assert result.families == 1
    assert not Contact.objects.exists()
    event = AuditEvent.objects.get(action="contact.restriction_changed")
    assert "Prohibited" not in str(event.after)


def test_the_demo_has_restricted_contacts_and_contacts_without_parental_responsibility(db):
    call_command("seed_demo", stdout=io.StringIO())
    assert Contact.objects.filter(restriction="court_order").count() >= 2
    assert Contact.objects.filter(parental_responsibility=False).count() >= 2
    # Every family with contacts still has one a voucher may name and go to.
    for family in Family.objects.filter(contacts__isnull=False).distinct():
        assert family_recipient(family) is not None
