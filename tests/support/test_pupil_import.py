"""The pupil import: the service, its all-or-nothing rule, its audit trail and query budget, and the
doors that use it (the management command, the upload → preview → apply pages, the Celery task).

The CSV parser itself is tested in test_pupil_csv.py; here the files are small, built per test.
"""

import csv
import datetime
import html
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from stdnum.gb import upn as stdnum_upn

from support.dates import academic_year_start_for
from support.errors import SupportError
from support.models import AuditEvent, Family, FamilyDuplicate, Pupil, PupilImport
from support.pupil_csv import COLUMNS, MAX_BYTES, expected_year_group
from support.pupil_import import (
    ImportRejected,
    pupil_import_apply,
    pupil_import_confirm,
    pupil_import_parse,
    pupil_import_plan,
    pupil_import_upload,
)
from support.rolls import pupil_roll_leave
from support.selectors import families_visible_to, pupils_visible_to
from support.tasks import apply_pupil_import
from tests.factories import FamilyFactory, PupilFactory, SchoolFactory, make_upn

HEADER = (
    "UPN,Legal Forename,Preferred Forename,Surname,DOB,Year,FSM,Pupil Premium,"
    "Contact Name,Contact Phone,Contact Email,Postcode,Family ID"
).split(",")
AYS = academic_year_start_for(timezone.localdate())


def dob_for(year_group: int, day: int = 15) -> datetime.date:
    """A date of birth that puts a child in ``year_group`` this academic year (born in November)."""
    born = datetime.date(AYS - 5 - year_group, 11, day)
    assert expected_year_group(born, academic_year_start=AYS) == year_group
    return born


def row(
    upn: str | None = None,
    forename: str = "Amy",
    surname: str = "Smith",
    year: int = 4,
    **values: str,
) -> dict[str, str]:
    """One CSV row by header name; ``contact``, ``phone``, ``email``, ``postcode``, ``family`` etc."""
    result = {
        "UPN": upn or make_upn(),
        "Legal Forename": forename,
        "Preferred Forename": values.pop("preferred", ""),
        "Surname": surname,
        "DOB": dob_for(year).strftime("%d/%m/%Y"),
        "Year": str(year),
        "FSM": values.pop("fsm", "N"),
        "Pupil Premium": values.pop("pp", "N"),
        "Contact Name": values.pop("contact", ""),
        "Contact Phone": values.pop("phone", ""),
        "Contact Email": values.pop("email", ""),
        "Postcode": values.pop("postcode", ""),
        "Family ID": values.pop("family", ""),
    }
    assert not values, f"unknown columns: {values}"
    return result


