"""Leaving dates, registration types and retention (issue 20.4): the import reads them, a leaver
stays on record as a former pupil, and the anonymiser counts the retention period from the leaving
date (never while a pupil of the family is on a current roll)."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from support import data_rights
from support.models import AuditEvent, Enrolment, Family, Pupil
from support.pupil_import import pupil_import_apply, pupil_import_parse
from support.selectors import pupils_visible_to
from support.tasks import anonymise_expired as anonymise_task
from tests.factories import FamilyFactory, PupilFactory
from tests.support.test_pupil_import import HEADER, csv_bytes, row

TODAY = timezone.localdate()
LEAVING = ["Leaving Date", "Enrolment Status"]


def _years_ago(years: int) -> datetime.date:
    return TODAY - datetime.timedelta(days=365 * years + 2)


def _left(pupil: Pupil, *, on: datetime.date) -> None:
    Enrolment.objects.filter(pupil=pupil).update(joined=on - datetime.timedelta(days=400), left_on=on)


def _old(family: Family, years: int = 10) -> None:
    """Nothing has touched the family's record for ``years`` (the old last-activity rule would act)."""
    then = timezone.now() - datetime.timedelta(days=365 * years)
    Family.objects.filter(pk=family.pk).update(updated_at=then)
    Pupil.objects.filter(family=family).update(updated_at=then)


def _anonymised(family: Family) -> bool:
    return Family.objects.get(pk=family.pk).lead_carer_name == data_rights.ANONYMISED


# --- The import ------------------------------------------------------------------------------------


def test_it_reads_leaving_dates_and_registration_types(school_a):
    left = (TODAY - datetime.timedelta(days=30)).strftime("%d/%m/%Y")
    data = csv_bytes(
        [
            {**row(forename="Cat"), "Leaving Date": left, "Enrolment Status": "L"},
            {**row(forename="Dan"), "Enrolment Status": "S"},
            {**row(forename="Eve"), "Enrolment Status": "C"},
            {**row(forename="Fay"), "Enrolment Status": "M"},
        ],
        header=[*HEADER, *LEAVING],
    )
    parsed = pupil_import_parse(data)
    assert parsed.ok, parsed.errors
    assert parsed.columns["leaving_date"] == "Leaving Date"
    assert parsed.columns["registration"] == "Enrolment Status"
    got = [(r.legal_forename, r.leaving_date, r.registration) for r in parsed.rows]
    assert got == [
        ("Cat", TODAY - datetime.timedelta(days=30), "leaver"),
        ("Dan", None, "subsidiary"),
        ("Eve", None, "current"),
        ("Fay", None, "main"),
    ]


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"Enrolment Status": "X"}, "Enrolment Status must be C (current), M (main dual)"),
        ({"Enrolment Status": "L"}, "Leaving Date is missing for a leaver"),
        ({"Leaving Date": "31/02/2024"}, "Leaving Date is not a real date"),
    ],
)
def test_it_refuses_a_bad_registration_or_leaving_date(values, reason):
    parsed = pupil_import_parse(csv_bytes([{**row(), **values}], header=[*HEADER, *LEAVING]))
    assert not parsed.rows
    assert any(reason.lower() in error.reason.lower() for error in parsed.errors), parsed.errors


def test_it_reads_other_systems_names_for_the_columns():
    header = [*HEADER, "Date of Leaving", "Registration Type"]
    parsed = pupil_import_parse(csv_bytes([{**row(), "Registration Type": "S"}], header=header))
    assert parsed.columns["leaving_date"] == "Date of Leaving"
    assert parsed.rows[0].registration == "subsidiary"
    parsed = pupil_import_parse(csv_bytes([{**row(), "Enrol Status": "M"}], header=[*HEADER, "Enrol Status"]))
    assert parsed.rows[0].registration == "main"


