"""Importing a school's pupils from a school information system export.

``pupil_import_plan`` reads the database and says what a file would change (the preview);
``pupil_import_apply`` makes exactly those changes in one transaction. A file with any bad row
changes nothing: the parser's errors come back, every one with its line, column and reason.

Other schools' pupils. Each school's information system is the truth about its own roll only. A row
speaks about an existing pupil when that pupil is on this school's current roll, or when its UPN,
legal surname and date of birth all match them; such a pupil then joins this school's roll too
(dual registration) and keeps their record and their other rolls. Any other row is, in the preview,
exactly a new pupil, so a guessed UPN learns nothing there. A row whose UPN another school's pupil
holds with a different surname or date of birth cannot be created (UPNs are unique), so applying
holds it back: the importing lead learns then, and only then, that the UPN is in use (nothing else
about the pupil); the pupil's school's leads are e-mailed and the clash is audited. Previews that
name many pupils of other schools pause the user's uploads for the day (a date of birth cannot be
searched for one preview at a time).
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils import timezone

from support.audit import audit_event, audit_record, audit_record_many
from support.contacts import contacts_import
from support.dates import academic_year_start_for
from support.errors import SupportError
from support.jobs import enqueue_on_commit
from support.languages import language_from_export
from support.models import (
    AuditEvent,
    Enrolment,
    Family,
    FamilyDuplicate,
    Phase,
    Pupil,
    PupilAttendance,
    PupilImport,
    Registration,
    Role,
    School,
)
from support.models.rolls import main_rolls_create
from support.people import person_name
from support.pupil_csv import (
    ParseResult,
    PupilRow,
    RowError,
    column_label,
    named_in_file,
    normalise_name_key,
    parse_pupil_csv,
    year_label,
)
from support.selectors import on_roll_at

PUPIL_FIELDS = (
    "legal_forename",
    "preferred_forename",
    "surname",
    "date_of_birth",
    "year_group",
    "fsm",
    "fsm_start",
    "fsm_end",
    "uifsm",
    "pupil_premium",
    "service_child",
    "looked_after",
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
    """What a file would change. Everything a preview shows comes from the file itself or from
    pupils already on this school's roll: a row whose UPN belongs to a pupil elsewhere in the trust
    looks exactly like a new pupil unless its UPN, legal surname and date of birth all match."""

    school: School
    academic_year_start: int
    new_rows: list[PupilRow] = field(default_factory=list)
    # New pupils who join a family already known at this school through the export's family link.
    joins: dict[str, int] = field(default_factory=dict)  # upn -> family id
    new_groups: list[FamilyGroup] = field(default_factory=list)
    updates: list[tuple[Pupil, PupilRow, dict[str, tuple[Any, Any]]]] = field(default_factory=list)
    unchanged: int = 0
    # Pupils on another trust school's roll whose UPN, surname and date of birth all match: they
    # join this school's roll too (dual registration); the other school's roll and record stay.
    attached: list[tuple[Pupil, PupilRow]] = field(default_factory=list)
    not_in_file: int = 0
    warnings: list[tuple[int, str]] = field(default_factory=list)
    # Never shown in a preview: rows planned as new pupils whose UPN another trust school's pupil
    # holds with a different surname or date of birth. Applying holds them back (see the module note).
    clashes: dict[str, Pupil] = field(default_factory=dict)
    has_main_roll: set[int] = field(default_factory=set)  # pupil ids with a current main roll
    # Pupils on this school's roll whose row has a leaving date: they leave this roll on that date
    # and stay on record as former pupils (retention counts from the date).
    leavers: list[tuple[Pupil, PupilRow]] = field(default_factory=list)
    # Rows with a leaving date for pupils not on this roll: nothing to record, nothing created.
    leavers_not_on_roll: int = 0
    # Pupils on this roll whose registration type the file changes (main <-> subsidiary).
    registration_changes: list[tuple[Pupil, str]] = field(default_factory=list)
    # Families whose contacts this file speaks for (pupils whose main roll is here): family id -> the
    # first of its rows listing contacts. A new family takes its contacts from its group's rows.
    contact_rows: dict[int, PupilRow] = field(default_factory=dict)

    @property
    def summary(self) -> dict[str, int]:
        return {
            "rows": len(self.new_rows)
            + len(self.updates)
            + self.unchanged
            + len(self.attached)
            + len(self.leavers)
            + self.leavers_not_on_roll,
            "created": len(self.new_rows),
            "updated": len(self.updates),
            "unchanged": self.unchanged,
            "joined_roll": len(self.attached),
            "new_families": len(self.new_groups),
            "joined_families": len(self.joins),
            "not_in_file": self.not_in_file,
            "warnings": len(self.warnings),
            # Named only when the file had any, so older summaries read the same.
            **{
                name: count
                for name, count in (
                    ("left_roll", len(self.leavers)),
                    ("leavers_not_on_roll", self.leavers_not_on_roll),
                    ("registration_changed", len(self.registration_changes)),
                )
                if count
            },
        }


def _row_values(row: PupilRow) -> dict[str, Any]:
    return {
        "legal_forename": row.legal_forename,
        "preferred_forename": row.preferred_forename,
        "surname": row.surname,
        "date_of_birth": row.date_of_birth,
        "year_group": row.year_group,
        "fsm": row.fsm,
        "fsm_start": row.fsm_start,
        "fsm_end": row.fsm_end,
        "uifsm": row.uifsm,
        "pupil_premium": row.pupil_premium,
        "service_child": row.service_child,
        "looked_after": row.looked_after,
        "sis_family_ref": row.family_ref,
    }


# Values the parser accepts but a column could not hold (PostgreSQL would refuse the whole import).
_STORED_LENGTHS = (
    ("family_ref", Pupil._meta.get_field("sis_family_ref").max_length),
    ("contact_email", Family._meta.get_field("email").max_length),
)


def pupil_import_parse(data: bytes, *, today: datetime.date | None = None) -> ParseResult:
    parsed = parse_pupil_csv(data, academic_year_start=academic_year_start_for(today or timezone.localdate()))
    too_long: list[RowError] = []
    for row in parsed.rows:
        for column, limit in _STORED_LENGTHS:
            value = getattr(row, column)
            if len(value) > limit:
                shown = value if len(value) <= 60 else value[:59] + "\u2026"
                header = parsed.columns.get(column, "")
                reason = named_in_file(
                    f"{column_label(column)} is longer than {limit} characters", column, header
                )
                too_long.append(RowError(row.line, column, reason, shown, header))
    if too_long:
        bad_lines = {error.line for error in too_long}
        parsed.rows = [row for row in parsed.rows if row.line not in bad_lines]
        parsed.errors = sorted([*parsed.errors, *too_long], key=lambda error: error.line)
    return parsed


def same_pupil(pupil: Pupil, row: PupilRow) -> bool:
    """A row names an existing pupil only when UPN, legal surname and date of birth all match."""
    return (
        pupil.upn == row.upn
        and normalise_name_key(pupil.surname) == normalise_name_key(row.surname)
        and pupil.date_of_birth == row.date_of_birth
    )


# The year groups each phase teaches; alternative provision takes any age.
PHASE_YEARS: dict[str, range] = {Phase.PRIMARY: range(0, 7), Phase.SECONDARY: range(7, 14)}


def pupil_import_plan(
    *,
    school: School,
    rows: list[PupilRow],
    academic_year_start: int,
    headers: dict[str, str] | None = None,
) -> ImportPlan:
    """What importing ``rows`` for ``school`` would change. Reads only; a bounded number of queries.

    ``headers`` are the file's own names for our columns (``ParseResult.columns``), so that a warning
    names a column as the file does."""
    plan = ImportPlan(school=school, academic_year_start=academic_year_start)
    year_header = (headers or {}).get("year_group") or column_label("year_group")
    phase_years = PHASE_YEARS.get(school.phase)
    existing: dict[str, Pupil] = {}
    upns = [row.upn for row in rows]
    for chunk in _chunks(upns):
        for pupil in Pupil.objects.filter(upn__in=chunk):
            existing[pupil.upn] = pupil
    # This school's current roll among them: pupil id -> registration here.
    on_roll: dict[int, str] = {}
    has_main_roll: set[int] = set()
    ids = sorted(pupil.pk for pupil in existing.values())
    for chunk in _chunks(ids):
        for pupil_id, school_id, registration in (
            Enrolment.objects.current()
            .filter(pupil_id__in=chunk)
            .values_list("pupil_id", "school_id", "registration")
        ):
            if school_id == school.pk:
                on_roll[pupil_id] = registration
            if registration == Registration.MAIN:
                has_main_roll.add(pupil_id)

    # Which existing pupils this file may speak about: those on this school's roll, and those
    # elsewhere whose UPN, surname and date of birth all match. Any other UPN is treated as new.
    known: dict[str, Pupil] = {}
    for row in rows:
        pupil = existing.get(row.upn)
        if pupil is None or (row.leaving_date is not None and pupil.pk not in on_roll):
            continue
        if pupil.pk in on_roll or same_pupil(pupil, row):
            known[row.upn] = pupil
        else:
            plan.clashes[row.upn] = pupil
    plan.has_main_roll = has_main_roll

    # A Family ID names the family of a known pupil who has it in this file (on this roll, or
    # joining it); failing that, the family of a pupil whose main roll is here who has it stored.
    family_by_ref: dict[str, int] = {}
    for row in rows:
        known_pupil = known.get(row.upn)
        if known_pupil is not None and row.family_ref:
            family_by_ref.setdefault(row.family_ref, known_pupil.family_id)
    refs = sorted(
        {row.family_ref for row in rows if row.family_ref and row.upn not in known} - family_by_ref.keys()
    )
    for chunk in _chunks(refs):
        here = (
            Pupil.objects.filter(school=school, sis_family_ref__in=chunk)
            .filter(on_roll_at(school.pk))
            .order_by("pk")
        )
        for ref, family_id in here.values_list("sis_family_ref", "family_id"):
            family_by_ref.setdefault(ref, family_id)

    groups: dict[str, FamilyGroup] = {}
    for row in rows:
        plan.warnings.extend((row.line, warning) for warning in row.warnings)
        if phase_years is not None and row.year_group not in phase_years:
            plan.warnings.append(
                (
                    row.line,
                    f"{year_header}: {year_label(row.year_group)} is outside {school.name}'s years "
                    f"({school.get_phase_display().lower()}: {year_label(phase_years[0])} to "
                    f"{year_label(phase_years[-1])})",
                )
            )
        pupil = known.get(row.upn)
        if row.leaving_date is not None:
            if pupil is not None and pupil.pk in on_roll:
                plan.leavers.append((pupil, row))
            else:
                # A leaver the school never had on this roll here: keeping them would only hold data.
                plan.leavers_not_on_roll += 1
                plan.warnings.append(
                    (row.line, f"Left on {row.leaving_date:%d/%m/%Y} and not on the roll here: not imported")
                )
            continue
        if pupil is None:
            plan.new_rows.append(row)
            if row.family_ref and row.family_ref in family_by_ref:
                plan.joins[row.upn] = family_by_ref[row.family_ref]
            elif row.family_ref:
                groups.setdefault(row.family_ref, FamilyGroup(rows=[])).rows.append(row)
            else:
                plan.new_groups.append(FamilyGroup(rows=[row]))
            continue
        registration = on_roll.get(pupil.pk)
        if registration is None:
            plan.attached.append((pupil, row))
            continue
        wanted = _wanted_registration(row)
        if wanted and wanted != registration:
            if wanted == Registration.MAIN and pupil.pk in has_main_roll:
                plan.warnings.append(
                    (
                        row.line,
                        "Main registration here, but the pupil's main roll is at another school: "
                        "kept as subsidiary",
                    )
                )
            else:
                plan.registration_changes.append((pupil, wanted))
                registration = wanted
        if registration == Registration.MAIN and row.contacts:
            plan.contact_rows.setdefault(pupil.family_id, row)
        if registration != Registration.MAIN:
            # A subsidiary roll confirms the pupil is still here; the pupil's record is the main
            # school's to keep.
            plan.unchanged += 1
            continue
        diff = {
            name: (getattr(pupil, name), value)
            for name, value in _row_values(row).items()
            if getattr(pupil, name) != value
        }
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
    plan.not_in_file = Pupil.objects.filter(on_roll_at(school.pk)).count() - len(on_roll)
    return plan


def _wanted_registration(row: PupilRow) -> str:
    """The registration the file asks for on this roll ("" when it does not say)."""
    if row.registration == "subsidiary":
        return Registration.SUBSIDIARY
    if row.registration in ("main", "current"):
        return Registration.MAIN
    return ""


def _new_family(group: FamilyGroup) -> Family:
    lead = group.lead
    name = lead.contact_name or f"{lead.surname} household"
    phone = next((r.contact_phone for r in group.rows if r.contact_phone), "")
    email = next((r.contact_email for r in group.rows if r.contact_email), "")
    listed = next((r.contacts for r in group.rows if r.contacts), ())
    if listed:
        # The household is named for, and reached at, a contact who may be told: never a restricted one.
        allowed = sorted(
            (c for c in listed if c.parental_responsibility and c.restriction == "none"),
            key=lambda c: c.priority,
        )
        first = allowed[0] if allowed else None
        name = first.name if first else f"{lead.surname} household"
        phone, email = (first.phone, first.email) if first else ("", "")
    language, noted = language_from_export(next((r.home_language for r in group.rows if r.home_language), ""))
    return Family(
        language=language,
        language_noted=noted,
        lead_carer_name=name,
        carer_name_key=normalise_name_key(name),
        phone=phone,
        email=email,
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
    today = today or timezone.localdate()
    plan = pupil_import_plan(
        school=school, rows=parsed.rows, academic_year_start=academic_year_start_for(today)
    )
    now = timezone.now()
    events: list[AuditEvent] = []

    # A row planned as new whose UPN another school's pupil holds (surname or date of birth differ)
    # is held back: it cannot be created, must not touch that pupil, and is reported to the pupil's
    # school and the trust's admins.
    held_back = set(plan.clashes)
    groups = [
        FamilyGroup(rows=kept)
        for group in plan.new_groups
        if (kept := [row for row in group.rows if row.upn not in held_back])
    ]
    families = [_new_family(group) for group in groups]
    Family.objects.bulk_create(families, batch_size=500)
    family_for_upn: dict[str, int] = dict(plan.joins)
    for group, family in zip(groups, families, strict=True):
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
                    "language": family.language,
                    "source": "import",
                },
            )
        )

    # Contacts: a new family's from its rows; a known family's (main roll here) kept in step with the file.
    contact_rows = dict(plan.contact_rows)
    for group, family in zip(groups, families, strict=True):
        with_contacts = next((row for row in group.rows if row.contacts), None)
        if with_contacts is not None:
            contact_rows[family.pk] = with_contacts
    contacts_import(rows=contact_rows, actor=actor, events=events)

    new_pupils = [
        Pupil(upn=row.upn, school=school, family_id=family_for_upn[row.upn], **_row_values(row))
        for row in plan.new_rows
        if row.upn not in held_back
    ]
    Pupil.objects.bulk_create(new_pupils, batch_size=500)
    main_rolls_create(new_pupils, joined=today)
    subsidiary_upns = {
        row.upn for row in plan.new_rows if _wanted_registration(row) == Registration.SUBSIDIARY
    }
    if subsidiary_upns:
        # Registered here as subsidiary: the main school is outside the trust.
        Enrolment.objects.filter(
            pupil__in=[p for p in new_pupils if p.upn in subsidiary_upns], school=school
        ).update(registration=Registration.SUBSIDIARY)
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
    Pupil.objects.bulk_update(changed_pupils, [*PUPIL_FIELDS, "updated_at"], batch_size=500)

    attendance = _attendance_record(school=school, rows=parsed.rows, held_back=held_back, today=today)

    attached = _join_roll(plan=plan, today=today, actor=actor, events=events)
    _change_registrations(plan=plan, actor=actor, events=events)
    _leave_roll(plan=plan, actor=actor, events=events)

    duplicates = _find_duplicates(families)
    FamilyDuplicate.objects.bulk_create(duplicates, batch_size=500, ignore_conflicts=True)

    for upn, pupil in plan.clashes.items():
        events.append(
            audit_event(
                actor=actor,
                action="pupil.import_clash",
                subject=pupil,
                after={"school": school.pk, "upn": upn, "held_back": True},
                note=filename,
            )
        )
    summary = {
        **plan.summary,
        "created": len(new_pupils),
        "new_families": len(families),
        "duplicates_flagged": len(duplicates),
        "held_back": len(held_back),
        **({"attendance": attendance} if attendance else {}),
    }
    events.append(
        audit_event(actor=actor, action="pupils.imported", subject=school, after=summary, note=filename)
    )
    audit_record_many(events)
    _tell_other_schools(school=school, attached=attached, clashes=plan.clashes, actor=actor, today=today)
    return summary


def _attendance_record(
    *, school: School, rows: list[PupilRow], held_back: set[str], today: datetime.date
) -> int:
    """Each row's attendance per term (this academic year) for its pupil at ``school``: added, or
    replaced when a later export gives a term again. Returns how many term figures were written."""
    wanted = {row.upn: row.attendance for row in rows if row.attendance and row.upn not in held_back}
    if not wanted:
        return 0
    year = academic_year_start_for(today)
    now = timezone.now()
    records = []
    for chunk in _chunks(sorted(wanted)):
        for pupil_id, upn in Pupil.objects.filter(upn__in=chunk).values_list("pk", "upn"):
            records += [
                PupilAttendance(
                    pupil_id=pupil_id,
                    school=school,
                    academic_year=year,
                    term=term,
                    percent=percent,
                    updated_at=now,
                )
                for term, percent in wanted[upn]
            ]
    PupilAttendance.objects.bulk_create(
        records,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["pupil", "school", "academic_year", "term"],
        update_fields=["percent", "updated_at"],
    )
    return len(records)


def _join_roll(
    *, plan: ImportPlan, today: datetime.date, actor: AbstractBaseUser | None, events: list[AuditEvent]
) -> list[Pupil]:
    """Put matched pupils on this school's roll too: subsidiary, or main if they have no main roll."""
    school = plan.school
    if not plan.attached:
        return []
    pupils = [pupil for pupil, _ in plan.attached]
    # A roll this school had before (the pupil left and comes back) is reopened, not duplicated.
    previous = {
        roll.pupil_id: roll
        for roll in Enrolment.objects.filter(school=school, pupil_id__in=[pupil.pk for pupil in pupils])
    }
    reopened, created, now_main = [], [], []
    wanted = {pupil.pk: _wanted_registration(row) for pupil, row in plan.attached}
    for pupil in pupils:
        subsidiary = pupil.pk in plan.has_main_roll or wanted[pupil.pk] == Registration.SUBSIDIARY
        registration = Registration.SUBSIDIARY if subsidiary else Registration.MAIN
        roll = previous.get(pupil.pk)
        if roll is None:
            roll = Enrolment(pupil=pupil, school=school, joined=today)
            created.append(roll)
        else:
            roll.joined = today
            reopened.append(roll)
        roll.registration, roll.left_on = registration, None
        if registration == Registration.MAIN:
            pupil.school = school
            now_main.append(pupil)
        events.append(
            audit_event(
                actor=actor,
                action="pupil.roll_joined",
                subject=pupil,
                after={"school": school.pk, "registration": registration, "joined": today.isoformat()},
                note="import",
            )
        )
    Enrolment.objects.bulk_create(created, batch_size=500)
    Enrolment.objects.bulk_update(reopened, ["joined", "registration", "left_on"], batch_size=500)
    Pupil.objects.bulk_update(now_main, ["school"], batch_size=500)
    return pupils


