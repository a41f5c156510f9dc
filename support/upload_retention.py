"""Uploaded pupil files are kept only while they are needed.

A whole school's export is the most personal data the app ever holds in one piece, and it is needed
only between the upload and the lead's decision. So: a rejected file's content is never kept; an
applied or failed one's is deleted when the worker finishes; a preview nobody applies expires after
the policy's ``pupil_upload_days`` (the nightly ``support.purge_pupil_uploads`` beat task), and the
values quoted in an upload's error list go then too. Anonymising a family deletes every held file
that names one of its pupils, and a family's subject access export lists the held files that do,
with their rows about the family.
"""

import csv
import datetime
import io
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from support.audit import audit_record
from support.models import Family, Policy, Pupil, PupilImport
from support.pupil_csv import _sniff_delimiter

# Statuses whose file is no longer needed: nothing will read the content again.
FINISHED = (
    PupilImport.Status.REJECTED,
    PupilImport.Status.APPLIED,
    PupilImport.Status.FAILED,
    PupilImport.Status.EXPIRED,
)
WAITING = (PupilImport.Status.PREVIEWED, PupilImport.Status.QUEUED)


def _held() -> QuerySet[PupilImport]:
    return PupilImport.objects.filter(content_deleted_at__isnull=True)


def _without_values(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**error, "value": ""} for error in errors or []]


@transaction.atomic
def pupil_uploads_purge(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Delete what is no longer needed (idempotent): finished uploads' files at once, unapplied previews'
    after the policy's days, and after those days the values quoted in error lists."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=Policy.current().pupil_upload_days)
    finished = _held().filter(status__in=FINISHED).update(content=b"", content_deleted_at=now)
    expired = (
        _held()
        .filter(status=PupilImport.Status.PREVIEWED, created_at__lt=cutoff)
        .update(status=PupilImport.Status.EXPIRED, content=b"", content_deleted_at=now, finished_at=now)
    )
    quoted = 0
    for upload in (
        PupilImport.objects.filter(created_at__lt=cutoff).exclude(status__in=WAITING).only("errors")
    ):
        if any(error.get("value") for error in upload.errors):
            PupilImport.objects.filter(pk=upload.pk).update(errors=_without_values(upload.errors))
            quoted += 1
    counts = {"files_deleted": finished, "previews_expired": expired, "error_values_deleted": quoted}
    if finished or expired or quoted:
        audit_record(actor=None, action="pupils.uploads_purged", after=counts, note="retention")
    return counts


# --- Data rights -----------------------------------------------------------------------------


def _decode(content: bytes) -> str:
    data = bytes(content).removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _rows_naming(content: bytes, upns: set[str]) -> list[dict[str, str]]:
    """The file's rows that carry one of ``upns`` in any cell, by the file's own header names."""
    text = _decode(content)
    # Split as the import splits it (a comma, semicolon or tab: whichever the header has most of).
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    header = next(reader, [])
    return [
        dict(zip(header, cells, strict=False))
        for cells in reader
        if any(cell.strip().upper() in upns for cell in cells)
    ]


def _family_upns(family: Family) -> set[str]:
    return {upn.upper() for upn in Pupil.objects.filter(family=family).values_list("upn", flat=True) if upn}


def _uploads_naming(family: Family) -> list[tuple[PupilImport, list[dict[str, str]]]]:
    upns = _family_upns(family)
    if not upns:
        return []
    found = []
    # Only files still held are searched: at most a week's unapplied previews, so a scan is cheap.
    for upload in _held().select_related("school", "uploaded_by").order_by("pk").iterator():
        rows = _rows_naming(upload.content, upns)
        if rows:
            found.append((upload, rows))
    return found


def uploads_about_family(family: Family) -> list[dict[str, Any]]:
    """Subject access: each held upload that names one of the family's pupils, and those rows."""
    return [
        {
            "id": upload.pk,
            "school": upload.school.name,
            "filename": upload.filename,
            "uploaded_at": timezone.localtime(upload.created_at).isoformat(),
            "uploaded_by": upload.uploaded_by.get_username(),
            "status": upload.get_status_display(),
            "rows": rows,
        }
        for upload, rows in _uploads_naming(family)
    ]


def uploads_forget_family(family: Family, *, now: datetime.datetime | None = None) -> int:
    """Anonymisation: delete every held file that names one of the family's pupils (call before the
    UPNs change). An unapplied preview or queued import among them expires: it cannot be applied now."""
    now = now or timezone.now()
    ids = [upload.pk for upload, _ in _uploads_naming(family)]
    if not ids:
        return 0
    PupilImport.objects.filter(pk__in=ids, status__in=WAITING).update(status=PupilImport.Status.EXPIRED)
    for upload in PupilImport.objects.filter(pk__in=ids).only("errors"):
        PupilImport.objects.filter(pk=upload.pk).update(errors=_without_values(upload.errors))
    return PupilImport.objects.filter(pk__in=ids).update(content=b"", content_deleted_at=now, finished_at=now)