def test_a_leaver_in_the_file_leaves_the_roll_and_stays_on_record(school_a, lead_a, pastoral_a):
    upn = row()["UPN"]
    pupil_import_apply(school=school_a, data=csv_bytes([row(upn, "Amy", "Smith")]), actor=lead_a)
    pupil = Pupil.objects.get(upn=upn)
    left = TODAY - datetime.timedelta(days=10)
    data = csv_bytes(
        [{**row(upn, "Amy", "Smith"), "Leaving Date": left.strftime("%d/%m/%Y"), "Enrolment Status": "L"}],
        header=[*HEADER, *LEAVING],
    )
    summary = pupil_import_apply(school=school_a, data=data, actor=lead_a)
    assert summary["left_roll"] == 1
    roll = Enrolment.objects.get(pupil=pupil, school=school_a)
    assert roll.left_on == left
    assert roll.joined <= left
    assert Pupil.objects.filter(pk=pupil.pk).exists()  # a former pupil, not deleted
    assert not pupils_visible_to(pastoral_a).filter(pk=pupil.pk).exists()
    event = AuditEvent.objects.get(action="pupil.roll_left", subject_id=str(pupil.pk))
    assert (event.after["left_on"], event.note) == (left.isoformat(), "import")


def test_it_does_not_create_a_leaver_it_never_had(school_a, lead_a):
    data = csv_bytes(
        [{**row(), "Leaving Date": "01/07/2024", "Enrolment Status": "L"}, row(forename="Stays")],
        header=[*HEADER, *LEAVING],
    )
    summary = pupil_import_apply(school=school_a, data=data, actor=lead_a)
    assert (summary["created"], summary["leavers_not_on_roll"]) == (1, 1)
    assert list(Pupil.objects.values_list("legal_forename", flat=True)) == ["Stays"]


def test_a_leaving_date_to_come_keeps_the_pupil_on_roll_with_a_warning(school_a, lead_a):
    soon = (TODAY + datetime.timedelta(days=20)).strftime("%d/%m/%Y")
    data = csv_bytes([{**row(), "Leaving Date": soon}], header=[*HEADER, *LEAVING])
    parsed = pupil_import_parse(data)
    assert parsed.rows[0].leaving_date is None
    assert any("still to come" in warning for warning in parsed.rows[0].warnings)
    pupil_import_apply(school=school_a, data=data, actor=lead_a)
    assert Enrolment.objects.current().filter(school=school_a).count() == 1


def test_a_new_pupil_registered_subsidiary_gets_a_subsidiary_roll(school_a, lead_a):
    data = csv_bytes([{**row(), "Enrolment Status": "S"}], header=[*HEADER, *LEAVING])
    pupil_import_apply(school=school_a, data=data, actor=lead_a)
    assert Enrolment.objects.get(school=school_a).registration == "subsidiary"


def test_a_file_saying_subsidiary_moves_the_pupils_roll_here_to_subsidiary(school_a, lead_a):
    upn = row()["UPN"]
    pupil_import_apply(school=school_a, data=csv_bytes([row(upn)]), actor=lead_a)
    data = csv_bytes([{**row(upn), "Enrolment Status": "S"}], header=[*HEADER, *LEAVING])
    summary = pupil_import_apply(school=school_a, data=data, actor=lead_a)
    assert summary["registration_changed"] == 1
    assert Enrolment.objects.get(school=school_a).registration == "subsidiary"
    assert AuditEvent.objects.filter(action="pupil.registration_changed").count() == 1


def test_it_never_makes_a_second_main_roll(school_a, school_b, lead_a, family_b):
    bobby = family_b.pupils.get()
    values = {
        **row(bobby.upn, "Bobby", "Brook", year=8),
        "DOB": "05/01/2013",
        "Enrolment Status": "M",
    }
    # The date of birth is fixed, so the import checks its year group on a fixed day too.
    data = csv_bytes([values], header=[*HEADER, *LEAVING])
    pupil_import_apply(school=school_a, data=data, actor=lead_a, today=datetime.date(2026, 12, 5))
    rolls = dict(Enrolment.objects.current().filter(pupil=bobby).values_list("school_id", "registration"))
    assert rolls == {school_b.pk: "main", school_a.pk: "subsidiary"}


# --- The family page -------------------------------------------------------------------------------