def csv_bytes(rows: list[dict[str, str]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for values in rows:
        writer.writerow([values.get(name, "") for name in header])
    return out.getvalue().encode()


def family_rows(count: int, *, establishment: int) -> list[dict[str, str]]:
    """``count`` pupils with contact details, in threes: two siblings and a pupil on their own."""
    rows = []
    for n in range(count):
        family = n // 3 * 2 + (n % 3 == 2)
        rows.append(
            row(
                make_upn(establishment=establishment),
                forename=f"Kid{n}",
                surname=f"Surname{family}",
                year=1 + n % 6,
                contact=f"Carer {establishment}x{family}",
                phone=f"07911 1{establishment % 10}{family:04d}",
                email=f"carer{family}@school{establishment}.example.org",
                postcode="RV1 2AB",
                family=f"F{family}",
            )
        )
    return rows


def counts() -> dict[str, int]:
    return {
        "pupils": Pupil.objects.count(),
        "families": Family.objects.count(),
        "duplicates": FamilyDuplicate.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def table_rows(page: str) -> list[list[str]]:
    """The text of every body row of every table on the page, cell by cell."""
    rows = []
    for body in re.findall(r"<tr[^>]*>(.*?)</tr>", page, flags=re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", body, flags=re.S)
        if cells:
            rows.append([html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells])
    return rows


def make_check(upn: str) -> str:
    """The check letter ``upn`` should have."""
    return stdnum_upn.calc_check_digit(upn[1:])


def with_wrong_check_letter(upn: str) -> str:
    return ("A" if upn[0] != "A" else "B") + upn[1:]


def upload_file(data: bytes, name: str = "pupils.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


# --- The service: creating, updating, moving, joining -------------------------------------------


def test_it_creates_pupils_and_families(school_a, lead_a):
    upn_1, upn_2 = make_upn(), make_upn()
    data = csv_bytes(
        [
            row(upn_1, "Zara", "Quinn", year=0, fsm="Y", contact="Mrs Quinn", postcode="rv4 4aa"),
            row(upn_2, "Yusuf", "Reed", year=6, pp="yes", phone="07911 123456", email="Reed@Example.org"),
        ]
    )

    summary = pupil_import_apply(school=school_a, data=data, actor=lead_a, filename="pupils.csv")

    assert summary["created"] == 2
    assert summary["new_families"] == 2
    zara = Pupil.objects.get(upn=upn_1)
    assert (zara.school, zara.legal_forename, zara.preferred_forename, zara.surname) == (
        school_a,
        "Zara",
        "Zara",
        "Quinn",
    )
    assert (zara.date_of_birth, zara.year_group, zara.fsm, zara.pupil_premium) == (dob_for(0), 0, True, False)
    assert (zara.family.lead_carer_name, zara.family.postcode) == ("Mrs Quinn", "RV4 4AA")
    assert zara.family.carer_name_key == "quinn"
    yusuf = Pupil.objects.get(upn=upn_2)
    assert (yusuf.year_group, yusuf.pupil_premium) == (6, True)
    # No contact name: the family is named after the pupil, and keeps the contact details.
    assert yusuf.family.lead_carer_name == "Reed household"
    assert (yusuf.family.phone, yusuf.family.email) == ("+447911123456", "reed@example.org")
    assert zara.family_id != yusuf.family_id


def test_it_puts_rows_sharing_a_family_id_in_one_family(school_a, lead_a):
    rows = [
        row(forename="Ann", surname="Shaw", year=2, family="F7", contact="Pat Shaw", postcode="RV5 5AA"),
        row(forename="Ben", surname="Shaw", year=5, family="F7"),
        row(forename="Cat", surname="Other", year=5, family="F8"),
        row(forename="Dan", surname="Shaw", year=6, family="F7"),
    ]

    summary = pupil_import_apply(school=school_a, data=csv_bytes(rows), actor=lead_a)

    assert (summary["created"], summary["new_families"]) == (4, 2)
    shaws = Pupil.objects.filter(sis_family_ref="F7")
    assert shaws.count() == 3
    assert len({pupil.family_id for pupil in shaws}) == 1
    family = shaws[0].family
    assert (family.lead_carer_name, family.postcode, family.children) == ("Pat Shaw", "RV5 5AA", 3)
    assert Pupil.objects.get(sis_family_ref="F8").family_id != family.pk


def test_it_changes_nothing_when_the_same_file_is_imported_again(school_a, lead_a):
    data = csv_bytes(
        [
            row(forename="Ann", surname="Shaw", year=2, family="F7", contact="Pat Shaw", postcode="RV5 5AA"),
            row(forename="Ben", surname="Shaw", year=5, family="F7", preferred="Benny", fsm="Y"),
            row(forename="Cat", surname="Cole", year=3, email="cat.carer@example.org"),
        ]
    )
    pupil_import_apply(school=school_a, data=data, actor=lead_a)
    before = counts()
    pupil_events = AuditEvent.objects.filter(action__startswith="pupil.").count()
    stamps = dict(Pupil.objects.values_list("upn", "updated_at"))

    summary = pupil_import_apply(school=school_a, data=data, actor=lead_a)

    assert summary["created"] == 0
    assert summary["updated"] == 0
    assert summary["unchanged"] == 3
    assert summary["new_families"] == 0
    assert summary["duplicates_flagged"] == 0
    after = counts()
    assert after == {**before, "audit": before["audit"] + 1}  # just the new pupils.imported event
    assert AuditEvent.objects.filter(action__startswith="pupil.").count() == pupil_events
    assert AuditEvent.objects.filter(action__startswith="family.").count() == 2
    assert dict(Pupil.objects.values_list("upn", "updated_at")) == stamps


def test_it_updates_a_changed_pupil_and_audits_before_and_after(school_a, lead_a):
    upn = make_upn()
    pupil_import_apply(school=school_a, data=csv_bytes([row(upn, "Ann", "Shaw", year=2)]), actor=lead_a)
    pupil = Pupil.objects.get(upn=upn)

    changed = csv_bytes([row(upn, "Ann", "Shaw-Lee", year=2, preferred="Annie", fsm="Y", family="F9")])
    summary = pupil_import_apply(school=school_a, data=changed, actor=lead_a)

    assert (summary["created"], summary["updated"], summary["unchanged"]) == (0, 1, 0)
    pupil.refresh_from_db()
    assert (pupil.surname, pupil.preferred_forename, pupil.fsm, pupil.sis_family_ref) == (
        "Shaw-Lee",
        "Annie",
        True,
        "F9",
    )
    [event] = events("pupil.updated")
    assert event.subject_id == str(pupil.pk)
    assert event.actor == lead_a
    assert event.before == {
        "surname": "Shaw",
        "preferred_forename": "Ann",
        "fsm": False,
        "sis_family_ref": "",
    }
    assert event.after == {
        "surname": "Shaw-Lee",
        "preferred_forename": "Annie",
        "fsm": True,
        "sis_family_ref": "F9",
    }
    assert Family.objects.count() == 1  # the pupil kept their family


def bobby_row(family_b, **changes: str) -> dict[str, str]:
    """A row naming family_b's pupil at school B: UPN, legal surname and date of birth all match."""
    bobby = family_b.pupils.get()
    values = row(bobby.upn, "Bobby", "Brook", year=9)
    values["DOB"] = bobby.date_of_birth.strftime("%d/%m/%Y")
    return {**values, **changes}


def guessed_row(upn: str) -> dict[str, str]:
    """What an attacker sends: a real UPN with a made-up name and the date of birth of a year 9."""
    return row(upn, "Guess", "Guesswork", year=9, family="F1", contact="Gail Guesswork")


def test_it_does_not_move_a_pupil_whose_upn_alone_matches(school_a, school_b, lead_a, family_b):
    bobby = family_b.pupils.get()

    summary = pupil_import_apply(school=school_a, data=csv_bytes([guessed_row(bobby.upn)]), actor=lead_a)

    bobby.refresh_from_db()
    assert (bobby.school, bobby.legal_forename, bobby.surname) == (school_b, "Bobby", "Brook")
    assert list(bobby.enrolments.values_list("school", "left_on")) == [(school_b.pk, None)]
    assert not pupils_visible_to(lead_a).filter(pk=bobby.pk).exists()
    assert not families_visible_to(lead_a).filter(pk=family_b.pk).exists()
    assert (summary["created"], summary["held_back"], summary["joined_roll"]) == (0, 1, 0)
    assert Family.objects.count() == 1  # no empty family left behind for the held-back row
    [event] = events("pupil.import_clash")
    assert event.subject_id == str(bobby.pk)


def test_it_previews_a_guessed_upn_exactly_as_a_new_pupil(client_for, lead_a, school_a, family_b):
    # The attack: lead_a uploads guessed UPNs of school B's pupils for school A.
    bobby = family_b.pupils.get()
    fresh, sibling = make_upn(), make_upn()
    client = client_for(lead_a)

    def preview(upn: str) -> tuple[str, dict]:
        data = csv_bytes([guessed_row(upn), row(sibling, family="F1")])
        client.post("/imports/", {"school": school_a.pk, "file": upload_file(data)})
        upload = PupilImport.objects.order_by("-pk").first()
        page = client.get(f"/imports/{upload.pk}/").content.decode()
        page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)
        return re.sub(r"/imports/\d+/", "/imports/N/", page).replace(upn, "UPN"), upload.summary

    guessed_page, guessed_summary = preview(bobby.upn)
    fresh_page, fresh_summary = preview(fresh)

    assert guessed_summary == fresh_summary
    assert guessed_page == fresh_page
    for secret in ("Bobby", "Brook", "Beta Secondary", "2013", "05/01", family_b.lead_carer_name):
        assert secret not in guessed_page


def test_it_puts_a_matching_pupil_on_both_rolls_and_leaves_their_record_alone(
    school_a,
    school_b,
    lead_a,
    lead_b,
    pastoral_b,
    family_b,
    eager,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    bobby = family_b.pupils.get()
    values = bobby_row(family_b, **{"Legal Forename": "Robert", "Surname": "BROOK", "FSM": "Y"})

    with django_capture_on_commit_callbacks(execute=True):
        summary = pupil_import_apply(school=school_a, data=csv_bytes([values]), actor=lead_a)

    assert (summary["joined_roll"], summary["created"], summary["updated"]) == (1, 0, 0)
    bobby.refresh_from_db()
    # Dual registration: still Brookfield's (main) pupil, now on school A's roll too.
    assert (bobby.school, bobby.legal_forename, bobby.fsm) == (school_b, "Bobby", False)
    rolls = dict(bobby.enrolments.filter(left_on__isnull=True).values_list("school", "registration"))
    assert rolls == {school_b.pk: "main", school_a.pk: "subsidiary"}
    for user in (lead_a, pastoral_b):
        assert pupils_visible_to(user).filter(pk=bobby.pk).exists()
        assert families_visible_to(user).filter(pk=family_b.pk).exists()
    [event] = events("pupil.roll_joined")
    assert event.after["school"] == school_a.pk
    # School B's leads are told, after commit.
    [mail] = mailoutbox
    assert mail.to == [lead_b.email]
    assert mail.subject == f"{school_a.name}'s import named 1 of your pupils"
    for told in ("Bobby Brook", school_a.name, bobby.upn):
        assert told in mail.body


def test_it_tells_the_pupils_school_about_a_held_back_upn(
    school_a, lead_a, lead_b, family_b, eager, mailoutbox, django_capture_on_commit_callbacks
):
    bobby = family_b.pupils.get()
    with django_capture_on_commit_callbacks(execute=True):
        pupil_import_apply(school=school_a, data=csv_bytes([guessed_row(bobby.upn)]), actor=lead_a)

    [mail] = mailoutbox
    assert mail.to == [lead_b.email]
    assert bobby.upn in mail.body
    assert "different surname or date of birth" in mail.body
    assert "Guesswork" not in mail.body  # the other school's file stays its own


def test_it_leaves_a_subsidiary_roll_pupils_record_to_the_main_school(school_a, school_b, lead_a, family_b):
    bobby = family_b.pupils.get()
    pupil_import_apply(school=school_a, data=csv_bytes([bobby_row(family_b)]), actor=lead_a)

    again = bobby_row(family_b, **{"Legal Forename": "Robert", "FSM": "Y"})
    summary = pupil_import_apply(school=school_a, data=csv_bytes([again]), actor=lead_a)

    assert (summary["unchanged"], summary["updated"], summary["joined_roll"]) == (1, 0, 0)
    bobby.refresh_from_db()
    assert (bobby.legal_forename, bobby.fsm, bobby.school) == ("Bobby", False, school_b)


def test_it_does_not_join_a_family_through_a_guessed_upns_family_id(school_a, lead_a, family_b):
    bobby = family_b.pupils.get()
    sibling = make_upn()
    data = csv_bytes([guessed_row(bobby.upn), row(sibling, family="F1")])

    plan_summary = pupil_import_plan(
        school=school_a, rows=pupil_import_parse(data).rows, academic_year_start=AYS
    ).summary
    pupil_import_apply(school=school_a, data=data, actor=lead_a)

    assert (plan_summary["joined_families"], plan_summary["new_families"]) == (0, 1)
    assert Pupil.objects.get(upn=sibling).family != family_b


def test_it_takes_a_pupil_off_a_roll_only_for_a_lead_of_that_school(
    school_a, school_b, lead_a, lead_b, family_b
):
    bobby = family_b.pupils.get()
    pupil_import_apply(school=school_a, data=csv_bytes([bobby_row(family_b)]), actor=lead_a)
    today = timezone.localdate()

    with pytest.raises(SupportError):
        pupil_roll_leave(pupil=bobby, school=school_b, actor=lead_a, left_on=today)
    pupil_roll_leave(pupil=bobby, school=school_b, actor=lead_b, left_on=today)

    assert not pupils_visible_to(lead_b).filter(pk=bobby.pk).exists()  # a left roll no longer counts
    assert pupils_visible_to(lead_a).filter(pk=bobby.pk).exists()
    [event] = events("pupil.roll_left")
    assert event.after == {"school": school_b.pk, "left_on": today.isoformat()}


def test_it_puts_a_matching_pupil_with_no_current_roll_on_this_roll_as_main(
    school_a, school_b, lead_a, lead_b, family_b
):
    bobby = family_b.pupils.get()
    pupil_roll_leave(pupil=bobby, school=school_b, actor=lead_b, left_on=timezone.localdate())

    pupil_import_apply(school=school_a, data=csv_bytes([bobby_row(family_b)]), actor=lead_a)

    bobby.refresh_from_db()
    assert bobby.school == school_a
    assert dict(bobby.enrolments.filter(left_on__isnull=True).values_list("school", "registration")) == {
        school_a.pk: "main"
    }


def test_it_adds_a_new_pupil_to_the_family_of_a_known_pupil_with_the_same_family_id(school_a, lead_a):
    family = FamilyFactory(lead_carer_name="Kim Known")
    PupilFactory(family=family, school=school_a, sis_family_ref="SIB-1")
    families_before = Family.objects.count()

    upn = make_upn()
    data = csv_bytes([row(upn, "Newt", "Known", year=0, family="SIB-1", contact="Someone Else")])
    summary = pupil_import_apply(school=school_a, data=data, actor=lead_a)

    assert (summary["created"], summary["joined_families"], summary["new_families"]) == (1, 1, 0)
    assert Pupil.objects.get(upn=upn).family == family
    assert Family.objects.count() == families_before
    family.refresh_from_db()
    assert family.children == 2  # the household's count follows the pupils on record
    assert events("family.created") == []


def test_it_does_not_join_a_family_through_another_schools_family_id(school_a, school_b, lead_a):
    elsewhere = FamilyFactory()
    PupilFactory(family=elsewhere, school=school_b, sis_family_ref="SIB-1")

    upn = make_upn()
    pupil_import_apply(school=school_a, data=csv_bytes([row(upn, family="SIB-1")]), actor=lead_a)

    # Family IDs belong to one school's information system: the same ID elsewhere is a coincidence.
    assert Pupil.objects.get(upn=upn).family != elsewhere


@pytest.mark.parametrize("sibling_school", ["school_a", "school_b"], ids=["here", "moving_in"])
def test_it_adds_a_new_pupil_to_the_family_of_a_pupil_sharing_their_family_id_in_the_file(
    request, school_a, lead_a, sibling_school
):
    # The older sibling has no Family ID stored yet (added by hand, or by an export without the
    # column); this file gives both the same one, so they are one family.
    family = FamilyFactory(lead_carer_name="Sam Sibling")
    older = PupilFactory(
        family=family,
        school=request.getfixturevalue(sibling_school),
        year_group=6,
        date_of_birth=dob_for(6),
    )
    upn = make_upn()
    data = csv_bytes(
        [
            row(older.upn, older.legal_forename, older.surname, year=6, family="SIB-9"),
            row(upn, "Young", "Sibling", year=1, family="SIB-9", contact="Sam Sibling"),
        ]
    )

    summary = pupil_import_apply(school=school_a, data=data, actor=lead_a)

    assert (summary["created"], summary["joined_families"], summary["new_families"]) == (1, 1, 0)
    assert Pupil.objects.get(upn=upn).family == family
    older.refresh_from_db()
    assert older.family == family
    assert pupils_visible_to(lead_a).filter(pk=older.pk).exists()
    if sibling_school == "school_a":
        assert (older.school, older.sis_family_ref) == (school_a, "SIB-9")
    else:  # on school B's roll too now; its record stays school B's (main registration)
        assert (older.school, older.sis_family_ref) == (request.getfixturevalue("school_b"), "")
    assert FamilyDuplicate.objects.count() == 0


def test_it_warns_only_about_new_families_with_no_contact_name(school_a, lead_a):
    PupilFactory(school=school_a, sis_family_ref="SIB-1")
    rows = [
        row(forename="Ann", surname="Shaw", family="F1"),  # her brother on line 3 names the contact
        row(forename="Ben", surname="Shaw", year=6, family="F1", contact="Pat Shaw"),
        row(forename="Cat", surname="Cole", year=3),  # on her own, no contact: a warning
        row(forename="Dev", surname="Known", year=1, family="SIB-1"),  # joins a known family
    ]
    parsed = pupil_import_parse(csv_bytes(rows))

    plan = pupil_import_plan(school=school_a, rows=parsed.rows, academic_year_start=AYS)

    assert plan.warnings == [(4, "No contact name: the new family is named after the pupil's surname")]
    summary = pupil_import_apply(school=school_a, data=csv_bytes(rows), actor=lead_a)
    assert summary["warnings"] == 1
    assert Pupil.objects.get(legal_forename="Ann").family.lead_carer_name == "Pat Shaw"
    assert Pupil.objects.get(legal_forename="Cat").family.lead_carer_name == "Cole household"


@pytest.mark.parametrize(
    ("contact", "reason"),
    [
        ({"contact": "Mrs Dee O'Dell", "postcode": "rv9 9zz"}, "Same carer name and postcode"),
        ({"contact": "A Neighbour", "phone": "07911 100200"}, "Same contact phone number"),
        ({"contact": "A Neighbour", "email": "DEE@Example.org"}, "Same contact e-mail address"),
    ],
    ids=["name_and_postcode", "phone", "email"],
)
def test_it_flags_but_does_not_merge_a_family_that_looks_like_one_at_another_school(
    school_a, school_b, lead_a, contact, reason
):
    known = FamilyFactory(
        lead_carer_name="Dee ODell", postcode="RV9 9ZZ", phone="+447911100200", email="dee@example.org"
    )
    PupilFactory(family=known, school=school_b)
    before = Family.objects.count()

    upn = make_upn()
    summary = pupil_import_apply(school=school_a, data=csv_bytes([row(upn, **contact)]), actor=lead_a)

    new_family = Pupil.objects.get(upn=upn).family
    assert new_family != known
    assert Family.objects.count() == before + 1
    [duplicate] = FamilyDuplicate.objects.all()
    assert (duplicate.family_a, duplicate.family_b) == (known, new_family)
    assert (duplicate.status, duplicate.reason) == (FamilyDuplicate.Status.OPEN, reason)
    known.refresh_from_db()
    assert known.merged_into is None
    assert list(known.pupils.values_list("school", flat=True)) == [school_b.pk]
    assert summary["duplicates_flagged"] == 1


def test_it_flags_no_duplicate_for_an_unrelated_family(school_a, lead_a, family_b):
    pupil_import_apply(
        school=school_a,
        data=csv_bytes([row(contact="Bella Brook", postcode="RV8 8AA", phone="07911 111111")]),
        actor=lead_a,
    )

    assert FamilyDuplicate.objects.count() == 0  # same name, but another postcode, phone and e-mail


def test_it_leaves_pupils_missing_from_the_file_alone(school_a, lead_a, family_a, family_ab, family_b):
    missing = list(Pupil.objects.filter(school=school_a).values())

    summary = pupil_import_apply(school=school_a, data=csv_bytes([row(), row()]), actor=lead_a)

    assert summary["not_in_file"] == 2  # Alfie Able and Cleo Cross
    assert summary["created"] == 2
    for values in missing:
        assert Pupil.objects.filter(pk=values["id"]).values().get() == values
    assert Pupil.objects.filter(school=school_a).count() == 4


# --- All or nothing -----------------------------------------------------------------------------


def test_it_rejects_the_whole_file_and_lists_every_bad_row(school_a, lead_a, family_a, family_b):
    good_1, good_2 = make_upn(), make_upn()
    bad_check = with_wrong_check_letter(make_upn())
    rows = [
        row(good_1, "Good", "One"),
        row(bad_check, "Bad", "Check"),
        row(good_2, "Good", "Two"),
        {**row(forename="Bad", surname="Date"), "DOB": f"31/02/{AYS - 9}"},
        {**row(forename="Bad", surname="Year"), "Year": "Y15"},
        row(good_1, "Twice", "Over"),
    ]
    before = counts()

    with pytest.raises(ImportRejected) as caught:
        pupil_import_apply(school=school_a, data=csv_bytes(rows), actor=lead_a)

    found = [(error.line, error.column, error.reason) for error in caught.value.errors]
    assert found == [
        (3, "upn", f"UPN check letter is wrong: expected {make_check(bad_check)}, got {bad_check[0]}"),
        (5, "date_of_birth", "DOB is not a real date (dates must be day/month/year)"),
        (6, "year_group", "Unknown year group: use R (or 0) for Reception, or 1 to 13"),
        (7, "upn", "UPN appears twice in the file (first on line 2)"),
    ]
    assert "4 problem(s)" in caught.value.message
    assert counts() == before
    assert not Pupil.objects.filter(upn__in=[good_1, good_2]).exists()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            csv_bytes([row(), row()], header=[name for name in HEADER if name != "Surname"]),
            [
                (
                    1,
                    "surname",
                    "Missing column: Surname (accepted headers: " + ", ".join(COLUMNS["surname"]) + ")",
                )
            ],
            id="missing_column",
        ),
        pytest.param(
            csv_bytes([row(surname="Good"), row(surname="Bad"), row(surname="Good")]).replace(
                b"Bad", b"B\xe9d"
            ),
            [(3, "", "The file is not UTF-8 text: save it as 'CSV UTF-8' and try again")],
            id="not_utf8",
        ),
        pytest.param(
            csv_bytes([]),
            [(0, "", "The file has no pupil rows")],
            id="no_rows",
        ),
        pytest.param(
            csv_bytes([row(), row(family="F" * 41)]),
            [(3, "family_ref", "Family ID is longer than 40 characters")],
            id="family_id_too_long_to_store",
        ),
        pytest.param(
            csv_bytes([row(), row(email="a" * 64 + "@" + ".".join(["b" * 63] * 3) + ".example.org")]),
            [(3, "contact_email", "Contact email is longer than 254 characters")],
            id="email_too_long_to_store",
        ),
    ],
)
def test_it_rejects_a_bad_file_and_changes_nothing(school_a, lead_a, family_a, data, expected):
    before = counts()

    with pytest.raises(ImportRejected) as caught:
        pupil_import_apply(school=school_a, data=data, actor=lead_a)

    assert [(error.line, error.column, error.reason) for error in caught.value.errors] == expected
    assert counts() == before


# --- Audit ----------------------------------------------------------------------------------------


def test_it_audits_the_import_and_every_object_it_creates(school_a, lead_a):
    rows = [
        row(forename="Ann", surname="Shaw", family="F1", contact="Pat Shaw", postcode="RV5 5AA"),
        row(forename="Ben", surname="Shaw", year=6, family="F1"),
        row(forename="Cat", surname="Cole", year=3),
    ]

    summary = pupil_import_apply(school=school_a, data=csv_bytes(rows), actor=lead_a, filename="autumn.csv")

    [imported] = events("pupils.imported")
    assert imported.after == summary
    assert (imported.actor, imported.note, imported.subject_id) == (lead_a, "autumn.csv", str(school_a.pk))
    assert summary == {
        "rows": 3,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "joined_roll": 0,
        "held_back": 0,
        "new_families": 2,
        "joined_families": 0,
        "not_in_file": 0,
        "warnings": 1,  # Cat Cole has no contact name
        "duplicates_flagged": 0,
    }
    family_events = events("family.created")
    assert sorted(event.subject_id for event in family_events) == sorted(
        str(pk) for pk in Family.objects.values_list("pk", flat=True)
    )
    assert {event.after["lead_carer_name"] for event in family_events} == {"Pat Shaw", "Cole household"}
    pupil_events = events("pupil.created")
    assert sorted(event.subject_id for event in pupil_events) == sorted(
        str(pk) for pk in Pupil.objects.values_list("pk", flat=True)
    )
    for event in pupil_events:
        pupil = Pupil.objects.get(pk=event.subject_id)
        assert event.after == {
            "upn": pupil.upn,
            "school": school_a.pk,
            "family": pupil.family_id,
            "source": "import",
        }
        assert event.actor == lead_a


def test_it_records_the_system_as_the_actor_when_there_is_no_user(school_a):
    pupil_import_apply(school=school_a, data=csv_bytes([row()]), actor=None)

    [imported] = events("pupils.imported")
    assert (imported.actor, imported.actor_label) == (None, "system")


# --- Query budget ---------------------------------------------------------------------------------


@pytest.fixture
def sqlite_real_parameter_limit(monkeypatch):
    """Let bulk statements use SQLite's real bound-parameter limit, as they do on PostgreSQL.

    Django 5.2 assumes SQLite's old default of 999 parameters and so splits a bulk insert into
    statements of ~70 rows; every SQLite since 3.32 allows 32,766 (this build far more). With the
    real limit each bulk statement is one batch of up to 500 rows, as on PostgreSQL, so a per-row
    query anywhere in the import shows up as a difference between 30 and 300 rows.
    """
    if connection.vendor == "sqlite":
        monkeypatch.setattr(connection.features, "max_query_params", 32766)


def seed_school(school, other_school, rows: list[dict[str, str]]) -> None:
    """Make an import take every path: a tenth of the file joins the roll from ``other_school``
    (UPN, surname and date of birth match), a tenth has UPNs ``other_school``'s pupils hold with
    another surname (held back), a tenth
    joins families known at ``school``, and a tenth looks like families known at ``other_school``."""
    tenth = len(rows) // 10
    for values in rows[:tenth]:
        born = datetime.datetime.strptime(values["DOB"], "%d/%m/%Y").date()
        PupilFactory(upn=values["UPN"], surname=values["Surname"], school=other_school, date_of_birth=born)
    for values in rows[tenth * 3 : tenth * 4]:
        PupilFactory(upn=values["UPN"], surname="Someone Else", school=other_school)
    for values in rows[tenth : 2 * tenth]:
        phone = "+44" + values["Contact Phone"].replace(" ", "")[1:]
        PupilFactory(school=other_school, family=FamilyFactory(phone=phone))
    for values in rows[-tenth:]:
        PupilFactory(school=school, sis_family_ref=values["Family ID"])


def import_queries(school, rows: list[dict[str, str]], actor) -> tuple[list[str], dict[str, int]]:
    with CaptureQueriesContext(connection) as captured:
        summary = pupil_import_apply(school=school, data=csv_bytes(rows), actor=actor)
    return [query["sql"] for query in captured.captured_queries], summary


@pytest.fixture
def two_schools(lead_a):
    """A school importing 30 rows and one importing 300, each file taking every path."""
    small_school, large_school, other = SchoolFactory(), SchoolFactory(), SchoolFactory()
    small, large = family_rows(30, establishment=3001), family_rows(300, establishment=3002)
    seed_school(small_school, other, small)
    seed_school(large_school, other, large)
    # Warm the caches (content types) that any first import fills.
    pupil_import_apply(school=other, data=csv_bytes(family_rows(3, establishment=3003)), actor=lead_a)
    return (small_school, small), (large_school, large)


def test_it_uses_the_same_number_of_queries_for_30_and_300_rows(
    sqlite_real_parameter_limit, lead_a, two_schools
):
    found = {}
    for label, change in (("first", {}), ("again", {}), ("changed", {"FSM": "Y"})):
        results = [
            import_queries(school, [{**values, **change} for values in rows], lead_a)
            for school, rows in two_schools
        ]
        found[label] = tuple(len(queries) for queries, _ in results)
        if label == "first":
            for _, summary in results:
                assert summary["joined_roll"] > 0
                assert summary["held_back"] > 0
                assert summary["joined_families"] > 0
                assert summary["duplicates_flagged"] > 0
        if label == "changed":
            # Rows on a subsidiary roll leave the main school's record alone; held-back rows wait.
            assert [summary["updated"] for _, summary in results] == [24, 240]

    assert all(small == large for small, large in found.values()), found
    # Rolls add a fixed few: reading the rolls, creating them, and finding the other schools' leads.
    assert found["first"][0] <= 20, found


def test_it_grows_in_queries_only_by_bulk_statement_batches_on_this_database(lead_a, two_schools):
    before = counts()
    (small_queries, _), (large_queries, _) = (
        import_queries(school, rows, lead_a) for school, rows in two_schools
    )
    rows_written = sum(counts().values()) - sum(before.values())

    def reads(queries: list[str]) -> int:
        return sum(1 for sql in queries if sql.lstrip().upper().startswith("SELECT"))

    assert reads(small_queries) == reads(large_queries)
    # Writes are bulk statements: a per-row write would add hundreds, not one per 50 rows written.
    extra_writes = (len(large_queries) - reads(large_queries)) - (len(small_queries) - reads(small_queries))
    assert extra_writes <= rows_written // 50, (len(small_queries), len(large_queries), rows_written)


# --- The management command -----------------------------------------------------------------------


def run_command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_pupils", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_imports_from_the_command_and_prints_a_summary(tmp_path, school_a):
    path = tmp_path / "autumn.csv"
    upns = [make_upn(), make_upn()]
    path.write_bytes(csv_bytes([row(upns[0], family="F1"), row(upns[1], family="F1")]))

    out, err = run_command(str(path), "--school", school_a.urn)

    assert "Imported autumn.csv for Alpha Primary Academy" in out
    assert "  created: 2\n" in out
    assert "  new families: 1\n" in out
    assert err == ""
    assert set(Pupil.objects.filter(school=school_a).values_list("upn", flat=True)) == set(upns)
    [imported] = events("pupils.imported")
    assert (imported.actor_label, imported.note) == ("system", "autumn.csv")


def test_it_names_each_bad_line_on_stderr_from_the_command(tmp_path, school_a, family_a):
    bad_upn = with_wrong_check_letter(make_upn())
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes([row(), row(bad_upn), {**row(), "DOB": "31/02/2019"}]))
    before = counts()
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match=r"2 problem\(s\) in the file; nothing was changed"):
        call_command("import_pupils", str(path), "--school", school_a.urn, stdout=out, stderr=err)

    lines = err.getvalue().splitlines()
    assert lines[0].startswith(
        f"line 3, column UPN: UPN check letter is wrong: expected {make_check(bad_upn)}"
    )
    assert lines[1] == (
        "line 4, column DOB: DOB is not a real date (dates must be day/month/year) (value: '31/02/2019')"
    )
    assert len(lines) == 2
    assert counts() == before


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"PK\x03\x04" + b"\x00" * 100, "file: This is not a CSV text file"),
        (
            csv_bytes([row(surname="B\u00e9d")]).replace("\u00e9".encode(), b"\xe9"),
            "line 2: The file is not UTF-8",
        ),
    ],
    ids=["not_csv", "not_utf8"],
)
def test_it_names_a_whole_file_problem_from_the_command(tmp_path, school_a, data, expected):
    path = tmp_path / "pupils.csv"
    path.write_bytes(data)
    err = io.StringIO()

    with pytest.raises(CommandError, match=r"1 problem\(s\)"):
        call_command("import_pupils", str(path), "--school", school_a.urn, stdout=io.StringIO(), stderr=err)

    assert err.getvalue().startswith(expected)
    assert not Pupil.objects.exists()


