"""Importing a school's pupils from a school information system export.

``pupil_import_plan`` reads the database and says what a file would change (the preview);
``pupil_import_apply`` makes exactly those changes in one transaction. A file with any bad row
changes nothing: the parser's errors come back, every one with its line, column and reason.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Greatest
from django.utils import timezone

from support.audit import audit_event, audit_record, audit_record_many
from support.errors import SupportError
from support.jobs import enqueue_on_commit
from support.models import AuditEvent, Family, FamilyDuplicate, Pupil, PupilImport, School
from support.pupil_csv import (
    ParseResult,
    PupilRow,
    RowError,
    academic_year_start_for,
    normalise_name_key,
    parse_pupil_csv,
)

PUPIL_FIELDS = (
    "legal_forename",
    "preferred_forename",
    "surname",
    "date_of_birth",
    "year_group",
    "fsm",
    "pupil_premium",
    "sis_family_ref",
)
CHUNK = 900  # stays under SQLite's bound-parameter limit on old builds


class ImportRejected(SupportError):
    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(
            f"The file has {len(errors)} problem(s); nothing was changed.", code="import_rejected"
        )
        self.errors = errors


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class FamilyGroup:
    """New pupils who will share one new family."""

    rows: list[PupilRow]

    @property
    def lead(self) -> PupilRow:
        return next((row for row in self.rows if row.contact_name), self.rows[0])


@dataclass
class ImportPlan:
    school: School
    academic_year_start: int
    new_rows: list[PupilRow] = field(default_factory=list)
    # New pupils who join a family already known at this school through the export's family link.
    joins: dict[str, int] = field(default_factory=dict)  # upn -> family id
    new_groups: list[FamilyGroup] = field(default_factory=list)
    updates: list[tuple[Pupil, PupilRow, dict[str, tuple[Any, Any]]]] = field(default_factory=list)
    unchanged: int = 0
    moved_in: list[tuple[Pupil, PupilRow]] = field(default_factory=list)
    not_in_file: int = 0
    warnings: list[tuple[int, str]] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, int]:
        return {
            "rows": len(self.new_rows) + len(self.updates) + self.unchanged,
            "created": len(self.new_rows),
            "updated": len(self.updates),
            "unchanged": self.unchanged,
            "moved_in": len(self.moved_in),
            "new_families": len(self.new_groups),
            "joined_families": len(self.joins),
            "not_in_file": self.not_in_file,
            "warnings": len(self.warnings),
        }


def _row_values(row: PupilRow) -> dict[str, Any]:
    return {
        "legal_forename": row.legal_forename,
        "preferred_forename": row.preferred_forename,
        "surname": row.surname,
        "date_of_birth": row.date_of_birth,
        "year_group": row.year_group,
        "fsm": row.fsm,
        "pupil_premium": row.pupil_premium,
        "sis_family_ref": row.family_ref,
    }


# Values the parser accepts but a column could not hold (PostgreSQL would refuse the whole import).
_STORED_LENGTHS = (
    ("family_ref", "Family ID", Pupil._meta.get_field("sis_family_ref").max_length),
    ("contact_email", "Contact email", Family._meta.get_field("email").max_length),
)


def pupil_import_parse(data: bytes, *, today: datetime.date | None = None) -> ParseResult:
    parsed = parse_pupil_csv(data, academic_year_start=academic_year_start_for(today or timezone.localdate()))
    too_long: list[RowError] = []
    for row in parsed.rows:
        for column, label, limit in _STORED_LENGTHS:
            value = getattr(row, column)
            if len(value) > limit:
                shown = value if len(value) <= 60 else value[:59] + "\u2026"
                too_long.append(
                    RowError(row.line, column, f"{label} is longer than {limit} characters", shown)
                )
    if too_long:
        bad_lines = {error.line for error in too_long}
        parsed.rows = [row for row in parsed.rows if row.line not in bad_lines]
        parsed.errors = sorted([*parsed.errors, *too_long], key=lambda error: error.line)
    return parsed


def pupil_import_plan(*, school: School, rows: list[PupilRow], academic_year_start: int) -> ImportPlan:
    """What importing ``rows`` for ``school`` would change. Reads only; a bounded number of queries."""
    plan = ImportPlan(school=school, academic_year_start=academic_year_start)
    existing: dict[str, Pupil] = {}
    upns = [row.upn for row in rows]
    for chunk in _chunks(upns):
        for pupil in Pupil.objects.filter(upn__in=chunk):
            existing[pupil.upn] = pupil

    # A Family ID names the family of a known pupil who has it in this file (they are at, or moving
    # to, this school); failing that, the family of a pupil at this school who has it stored.
    family_by_ref: dict[str, int] = {}
    for row in rows:
        known_pupil = existing.get(row.upn)
        if known_pupil is not None and row.family_ref:
            family_by_ref.setdefault(row.family_ref, known_pupil.family_id)
    refs = sorted(
        {row.family_ref for row in rows if row.family_ref and row.upn not in existing} - family_by_ref.keys()
    )
    for chunk in _chunks(refs):
        known = Pupil.objects.filter(school=school, sis_family_ref__in=chunk).order_by("pk")
        for ref, family_id in known.values_list("sis_family_ref", "family_id"):
            family_by_ref.setdefault(ref, family_id)

    groups: dict[str, FamilyGroup] = {}
    for row in rows:
        plan.warnings.extend((row.line, warning) for warning in row.warnings)
        pupil = existing.get(row.upn)
        if pupil is None:
            plan.new_rows.append(row)
            if row.family_ref and row.family_ref in family_by_ref:
                plan.joins[row.upn] = family_by_ref[row.family_ref]
            elif row.family_ref:
                groups.setdefault(row.family_ref, FamilyGroup(rows=[])).rows.append(row)
            else:
                plan.new_groups.append(FamilyGroup(rows=[row]))
            continue
        diff = {
            name: (getattr(pupil, name), value)
            for name, value in _row_values(row).items()
            if getattr(pupil, name) != value
        }
        if pupil.school_id != school.pk:
            diff["school"] = (pupil.school_id, school.pk)
            plan.moved_in.append((pupil, row))
        if diff:
            plan.updates.append((pupil, row, diff))
        else:
            plan.unchanged += 1
    plan.new_groups.extend(groups.values())
    for group in plan.new_groups:
        if not group.lead.contact_name:
            plan.warnings.append(
                (group.lead.line, "No contact name: the new family is named after the pupil's surname")
            )
    plan.warnings.sort(key=lambda warning: warning[0])
    already_here = sum(1 for pupil in existing.values() if pupil.school_id == school.pk)
    plan.not_in_file = Pupil.objects.filter(school=school).count() - already_here
    return plan


def _new_family(group: FamilyGroup) -> Family:
    lead = group.lead
    name = lead.contact_name or f"{lead.surname} household"
    return Family(
        lead_carer_name=name,
        carer_name_key=normalise_name_key(name),
        phone=next((r.contact_phone for r in group.rows if r.contact_phone), ""),
        email=next((r.contact_email for r in group.rows if r.contact_email), ""),
        postcode=next((r.postcode for r in group.rows if r.postcode), ""),
        adults=1,
        children=len(group.rows),
    )


def _find_duplicates(new_families: list[Family]) -> list[FamilyDuplicate]:
    """Pairs of (new family, any other family) that look like one household. Never merged here."""
    if not new_families:
        return []
    new_ids = {family.pk for family in new_families}
    keys = {(f.carer_name_key, f.postcode) for f in new_families if f.carer_name_key and f.postcode}
    phones = {f.phone for f in new_families if f.phone}
    emails = {f.email for f in new_families if f.email}
    candidates: dict[int, Family] = {}
    names = sorted({key for key, _ in keys})
    for chunk in _chunks(names):
        for family in Family.objects.filter(carer_name_key__in=chunk, merged_into__isnull=True):
            candidates[family.pk] = family
    for values, lookup in ((sorted(phones), "phone__in"), (sorted(emails), "email__in")):
        for chunk in _chunks(values):
            for family in Family.objects.filter(Q(**{lookup: chunk}), merged_into__isnull=True):
                candidates[family.pk] = family

    by_key: dict[tuple[str, str], list[Family]] = defaultdict(list)
    by_phone: dict[str, list[Family]] = defaultdict(list)
    by_email: dict[str, list[Family]] = defaultdict(list)
    for family in candidates.values():
        if family.postcode:
            by_key[(family.carer_name_key, family.postcode)].append(family)
        if family.phone:
            by_phone[family.phone].append(family)
        if family.email:
            by_email[family.email].append(family)

    pairs: dict[tuple[int, int], str] = {}

    def add(a: Family, b: Family, reason: str) -> None:
        if a.pk == b.pk:
            return
        low, high = sorted((a.pk, b.pk))
        pairs.setdefault((low, high), reason)

    for family in new_families:
        for other in by_key.get((family.carer_name_key, family.postcode), []):
            add(family, other, "Same carer name and postcode")
        for other in by_phone.get(family.phone, []) if family.phone else []:
            add(family, other, "Same contact phone number")
        for other in by_email.get(family.email, []) if family.email else []:
            add(family, other, "Same contact e-mail address")
    return [
        FamilyDuplicate(family_a_id=low, family_b_id=high, reason=reason)
        for (low, high), reason in pairs.items()
        if low in new_ids or high in new_ids
    ]


def pupil_import_apply(
    *,
    school: School,
    data: bytes,
    actor: AbstractBaseUser | None,
    filename: str = "",
    today: datetime.date | None = None,
) -> dict[str, int]:
    """Parse, check and apply a file for ``school``: all of it, or (on any bad row) none of it."""
    parsed = pupil_import_parse(data, today=today)
    if not parsed.ok:
        raise ImportRejected(
            parsed.errors or [RowError(line=1, column="", reason="The file has no pupil rows")]
        )
    try:
        with transaction.atomic():
            return _apply(school=school, parsed=parsed, actor=actor, filename=filename, today=today)
    except IntegrityError as exc:
        # Another import for the same pupils committed between our read and our write.
        raise SupportError(
            "Another import changed these pupils at the same time. Nothing was changed: try again."
        ) from exc


def _apply(
    *,
    school: School,
    parsed: ParseResult,
    actor: AbstractBaseUser | None,
    filename: str,
    today: datetime.date | None,
) -> dict[str, int]:
    plan = pupil_import_plan(
        school=school,
        rows=parsed.rows,
        academic_year_start=academic_year_start_for(today or timezone.localdate()),
    )
    now = timezone.now()
    events: list[AuditEvent] = []

    families = [_new_family(group) for group in plan.new_groups]
    Family.objects.bulk_create(families, batch_size=500)
    family_for_upn: dict[str, int] = dict(plan.joins)
    for group, family in zip(plan.new_groups, families, strict=True):
        for row in group.rows:
            family_for_upn[row.upn] = family.pk
        events.append(
            audit_event(
                actor=actor,
                action="family.created",
                subject=family,
                after={
                    "lead_carer_name": family.lead_carer_name,
                    "postcode": family.postcode,
                    "source": "import",
                },
            )
        )

    new_pupils = [
        Pupil(upn=row.upn, school=school, family_id=family_for_upn[row.upn], **_row_values(row))
        for row in plan.new_rows
    ]
    Pupil.objects.bulk_create(new_pupils, batch_size=500)
    for pupil in new_pupils:
        events.append(
            audit_event(
                actor=actor,
                action="pupil.created",
                subject=pupil,
                after={"upn": pupil.upn, "school": school.pk, "family": pupil.family_id, "source": "import"},
            )
        )

    # A family that gained a pupil has at least as many children as pupils on record.
    for chunk in _chunks(sorted(set(plan.joins.values()))):
        pupil_count = (
            Pupil.objects.filter(family=OuterRef("pk")).values("family").annotate(n=Count("pk")).values("n")
        )
        Family.objects.filter(pk__in=chunk).update(children=Greatest("children", Subquery(pupil_count)))

    changed_pupils = []
    for pupil, row, diff in plan.updates:
        for name, value in _row_values(row).items():
            setattr(pupil, name, value)
        pupil.school = school
        pupil.updated_at = now
        changed_pupils.append(pupil)
        events.append(
            audit_event(
                actor=actor,
                action="pupil.updated",
                subject=pupil,
                before={name: old for name, (old, _) in diff.items()},
                after={name: new for name, (_, new) in diff.items()},
                note="import",
            )
        )
    Pupil.objects.bulk_update(changed_pupils, [*PUPIL_FIELDS, "school", "updated_at"], batch_size=500)

    duplicates = _find_duplicates(families)
    FamilyDuplicate.objects.bulk_create(duplicates, batch_size=500, ignore_conflicts=True)

    summary = {**plan.summary, "duplicates_flagged": len(duplicates)}
    events.append(
        audit_event(actor=actor, action="pupils.imported", subject=school, after=summary, note=filename)
    )
    audit_record_many(events)
    return summary


def describe_changes(diff: dict[str, tuple[Any, Any]]) -> Iterable[str]:
    for name, (old, new) in diff.items():
        label = name.replace("_", " ")
        yield f"{label}: {old} → {new}"


# --- The upload page's flow: upload → preview → confirm → applied in the background ----------


def pupil_import_upload(
    *, school: School, actor: AbstractBaseUser, filename: str, data: bytes
) -> PupilImport:
    """Keep the uploaded file and its preview (or its errors) for a lead to look at."""
    parsed = pupil_import_parse(data)
    with transaction.atomic():
        if parsed.ok:
            plan = pupil_import_plan(school=school, rows=parsed.rows, academic_year_start=plan_year())
            status, errors, summary = PupilImport.Status.PREVIEWED, [], plan.summary
        else:
            errors = parsed.errors or [RowError(line=1, column="", reason="The file has no pupil rows")]
            status, summary = PupilImport.Status.REJECTED, {}
            errors = [
                {"line": e.line, "column": e.column, "reason": e.reason, "value": e.value} for e in errors
            ]
        # A rejected file is not kept: the lead fixes it and uploads it again (issue 13.5).
        rejected = status == PupilImport.Status.REJECTED
        upload = PupilImport.objects.create(
            school=school,
            uploaded_by=actor,
            filename=filename[:200],
            content=b"" if rejected else data,
            content_deleted_at=timezone.now() if rejected else None,
            status=status,
            errors=errors,
            summary=summary,
        )
        audit_record(
            actor=actor,
            action="pupils.import_uploaded",
            subject=upload,
            after={"status": status, **summary},
            note=filename,
        )
    return upload


def plan_year() -> int:
    return academic_year_start_for(timezone.localdate())


def pupil_import_confirm(*, upload: PupilImport, actor: AbstractBaseUser) -> None:
    """A lead confirms the preview: the import is queued and applied by a worker after commit."""
    with transaction.atomic():
        claimed = PupilImport.objects.filter(pk=upload.pk, status=PupilImport.Status.PREVIEWED).update(
            status=PupilImport.Status.QUEUED
        )
        if not claimed:
            raise SupportError("This file has already been applied, or it has errors.", code="conflict")
        audit_record(actor=actor, action="pupils.import_confirmed", subject=upload, note=upload.filename)
        enqueue_on_commit("support.apply_pupil_import", upload.pk)


def pupil_import_execute(*, upload_id: int) -> str:
    """Apply a queued upload once. Safe to run twice: a second run finds it no longer queued."""
    with transaction.atomic():
        upload = PupilImport.objects.select_for_update().filter(pk=upload_id).first()
        if upload is None or upload.status != PupilImport.Status.QUEUED:
            return upload.status if upload else "missing"
        try:
            with transaction.atomic():
                summary = pupil_import_apply(
                    school=upload.school,
                    data=bytes(upload.content),
                    actor=upload.uploaded_by,
                    filename=upload.filename,
                )
        except ImportRejected as exc:
            upload.status = PupilImport.Status.FAILED
            upload.errors = [
                {"line": e.line, "column": e.column, "reason": e.reason, "value": e.value} for e in exc.errors
            ]
        except SupportError as exc:
            upload.status = PupilImport.Status.FAILED
            upload.errors = [{"line": 0, "column": "", "reason": exc.message, "value": ""}]
        else:
            upload.status = PupilImport.Status.APPLIED
            upload.summary = summary
        upload.finished_at = timezone.now()
        # Applied or failed, the file has served its purpose: its content goes now (issue 13.5).
        upload.content, upload.content_deleted_at = b"", upload.finished_at
        upload.save(
            update_fields=["status", "errors", "summary", "finished_at", "content", "content_deleted_at"]
        )
        return upload.status