def _change_registrations(
    *, plan: ImportPlan, actor: AbstractBaseUser | None, events: list[AuditEvent]
) -> None:
    """Main or subsidiary on this school's roll, as the file says (never a second main roll)."""
    school = plan.school
    for pupil, registration in plan.registration_changes:
        Enrolment.objects.current().filter(pupil=pupil, school=school).update(registration=registration)
        if registration == Registration.MAIN and pupil.school_id != school.pk:
            Pupil.objects.filter(pk=pupil.pk).update(school=school)
        events.append(
            audit_event(
                actor=actor,
                action="pupil.registration_changed",
                subject=pupil,
                after={"school": school.pk, "registration": registration},
                note="import",
            )
        )


def _leave_roll(*, plan: ImportPlan, actor: AbstractBaseUser | None, events: list[AuditEvent]) -> None:
    """Pupils the file says have left: this roll gets their leaving date; the record stays (a former
    pupil) and the other schools' rolls are theirs to keep."""
    school = plan.school
    leaving = {pupil.pk: row.leaving_date for pupil, row in plan.leavers}
    rolls = list(
        Enrolment.objects.select_for_update()
        .current()
        .filter(school=school, pupil_id__in=sorted(leaving))
        .select_related("pupil")
        .order_by("pk")
    )
    for roll in rolls:
        left_on: datetime.date = leaving[roll.pupil_id]  # type: ignore[assignment]
        # The roll's joining date is the day it was first imported; a leaving date before it is the truth.
        roll.joined, roll.left_on = min(roll.joined, left_on), left_on
        events.append(
            audit_event(
                actor=actor,
                action="pupil.roll_left",
                subject=roll.pupil,
                before={"school": school.pk, "registration": roll.registration},
                after={"school": school.pk, "left_on": left_on.isoformat()},
                note="import",
            )
        )
    Enrolment.objects.bulk_update(rolls, ["joined", "left_on"], batch_size=500)