def test_it_changes_nothing_on_a_dry_run(tmp_path, school_a, family_a):
    path = tmp_path / "autumn.csv"
    alfie = family_a.pupils.get()
    path.write_bytes(csv_bytes([row(), row(alfie.upn, "Alfie", "Able-Baker", year=4)]))
    before = counts()

    out, _ = run_command(str(path), "--school", school_a.urn, "--dry-run")

    assert "Would change" in out
    assert "  created: 1\n" in out
    assert "  updated: 1\n" in out
    assert counts() == before
    alfie.refresh_from_db()
    assert alfie.surname == "Able"


def test_it_reports_bad_lines_on_a_dry_run_too(tmp_path, school_a):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes([row(), {**row(), "Year": "Y15"}]))
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError):
        call_command(
            "import_pupils", str(path), "--school", school_a.urn, "--dry-run", stdout=out, stderr=err
        )

    assert err.getvalue().startswith("line 3, column Year: Unknown year group")
    assert Pupil.objects.count() == 0


def test_it_refuses_an_unknown_urn_in_the_command(tmp_path, school_a):
    path = tmp_path / "autumn.csv"
    path.write_bytes(csv_bytes([row()]))

    with pytest.raises(CommandError, match="No school has URN 999999"):
        run_command(str(path), "--school", "999999")

    assert Pupil.objects.count() == 0