def test_the_family_page_shows_a_former_pupil_as_left(family_ab, school_a, pastoral_a, client_for):
    cleo = family_ab.pupils.get(legal_forename="Cleo")
    PupilFactory(family=family_ab, school=school_a, legal_forename="Dora", surname="Cross")
    _left(cleo, on=datetime.date(2025, 7, 18))
    page = client_for(pastoral_a).get(f"/families/{family_ab.pk}/").content.decode()
    assert "Cleo Cross <strong" in page
    assert "Left 18 Jul 2025" in page
    assert "Caspar" not in page  # another school's pupil stays that school's


def test_another_schools_staff_do_not_see_the_former_pupil(family_ab, school_a, pastoral_b, client_for):
    cleo = family_ab.pupils.get(legal_forename="Cleo")
    _left(cleo, on=datetime.date(2025, 7, 18))
    page = client_for(pastoral_b).get(f"/families/{family_ab.pk}/").content.decode()
    assert "Cleo" not in page
    assert "Left 18 Jul 2025" not in page


# --- Retention -------------------------------------------------------------------------------------


def test_a_former_pupils_family_is_anonymised_on_the_leaving_date_rule(family_a):
    _left(family_a.pupils.get(), on=_years_ago(7))
    # The record was touched last week (an import, an edit): retention still counts from the leaving date.
    expired, result = data_rights.anonymise_expired()
    assert [pk for pk, _ in expired] == [family_a.pk]
    assert result.families == 1
    assert _anonymised(family_a)


def test_it_is_not_anonymised_before_the_period_after_leaving_has_passed(family_a):
    _old(family_a)
    _left(family_a.pupils.get(), on=_years_ago(5))
    assert data_rights.anonymise_expired()[0] == []
    assert not _anonymised(family_a)


def test_a_family_with_a_pupil_on_a_current_roll_is_never_anonymised(family_a):
    _old(family_a, years=12)  # the old last-activity rule would have anonymised it
    assert data_rights.anonymise_expired()[0] == []
    result = data_rights.AnonymiseResult()
    cutoff = timezone.now() + datetime.timedelta(days=1)
    assert not data_rights.family_anonymise(family_id=family_a.pk, cutoff=cutoff, result=result)
    assert not _anonymised(family_a)


def test_a_pupil_still_on_another_roll_keeps_the_family(family_ab, school_a):
    _old(family_ab)
    cleo = family_ab.pupils.get(legal_forename="Cleo")
    _left(cleo, on=_years_ago(8))  # Caspar is still at school B
    assert data_rights.anonymise_expired()[0] == []


def test_it_counts_from_the_latest_leaving_date_of_the_familys_pupils(family_ab):
    _old(family_ab)
    _left(family_ab.pupils.get(legal_forename="Cleo"), on=_years_ago(9))
    _left(family_ab.pupils.get(legal_forename="Caspar"), on=_years_ago(2))
    assert data_rights.anonymise_expired()[0] == []
    _left(family_ab.pupils.get(legal_forename="Caspar"), on=_years_ago(7))
    assert [pk for pk, _ in data_rights.anonymise_expired()[0]] == [family_ab.pk]


def test_the_command_and_the_beat_task_use_the_leaving_date_rule(family_a, family_b, eager):
    _left(family_a.pupils.get(), on=_years_ago(7))
    _old(family_b, years=12)  # long untouched, but Bobby is on roll
    out = io.StringIO()
    call_command("anonymise_expired", "--dry-run", stdout=out)
    assert f"family {family_a.pk}:" in out.getvalue()
    assert f"family {family_b.pk}:" not in out.getvalue()
    assert anonymise_task.delay().get()["families"] == 1
    assert _anonymised(family_a)
    assert not _anonymised(family_b)


def test_a_family_with_no_pupils_falls_back_to_last_activity(db):
    family = FamilyFactory(lead_carer_name="No Pupils")
    assert data_rights.anonymise_expired()[0] == []
    _old(family, years=7)
    assert [pk for pk, _ in data_rights.anonymise_expired()[0]] == [family.pk]