def _lead_emails(school_ids: Iterable[int]) -> dict[int, list[str]]:
    """The e-mail addresses of each school's active pastoral leads."""
    found: dict[int, list[str]] = defaultdict(list)
    rows = (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__is_active=True,
            memberships__role=Role.LEAD,
            memberships__schools__in=list(school_ids),
        )
        .exclude(email="")
        .values_list("memberships__schools", "email")
        .distinct()
    )
    for school_id, email in rows:
        found[school_id].append(email)
    return found


def _tell_other_schools(
    *,
    school: School,
    attached: list[Pupil],
    clashes: dict[str, Pupil],
    actor: AbstractBaseUser | None,
    today: datetime.date,
) -> None:
    """E-mail (after commit) the leads of each other school whose pupil joined this school's roll,
    or whose pupil's UPN came in this file with a different surname or date of birth."""
    pupil_ids = [pupil.pk for pupil in attached] + [pupil.pk for pupil in clashes.values()]
    if not pupil_ids:
        return
    rolls: dict[int, list[int]] = defaultdict(list)
    for pupil_id, school_id in (
        Enrolment.objects.current()
        .filter(pupil_id__in=pupil_ids)
        .exclude(school=school)
        .values_list("pupil_id", "school_id")
    ):
        rolls[school_id].append(pupil_id)
    if not rolls:
        return
    emails = _lead_emails(rolls)
    by_id = {pupil.pk: pupil for pupil in [*attached, *clashes.values()]}
    who = person_name(actor) or "the school's system"
    link = settings.SITE_URL + reverse("family_list")
    for school_id, ids in rolls.items():
        if not emails.get(school_id):
            continue
        joined = [by_id[pk] for pk in ids if by_id[pk] in attached]
        clashed = [by_id[pk] for pk in ids if by_id[pk] not in attached]
        lines = [f"An import of {school.name}'s pupils on {today:%d/%m/%Y} (by {who}):", ""]
        if joined:
            lines.append(f"These pupils of yours are now also on {school.name}'s roll (dual registration):")
            lines += [f"  - {p.known_as} {p.surname} (UPN {p.upn})" for p in joined]
            lines += ["", "They stay on your roll: only your own import or your leads can change that."]
        if clashed:
            lines.append(
                "These UPNs of your pupils came with a different surname or date of birth, so nothing "
                "was changed and they were not added:"
            )
            lines += [f"  - {p.known_as} {p.surname} (UPN {p.upn})" for p in clashed]
            lines += ["", "If you did not expect this, tell the trust's admins."]
        lines += ["", f"Your families: {link}"]
        subject = f"{school.name}'s import named {len(ids)} of your pupils"
        enqueue_on_commit("support.send_email", emails[school_id], subject, "\n".join(lines))


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
        plan = None
        if parsed.ok:
            plan = pupil_import_plan(
                school=school, rows=parsed.rows, academic_year_start=plan_year(), headers=parsed.columns
            )
        if _cross_school_paused(actor=actor, rows=len(plan.attached) + len(plan.clashes) if plan else 0):
            status, summary = PupilImport.Status.REJECTED, {}
            errors = [{"line": 0, "column": "", "header": "", "reason": PAUSED, "value": ""}]
        elif plan is not None:
            status, errors, summary = PupilImport.Status.PREVIEWED, [], plan.summary
        else:
            errors = parsed.errors or [RowError(line=1, column="", reason="The file has no pupil rows")]
            status, summary = PupilImport.Status.REJECTED, {}
            errors = [_error_dict(e) for e in errors]
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