def test_it_refuses_a_missing_file_in_the_command(tmp_path, school_a):
    with pytest.raises(CommandError, match="Cannot read"):
        run_command(str(tmp_path / "nowhere.csv"), "--school", school_a.urn)


# --- The upload pages -----------------------------------------------------------------------------


@pytest.fixture
def lead_a_upload(school_a, lead_a):
    return pupil_import_upload(
        school=school_a, actor=lead_a, filename="autumn.csv", data=csv_bytes([row(forename="Zara")])
    )


PAGE_CASES = [
    ("lead_a", "get", "/imports/", 200),
    ("lead_a", "get", "detail", 200),
    ("admin", "get", "detail", 200),
    ("lead_b", "get", "/imports/", 200),
    ("lead_b", "get", "detail", 404),
    ("lead_b", "post", "apply", 404),
    ("pastoral_a", "get", "/imports/", 403),
    ("pastoral_a", "get", "detail", 403),
    ("pastoral_a", "post", "apply", 403),
    ("finance", "get", "/imports/", 403),
    ("anonymous", "get", "/imports/", 302),
]


@pytest.mark.parametrize(("persona", "method", "url", "expected"), PAGE_CASES)
def test_it_lets_only_the_schools_leads_at_the_import_pages(
    request, client_for, lead_a_upload, persona, method, url, expected
):
    user = None if persona == "anonymous" else request.getfixturevalue(persona)
    path = {
        "detail": f"/imports/{lead_a_upload.pk}/",
        "apply": f"/imports/{lead_a_upload.pk}/apply/",
    }.get(url, url)

    response = getattr(client_for(user), method)(path)

    assert response.status_code == expected
    if expected != 200:
        assert "Zara" not in response.content.decode()
    lead_a_upload.refresh_from_db()
    assert lead_a_upload.status == PupilImport.Status.PREVIEWED


