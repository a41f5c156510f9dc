"""The pupil import's optional attendance columns (issue 18): a percentage per term of this academic year,
kept per pupil, school and term, replaced when a later export gives the term again; a bad value is a
row error that changes nothing."""

from decimal import Decimal

import pytest

from support.models import PupilAttendance
from support.pupil_import import ImportRejected, pupil_import_apply
from tests.factories import SchoolFactory, make_upn
from tests.support.test_pupil_import import AYS, HEADER, csv_bytes, row

pytestmark = pytest.mark.django_db
WITH_ATTENDANCE = [*HEADER, "Autumn Attendance %", "Spring Term Attendance"]


def test_it_keeps_each_terms_attendance_and_replaces_it_on_a_later_import():
    school = SchoolFactory()
    upn = make_upn()
    first = row(upn) | {"Autumn Attendance %": "93.5%", "Spring Term Attendance": ""}
    summary = pupil_import_apply(school=school, data=csv_bytes([first], WITH_ATTENDANCE), actor=None)
    assert summary["attendance"] == 1
    kept = PupilAttendance.objects.get()
    assert (kept.school, kept.academic_year, kept.term, kept.percent) == (school, AYS, 1, Decimal("93.50"))

    again = row(upn) | {"Autumn Attendance %": "94", "Spring Term Attendance": "88.25"}
    pupil_import_apply(school=school, data=csv_bytes([again], WITH_ATTENDANCE), actor=None)
    assert dict(PupilAttendance.objects.values_list("term", "percent")) == {
        1: Decimal("94.00"),
        2: Decimal("88.25"),
    }


@pytest.mark.parametrize("value", ["101", "-1", "ninety", "NaN"])
def test_a_percentage_outside_0_to_100_is_a_row_error(value):
    bad = row() | {"Autumn Attendance %": value, "Spring Term Attendance": ""}
    with pytest.raises(ImportRejected) as refused:
        pupil_import_apply(school=SchoolFactory(), data=csv_bytes([bad], WITH_ATTENDANCE), actor=None)
    # Named as the file names the column.
    assert refused.value.errors[0].reason == "Autumn Attendance % must be a percentage from 0 to 100"
    assert not PupilAttendance.objects.exists()


def test_a_pupils_attendance_is_in_subject_access_and_goes_with_anonymisation(admin):
    from support.data_rights import anonymise_expired, subject_access_data
    from tests.factories import PupilFactory
    from tests.support.test_data_rights import _age

    pupil = PupilFactory()
    PupilAttendance.objects.create(pupil=pupil, school=pupil.school, academic_year=2025, term=2, percent=91)
    data = subject_access_data(family=pupil.family, actor=admin)
    assert data["pupils"][0]["attendance"] == [
        {"school": pupil.school.name, "academic_year": 2025, "term": "Spring", "percent": "91.00"}
    ]
    _age(pupil.family)
    assert [pk for pk, _ in anonymise_expired()[0]] == [pupil.family_id]
    assert not PupilAttendance.objects.exists()