# How many rows naming pupils already on other trust schools' rolls (matching or not) one user's
# previews may hold in a day: enough for an alternative provision's whole roll, far too few to
# search for a pupil's date of birth one preview at a time. Past it, every upload is refused.
CROSS_SCHOOL_ROWS_PER_DAY = 300
_PAUSE_SECONDS = 24 * 60 * 60
PAUSED = (
    "Uploads from your account are paused until tomorrow: today's files named more pupils already on "
    "other trust schools' rolls than an import needs. A trust admin can help."
)


def _cross_school_paused(*, actor: AbstractBaseUser, rows: int) -> bool:
    """Count rows whose UPN another school's pupil holds; True once the user's day's limit is passed."""
    key = f"pupil-import:cross-school:{actor.pk}"
    if cache.get(f"{key}:paused"):
        return True
    if not rows:
        return False
    cache.add(key, 0, timeout=_PAUSE_SECONDS)
    try:
        total = cache.incr(key, rows)
    except ValueError:  # expired between add and incr
        cache.set(key, rows, timeout=_PAUSE_SECONDS)
        total = rows
    if total <= CROSS_SCHOOL_ROWS_PER_DAY:
        return False
    if cache.add(f"{key}:paused", True, timeout=_PAUSE_SECONDS):
        audit_record(actor=actor, action="pupils.import_paused", after={"cross_school_rows": total})
    return True


def _error_dict(error: RowError) -> dict[str, Any]:
    return {
        "line": error.line,
        "column": error.column,
        "header": error.column_name if error.column else "",
        "reason": error.reason,
        "value": error.value,
    }


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
            upload.errors = [_error_dict(e) for e in exc.errors]
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