def test_it_lists_only_uploads_for_the_leads_own_schools(client_for, lead_a, lead_b, lead_a_upload):
    assert "autumn.csv" in client_for(lead_a).get("/imports/").content.decode()
    assert "autumn.csv" not in client_for(lead_b).get("/imports/").content.decode()


def test_it_shows_the_upload_form_with_the_leads_schools(client_for, lead_a, school_a, school_b):
    response = client_for(lead_a).get("/imports/")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'type="file"' in page
    assert f'<option value="{school_a.pk}">Alpha Primary Academy</option>' in page
    assert "Beta Secondary Academy" not in page


def test_it_lists_every_error_of_a_bad_upload_and_creates_nothing(client_for, lead_a, school_a, family_a):
    bad_upn = with_wrong_check_letter(make_upn())
    data = csv_bytes(
        [row(forename="Good"), row(bad_upn), {**row(), "DOB": "31/02/2019"}, {**row(), "Year": "Y15"}]
    )
    before = Pupil.objects.count()
    client = client_for(lead_a)

    response = client.post("/imports/", {"school": school_a.pk, "file": upload_file(data)})

    upload = PupilImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/imports/{upload.pk}/"
    assert upload.status == PupilImport.Status.REJECTED
    page = client.get(response["Location"]).content.decode()
    assert "Nothing was imported: 3 problems to fix" in page
    assert table_rows(page) == [
        ["3", "UPN", f"UPN check letter is wrong: expected {make_check(bad_upn)}, got {bad_upn[0]}", bad_upn],
        [
            "4",
            "DOB",
            "DOB is not a real date (dates must be day/month/year)",
            "31/02/2019",
        ],
        ["5", "Year", "Unknown year group: use R (or 0) for Reception, or 1 to 13", "Y15"],
    ]
    assert "Apply these changes" not in page
    assert Pupil.objects.count() == before


