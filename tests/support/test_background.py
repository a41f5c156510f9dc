"""Background work: sent only after commit, and applied by a real worker in CI's PostgreSQL pass."""

import time

import pytest
from django.db import transaction

from support.dates import academic_year_start_for
from support.models import Pupil, PupilImport
from support.pupil_csv import expected_year_group
from support.pupil_import import pupil_import_confirm, pupil_import_upload
from tests.factories import make_upn


def _csv(rows: int) -> bytes:
    import datetime

    from django.utils import timezone

    start = academic_year_start_for(timezone.localdate())
    lines = ["UPN,Legal Forename,Surname,DOB,Year,Contact Name,Postcode,Family ID"]
    for n in range(rows):
        dob = datetime.date(start - 4 - 5, 10, 1 + n % 27)
        assert expected_year_group(dob, academic_year_start=start) == 4
        lines.append(f"{make_upn()},Kid{n},Worker,{dob:%d/%m/%Y},4,Carer {n},RV1 1AA,W{n}")
    return ("\n".join(lines) + "\n").encode()


def test_it_sends_the_import_task_only_after_commit(
    eager, lead_a, school_a, django_capture_on_commit_callbacks
):
    upload = pupil_import_upload(school=school_a, actor=lead_a, filename="a.csv", data=_csv(3))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        pupil_import_confirm(upload=upload, actor=lead_a)
    assert len(callbacks) == 1
    assert not Pupil.objects.exists()  # nothing ran inside the transaction
    callbacks[0]()
    upload.refresh_from_db()
    assert upload.status == PupilImport.Status.APPLIED
    assert Pupil.objects.count() == 3


def test_it_sends_nothing_when_the_transaction_rolls_back(
    lead_a, school_a, django_capture_on_commit_callbacks
):
    upload = pupil_import_upload(school=school_a, actor=lead_a, filename="a.csv", data=_csv(2))

    def confirm_then_fail() -> None:
        with transaction.atomic():
            pupil_import_confirm(upload=upload, actor=lead_a)
            raise RuntimeError("something else failed")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        confirm_then_fail()
    assert callbacks == []
    upload.refresh_from_db()
    assert upload.status == PupilImport.Status.PREVIEWED


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_it_applies_an_import_on_a_real_celery_worker(lead_a, school_a):
    from django.conf import settings

    assert not settings.CELERY_TASK_ALWAYS_EAGER, "this test must send to a real broker"
    upload = pupil_import_upload(school=school_a, actor=lead_a, filename="worker.csv", data=_csv(25))
    pupil_import_confirm(upload=upload, actor=lead_a)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        upload.refresh_from_db()
        if upload.status != PupilImport.Status.QUEUED:
            break
        time.sleep(0.25)
    assert upload.status == PupilImport.Status.APPLIED, upload.errors
    assert Pupil.objects.filter(school=school_a).count() == 25
