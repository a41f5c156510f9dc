"""Uploaded pupil files are kept only while they are needed (issue 13, item 5)."""

import csv
import datetime
import io

import pytest
from django.conf import settings
from django.utils import timezone

from support.data_rights import AnonymiseResult, family_anonymise, subject_access_data
from support.models import AuditEvent, Enrolment, Policy, PupilImport
from support.pupil_import import pupil_import_upload
from support.tasks import apply_pupil_import, purge_pupil_uploads
from support.upload_retention import pupil_uploads_purge
from tests.support.test_pupil_import import HEADER, csv_bytes, queued_upload, row

pytestmark = pytest.mark.django_db


def _stored(upload: PupilImport) -> bytes:
    return bytes(PupilImport.objects.get(pk=upload.pk).content)


def test_it_deletes_an_applied_files_content_and_keeps_its_summary(
    school_a, lead_a, django_capture_on_commit_callbacks
):
    upload = queued_upload(
        school_a, lead_a, csv_bytes([row(forename="Zara")]), django_capture_on_commit_callbacks
    )
    assert b"Zara" in _stored(upload)

    assert apply_pupil_import(upload.pk) == "applied"

    upload.refresh_from_db()
    assert _stored(upload) == b""
    assert upload.content_deleted_at is not None
    assert upload.summary["created"] == 1


def test_it_deletes_a_failed_files_content(school_a, lead_a, django_capture_on_commit_callbacks):
    upload = queued_upload(school_a, lead_a, csv_bytes([row()]), django_capture_on_commit_callbacks)
    PupilImport.objects.filter(pk=upload.pk).update(content=b"UPN,Surname\r\nX,Y\r\n")
    assert apply_pupil_import(upload.pk) == "failed"
    assert _stored(upload) == b""


def test_it_never_keeps_a_rejected_file(school_a, lead_a):
    upload = pupil_import_upload(
        school=school_a, actor=lead_a, filename="bad.csv", data=csv_bytes([row(upn="BAD", forename="Zara")])
    )
    assert upload.status == PupilImport.Status.REJECTED
    assert _stored(upload) == b""
    assert upload.errors  # the lead still sees what to fix


def test_it_expires_a_preview_nobody_applied_after_the_policys_days(school_a, lead_a, client_for):
    policy = Policy.current()
    policy.pupil_upload_days = 3
    policy.save()
    old = pupil_import_upload(school=school_a, actor=lead_a, filename="old.csv", data=csv_bytes([row()]))
    new = pupil_import_upload(school=school_a, actor=lead_a, filename="new.csv", data=csv_bytes([row()]))
    now = timezone.now()
    PupilImport.objects.filter(pk=old.pk).update(created_at=now - datetime.timedelta(days=3, minutes=1))
    PupilImport.objects.filter(pk=new.pk).update(created_at=now - datetime.timedelta(days=2, hours=23))

    assert pupil_uploads_purge(now=now)["previews_expired"] == 1

    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, _stored(old)) == (PupilImport.Status.EXPIRED, b"")
    assert new.status == PupilImport.Status.PREVIEWED
    assert _stored(new)
    assert AuditEvent.objects.filter(action="pupils.uploads_purged").count() == 1
    # Idempotent: a second run finds nothing to do and records nothing.
    assert pupil_uploads_purge(now=now) == {
        "files_deleted": 0,
        "previews_expired": 0,
        "error_values_deleted": 0,
    }
    assert AuditEvent.objects.filter(action="pupils.uploads_purged").count() == 1
    page = client_for(lead_a).get(f"/imports/{old.pk}/").content.decode()
    assert "The file itself was deleted" in page
    assert client_for(lead_a).post(f"/imports/{old.pk}/apply/").status_code == 302
    old.refresh_from_db()
    assert old.status == PupilImport.Status.EXPIRED


def test_it_deletes_files_kept_before_the_rule_and_quoted_values_after_the_period(school_a, lead_a):
    legacy = PupilImport.objects.create(
        school=school_a,
        uploaded_by=lead_a,
        filename="2025.csv",
        content=b"UPN,Surname\r\nA1,Zed\r\n",
        status=PupilImport.Status.APPLIED,
        errors=[{"line": 2, "column": "upn", "reason": "bad", "value": "Zara Zed"}],
    )
    PupilImport.objects.filter(pk=legacy.pk).update(created_at=timezone.now() - datetime.timedelta(days=30))

    counts = purge_pupil_uploads()

    legacy.refresh_from_db()
    assert counts["files_deleted"] == 1
    assert _stored(legacy) == b""
    assert legacy.errors == [{"line": 2, "column": "upn", "reason": "bad", "value": ""}]


def test_it_runs_the_purge_every_night():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "support.purge_pupil_uploads" in tasks


@pytest.fixture
def held(school_a, lead_a, family_a):
    """An unapplied preview whose file carries family_a's pupil among others."""
    pupil = family_a.pupils.get()
    data = csv_bytes(
        [
            row(pupil.upn, "Alfie", "Able", contact="Anna Able", phone="01134960001"),
            row(forename="Other", surname="Child"),
        ]
    )
    return pupil_import_upload(school=school_a, actor=lead_a, filename="autumn.csv", data=data)


def test_it_lists_a_held_file_and_its_rows_in_the_familys_subject_access(held, family_a):
    data = subject_access_data(family=family_a)
    (entry,) = data["pupil_uploads"]
    assert entry["filename"] == "autumn.csv"
    assert [r["Legal Forename"] for r in entry["rows"]] == ["Alfie"]  # not the other child's row


def test_it_deletes_held_files_naming_a_family_when_it_is_anonymised(held, family_a):
    result = AnonymiseResult()
    Enrolment.objects.filter(pupil__family=family_a).update(left_on=timezone.localdate())  # a former pupil
    assert family_anonymise(
        family_id=family_a.pk, cutoff=timezone.now() + datetime.timedelta(days=1), result=result
    )
    held.refresh_from_db()
    assert _stored(held) == b""
    assert held.status == PupilImport.Status.EXPIRED
    assert result.counts()["pupil_uploads"] == 1


def test_it_finds_a_family_in_a_held_file_separated_by_semicolons(school_a, lead_a, family_a):
    # The import reads a file separated by semicolons (or tabs) as well as commas: so does the search.
    pupil = family_a.pupils.get()
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for values in (row(pupil.upn, "Alfie", "Able"), row(forename="Other", surname="Child")):
        writer.writerow([values.get(name, "") for name in HEADER])
    upload = pupil_import_upload(
        school=school_a, actor=lead_a, filename="semicolons.csv", data=out.getvalue().encode()
    )
    assert upload.status == PupilImport.Status.PREVIEWED

    (entry,) = subject_access_data(family=family_a)["pupil_uploads"]
    assert [r["Legal Forename"] for r in entry["rows"]] == ["Alfie"]