def test_it_previews_a_good_upload_without_creating_anything(client_for, lead_a, school_a, family_a):
    alfie = family_a.pupils.get()
    data = csv_bytes(
        [
            row(forename="Zara", surname="Quinn", year=0, contact="Mo Quinn", postcode="RV4 4AA"),
            row(forename="Yusuf", preferred="Yus", surname="Reed", year=6),
            row(alfie.upn, "Alfie", "Able-Baker", year=4),
        ]
    )
    before = counts()
    client = client_for(lead_a)

    response = client.post("/imports/", {"school": school_a.pk, "file": upload_file(data)}, follow=True)

    page = response.content.decode()
    assert response.status_code == 200
    assert "What will change" in page
    assert "Apply these changes" in page
    assert ["2", "Zara Quinn", "Reception", "Mo Quinn RV4 4AA"] in table_rows(page)
    assert ["3", "Yus Reed", "Year 6", ""] in table_rows(page)
    [alfie_row] = [cells for cells in table_rows(page) if cells[:2] == ["4", "Alfie Able"]]
    assert "Surname: Able → Able-Baker" in alfie_row[2]
    summary = dict(re.findall(r'<dt class="govuk-summary-list__key">(.*?)</dt><dd[^>]*>(.*?)</dd>', page))
    assert summary["New pupils"] == "2"
    assert summary["Pupils with changes"] == "1"
    assert summary["New families"] == "2"
    assert summary["At the school but not in this file"] == "0 (left as they are)"
    upload = PupilImport.objects.get()
    assert (upload.status, upload.summary["created"], upload.summary["updated"]) == ("previewed", 2, 1)
    assert counts() == {**before, "audit": before["audit"] + 1}  # pupils.import_uploaded only
    alfie.refresh_from_db()
    assert alfie.surname == "Able"


