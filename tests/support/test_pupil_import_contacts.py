"""The pupil import reads each contact's relationship, priority, parental responsibility, living
arrangement and court order / no contact flags from a school information system's export (issue 20)."""

import csv
import io

import pytest

from support.contacts import IMPORT_NOTE, contact_update, contacts_of, family_recipient
from support.models import AuditEvent, Contact, Family
from support.pupil_csv import parse_pupil_csv
from support.pupil_import import pupil_import_apply
from tests.factories import make_upn
from tests.support.test_pupil_import import AYS, dob_for

pytestmark = pytest.mark.django_db

# As SIMS names them: "Priority N Contact ...".
SIMS = [
    "UPN", "Legal Forename", "Surname", "DOB", "Year", "Postcode", "Family ID",
    "Priority 1 Contact", "Priority 1 Contact Relationship", "Priority 1 Contact Parental Responsibility",
    "Priority 1 Contact Lives With Pupil", "Priority 1 Contact Court Order", "Priority 1 Contact Telephone",
    "Priority 1 Contact Email",
    "Priority 2 Contact", "Priority 2 Contact Relationship", "Priority 2 Contact Parental Responsibility",
    "Priority 2 Contact Lives With Pupil", "Priority 2 Contact Court Order", "Priority 2 Contact No Contact",
    "Priority 2 Contact Telephone", "Priority 2 Contact Email",
    "Priority 3 Contact", "Priority 3 Contact Relationship", "Priority 3 Contact Parental Responsibility",
]  # fmt: skip


def sims_file(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(SIMS)
    writer.writerows(rows)
    return out.getvalue().encode()


def pupil(upn: str, forename: str, *, father_court_order: str = "No", mother_court_order: str = "No") -> list:
    return [
        upn, forename, "Okafor", dob_for(4).strftime("%d/%m/%Y"), "4", "RV1 2AB", "OK1",
        "Mr Daniel Okafor", "Father", "Yes", "No", father_court_order, "07400 123456", "dan@example.org",
        "Mrs Grace Okafor", "Mother", "Yes", "Yes", mother_court_order, "No", "07400 123457",
        "grace@example.org",
        "Rose Mensah", "Grandmother", "No",
    ]  # fmt: skip


@pytest.fixture
def upns():
    return [make_upn(), make_upn()]


def test_it_reads_every_contact_column_of_a_sims_export(upns):
    parsed = parse_pupil_csv(
        sims_file([pupil(upns[0], "Ada", father_court_order="Yes")]), academic_year_start=AYS
    )
    assert parsed.ok, parsed.errors
    assert parsed.unread == []
    (row,) = parsed.rows
    father, mother, gran = row.contacts
    assert (father.name, father.relationship, father.priority, father.restriction) == (
        "Mr Daniel Okafor", "Father", 1, "court_order",
    )  # fmt: skip
    assert (father.phone, father.email, father.parental_responsibility) == (
        "+447400123456", "dan@example.org", True,
    )  # fmt: skip
    assert (mother.priority, mother.lives_with_pupil, mother.restriction, mother.phone) == (
        2, True, "none", "+447400123457",
    )  # fmt: skip
    assert (gran.name, gran.parental_responsibility) == ("Rose Mensah", False)


def test_it_refuses_a_flag_that_is_not_yes_or_no(upns):
    values = pupil(upns[0], "Ada")
    values[SIMS.index("Priority 2 Contact No Contact")] = "maybe"
    parsed = parse_pupil_csv(sims_file([values]), academic_year_start=AYS)
    (error,) = parsed.errors
    assert error.header == "Priority 2 Contact No Contact"


def test_it_imports_the_contacts_and_names_the_family_for_an_allowed_one(school_a, lead_a, upns):
    data = sims_file([pupil(upns[0], "Ada", father_court_order="Yes"), pupil(upns[1], "Ben")])
    pupil_import_apply(school=school_a, data=data, actor=lead_a)

    family = Family.objects.get()
    father, mother, gran = contacts_of(family)
    assert (father.restriction, father.restriction_note) == ("court_order", IMPORT_NOTE)
    assert not gran.parental_responsibility
    # The household is named for, and reached at, the mother: never the father under a court order.
    assert (family.lead_carer_name, family.email) == ("Mrs Grace Okafor", "grace@example.org")
    assert family_recipient(family).contact == mother
    assert Contact.objects.count() == 3  # the sibling's row lists the same three
    event = AuditEvent.objects.get(action="contact.restriction_changed")
    assert (event.subject_id, event.after["restriction"], event.actor) == (
        str(father.pk),
        "court_order",
        lead_a,
    )


def test_a_reimport_adds_a_restriction_and_never_lifts_one(school_a, lead_a, upns):
    pupil_import_apply(school=school_a, data=sims_file([pupil(upns[0], "Ada")]), actor=lead_a)
    family = Family.objects.get()
    father, mother, _gran = contacts_of(family)
    contact_update(contact=father, actor=lead_a, restriction="no_contact")  # recorded by staff

    pupil_import_apply(
        school=school_a, data=sims_file([pupil(upns[0], "Ada", mother_court_order="Yes")]), actor=lead_a
    )

    father.refresh_from_db()
    mother.refresh_from_db()
    assert father.restriction == "no_contact"  # the file's "No" does not lift it
    assert mother.restriction == "court_order"
    assert family_recipient(family) is None
    changes = AuditEvent.objects.filter(action="contact.restriction_changed", subject_id=str(mother.pk))
    assert [(e.before["restriction"], e.after["restriction"]) for e in changes] == [("none", "court_order")]
    assert Contact.objects.count() == 3


def test_a_file_without_contact_columns_makes_no_contacts(school_a, lead_a):
    data = (
        "UPN,Legal Forename,Surname,DOB,Year,Contact Name,Contact Email\r\n"
        f"{make_upn()},Ada,Okafor,{dob_for(4):%d/%m/%Y},4,Grace Okafor,grace@example.org\r\n"
    ).encode()
    pupil_import_apply(school=school_a, data=data, actor=lead_a)
    assert Family.objects.get().lead_carer_name == "Grace Okafor"
    assert not Contact.objects.exists()


def test_it_reads_contact_n_headers_as_bromcom_and_others_name_them(upns):
    header = (
        "UPN,Legal Forename,Legal Surname,DOB,NC Year,Contact 1 Name,Contact 1 Relationship,"
        "Contact 1 Parental Responsibility,Contact 1 No Contact,Contact 2 Name,Contact 2 Relationship,"
        "Contact 2 Priority,Contact 2 Parental Responsibility,Contact 2 Court Order,Contact 2 Mobile,"
        "Contact 2 Email"
    )
    line = (
        f"{upns[0]},Ada,Okafor,{dob_for(4):%d/%m/%Y},4,Grace Okafor,Mother,Y,N,"
        "Daniel Okafor,Father,3,Y,Y,07400 123456,dan@example.org"
    )
    parsed = parse_pupil_csv(f"{header}\r\n{line}\r\n".encode(), academic_year_start=AYS)
    assert parsed.ok, parsed.errors
    assert parsed.unread == []
    mother, father = parsed.rows[0].contacts
    assert (mother.name, mother.restriction, mother.priority) == ("Grace Okafor", "none", 1)
    assert (father.priority, father.restriction, father.phone) == (3, "court_order", "+447400123456")