def test_it_applies_a_confirmed_upload(
    eager, client_for, lead_a, school_a, django_capture_on_commit_callbacks
):
    upns = [make_upn(), make_upn()]
    data = csv_bytes([row(upns[0], "Zara", "Quinn"), row(upns[1], "Yusuf", "Reed")])
    client = client_for(lead_a)
    client.post("/imports/", {"school": school_a.pk, "file": upload_file(data)})
    upload = PupilImport.objects.get()
    assert not Pupil.objects.exists()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(f"/imports/{upload.pk}/apply/")

    assert len(callbacks) == 1
    assert response.status_code == 302
    assert response["Location"] == f"/imports/{upload.pk}/"
    upload.refresh_from_db()
    assert upload.status == PupilImport.Status.APPLIED
    assert upload.finished_at is not None
    assert upload.summary["created"] == 2
    assert set(Pupil.objects.filter(school=school_a).values_list("upn", flat=True)) == set(upns)
    assert len(events("pupils.import_confirmed")) == 1
    [imported] = events("pupils.imported")
    assert imported.actor == lead_a
    page = client.get(response["Location"]).content.decode()
    assert "What changed" in page
    assert "Applied" in page


def test_it_does_not_apply_an_upload_twice(
    eager, client_for, lead_a, school_a, django_capture_on_commit_callbacks
):
    client = client_for(lead_a)
    client.post("/imports/", {"school": school_a.pk, "file": upload_file(csv_bytes([row(), row()]))})
    upload = PupilImport.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{upload.pk}/apply/")
    before = counts()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(f"/imports/{upload.pk}/apply/", follow=True)

    assert callbacks == []
    assert "This file has already been applied, or it has errors." in response.content.decode()
    assert counts() == before
    assert len(events("pupils.imported")) == 1
    upload.refresh_from_db()
    assert upload.status == PupilImport.Status.APPLIED


def test_it_does_not_apply_a_rejected_upload(
    client_for, lead_a, school_a, django_capture_on_commit_callbacks
):
    client = client_for(lead_a)
    client.post(
        "/imports/", {"school": school_a.pk, "file": upload_file(csv_bytes([{**row(), "Year": "Y15"}]))}
    )
    upload = PupilImport.objects.get()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(f"/imports/{upload.pk}/apply/", follow=True)

    assert callbacks == []
    assert "This file has already been applied, or it has errors." in response.content.decode()
    upload.refresh_from_db()
    assert upload.status == PupilImport.Status.REJECTED
    assert not Pupil.objects.exists()


def test_it_does_not_let_a_lead_upload_for_another_school(client_for, lead_b, school_a, school_b):
    response = client_for(lead_b).post(
        "/imports/", {"school": school_a.pk, "file": upload_file(csv_bytes([row()]))}
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not PupilImport.objects.exists()
    assert not Pupil.objects.exists()


def test_it_refuses_an_oversized_upload(client_for, lead_a, school_a):
    data = csv_bytes([row()])
    data += b" " * (MAX_BYTES + 1 - len(data))

    response = client_for(lead_a).post("/imports/", {"school": school_a.pk, "file": upload_file(data)})

    assert response.status_code == 200
    assert "The file is larger than 10 MB" in response.content.decode()
    assert not PupilImport.objects.exists()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("pupils.xlsx", b"PK\x03\x04" + b"\x00" * 200),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200),
    ],
)
def test_it_rejects_an_upload_that_is_not_csv(client_for, lead_a, school_a, name, data):
    client = client_for(lead_a)

    response = client.post("/imports/", {"school": school_a.pk, "file": upload_file(data, name)}, follow=True)

    page = response.content.decode()
    assert "This is not a CSV text file: save it from your spreadsheet as &#x27;CSV UTF-8&#x27;" in page
    assert PupilImport.objects.get().status == PupilImport.Status.REJECTED
    assert not Pupil.objects.exists()


# --- The task -------------------------------------------------------------------------------------


def queued_upload(school, actor, data: bytes, django_capture_on_commit_callbacks) -> PupilImport:
    upload = pupil_import_upload(school=school, actor=actor, filename="autumn.csv", data=data)
    with django_capture_on_commit_callbacks(execute=False):
        pupil_import_confirm(upload=upload, actor=actor)
    upload.refresh_from_db()
    assert upload.status == PupilImport.Status.QUEUED
    return upload


def test_it_applies_a_queued_upload_once_from_the_task(school_a, lead_a, django_capture_on_commit_callbacks):
    upns = [make_upn(), make_upn(), make_upn()]
    data = csv_bytes([row(upn, family="F1") for upn in upns])
    upload = queued_upload(school_a, lead_a, data, django_capture_on_commit_callbacks)

    assert apply_pupil_import(upload.pk) == "applied"

    assert set(Pupil.objects.values_list("upn", flat=True)) == set(upns)
    after_first = counts()
    upload.refresh_from_db()
    assert (upload.status, upload.summary["created"], upload.summary["new_families"]) == ("applied", 3, 1)

    assert apply_pupil_import(upload.pk) == "applied"

    assert counts() == after_first
    assert len(events("pupils.imported")) == 1
    assert len(events("pupil.created")) == 3


def test_it_leaves_an_unconfirmed_upload_alone_in_the_task(lead_a_upload):
    assert apply_pupil_import(lead_a_upload.pk) == "previewed"

    assert not Pupil.objects.exists()
    assert apply_pupil_import(10**9) == "missing"


def test_it_marks_the_upload_failed_when_the_file_has_become_invalid(
    school_a, lead_a, django_capture_on_commit_callbacks
):
    upload = queued_upload(school_a, lead_a, csv_bytes([row(), row()]), django_capture_on_commit_callbacks)
    # The file is checked again when applied: here its bytes no longer parse.
    PupilImport.objects.filter(pk=upload.pk).update(content=b"UPN,Surname\r\n")

    assert apply_pupil_import(upload.pk) == "failed"

    upload.refresh_from_db()
    assert upload.errors[0]["column"] == "legal_forename"
    assert upload.finished_at is not None
    assert not Pupil.objects.exists()
    assert events("pupils.imported") == []


# --- What the import does not recognise (issue 14) ------------------------------------------------

SIMS_HEADER = [
    "Contact Telephone" if name == "Contact Phone" else "Tutor Group" if name == "Family ID" else name
    for name in HEADER
]


def sims(values: dict[str, str]) -> dict[str, str]:
    """A row as SIMS_HEADER names it: the phone under Contact Telephone, and a tutor group."""
    return {**values, "Contact Telephone": values["Contact Phone"], "Tutor Group": "3RB"}


def test_it_imports_a_contact_telephone_column_and_keeps_a_number_it_cannot_check(school_a, lead_a):
    rows = [
        row(forename="Ann", contact="Pat Shaw", phone="07500 123456"),
        row(forename="Ben", contact="Sam Cole", phone="07700 900123"),  # a range the library cannot place
    ]
    data = csv_bytes([sims(values) for values in rows], header=SIMS_HEADER)

    summary = pupil_import_apply(school=school_a, data=data, actor=lead_a)

    assert summary["created"] == 2
    phones = set(Family.objects.values_list("phone", flat=True))
    assert phones == {"+447500123456", "07700 900123"}


def test_it_previews_unread_columns_and_warnings_in_the_files_own_words(client_for, lead_a, school_a):
    data = csv_bytes(
        [sims(row(forename="Ben", contact="Sam Cole", phone="07700 900123"))],
        header=[*SIMS_HEADER, "Famly ID"],
    )

    response = client_for(lead_a).post(
        "/imports/", {"school": school_a.pk, "file": upload_file(data)}, follow=True
    )

    page = html.unescape(response.content.decode())
    assert "Column M 'Tutor Group' was not read" in page
    assert "Column N 'Famly ID' was not read: did you mean 'Family ID' (Family ID)?" in page
    assert "Contact Telephone '07700 900123' is not a number we can check; it is kept as given" in page
    assert PupilImport.objects.get().status == "previewed"


def test_it_lists_unread_columns_and_warnings_from_the_command(tmp_path, school_a):
    path = tmp_path / "sims.csv"
    path.write_bytes(csv_bytes([sims(row(phone="07700 900123"))], header=SIMS_HEADER))

    out, err = run_command(str(path), "--school", school_a.urn)

    assert "Column M 'Tutor Group' was not read" in err
    assert "Contact Telephone '07700 900123' is not a number we can check" in out


@pytest.mark.parametrize(
    ("phase", "year", "warned"),
    [("primary", 8, True), ("primary", 6, False), ("secondary", 4, True), ("ap", 8, False)],
)
def test_it_warns_about_a_year_group_outside_the_schools_phase(lead_a, phase, year, warned):
    school = SchoolFactory(phase=phase, name="Phase Academy")
    parsed = pupil_import_parse(csv_bytes([row(year=year)]))

    plan = pupil_import_plan(school=school, rows=parsed.rows, academic_year_start=AYS, headers=parsed.columns)

    phase_warnings = [warning for _, warning in plan.warnings if "outside" in warning]
    assert bool(phase_warnings) == warned
    if warned and phase == "primary":
        assert phase_warnings == [
            f"Year: Year {year} is outside Phase Academy's years (primary: Reception to Year 6)"
        ]


def test_it_shows_a_bad_rows_column_as_the_file_names_it_on_the_upload_page(client_for, lead_a, school_a):
    data = csv_bytes([{**row(), "DOB": "31/02/2019"}])

    page = (
        client_for(lead_a)
        .post("/imports/", {"school": school_a.pk, "file": upload_file(data)}, follow=True)
        .content.decode()
    )

    assert ["2", "DOB", "DOB is not a real date (dates must be day/month/year)", "31/02/2019"] in table_rows(
        page
    )


def test_it_pauses_uploads_that_name_too_many_pupils_of_other_schools(
    monkeypatch, client_for, lead_a, school_a, school_b
):
    # Searching for a pupil's date of birth one preview at a time would take hundreds of rows
    # naming that pupil's UPN: past the day's limit every upload is refused, matching or not.
    import support.pupil_import as pupil_import

    monkeypatch.setattr(pupil_import, "CROSS_SCHOOL_ROWS_PER_DAY", 2)
    theirs = [PupilFactory(school=school_b) for _ in range(3)]
    client = client_for(lead_a)

    def upload(rows) -> PupilImport:
        client.post("/imports/", {"school": school_a.pk, "file": upload_file(csv_bytes(rows))})
        return PupilImport.objects.order_by("-pk").first()

    assert upload([guessed_row(theirs[0].upn), guessed_row(theirs[1].upn)]).status == "previewed"
    assert upload([row()]).status == "previewed"  # rows new to the trust do not count
    refused = upload([guessed_row(theirs[2].upn)])
    assert refused.status == "rejected"
    assert refused.errors[0]["reason"] == pupil_import.PAUSED
    assert upload([row()]).status == "rejected"
    assert len(events("pupils.import_paused")) == 1
