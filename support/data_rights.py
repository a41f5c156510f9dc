"""Personal data rights (UK GDPR): subject access, retention (anonymisation) and the record of who looked.

- **Subject access.** ``family_subject_access`` gathers everything held about one family — household,
  consent, pupils at every school, in-need history, duplicate decisions, the audit events about them,
  and whatever the feature apps hold (vouchers, uniform), which they register here from their
  ``ready()`` with ``register_subject_access_section``: the core never imports a feature app.
  Only a trust admin may run it, and each export is audited.
- **Retention** counts from the leaving date, as records-management guidance for schools does. A
  family with a pupil on any school's current roll is never anonymised. Once none is, its retention
  starts from the latest leaving date of its pupils (each roll's ``left_on``, from the school's
  import or a lead), or from support given after that (each section's own dates: vouchers issued,
  redeemed, cancelled; gifts and requests), whichever is later. A family with no leaving date at all
  (no pupils, or pupils on no roll) falls back to its last activity (the family's and its pupils'
  ``updated_at``). Past ``RETENTION_YEARS_AFTER_LEAVING`` years (default 6) the family is
  anonymised: names, contact details, dates of birth, UPNs and free text become "Anonymised" or
  blank; ids, money, states, dates of events and counts stay, so the fund's figures and every
  report's counts are unchanged.
- **The audit trail is append-only in the database** (migration 0002's triggers refuse UPDATE and
  DELETE). Its rows about an anonymised family are *redacted* through the one narrow exception
  migration 0008 installs: the row's who, when, action and subject stay; only
  ``subject_repr``, ``before``, ``after`` and ``note`` may change, once, and only to a row marked
  "Anonymised". Where that exception is not installed the rows are left whole and counted as kept.
"""

import datetime
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, models, transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from support.audit import _json_value, audit_event, audit_record, audit_record_many
from support.dates import local_midnight
from support.errors import SupportError
from support.models import (
    AuditEvent,
    Enrolment,
    Family,
    FamilyConsent,
    FamilyDuplicate,
    Pupil,
    PupilAttendance,
)
from support.pdf import render_pdf
from support.scopes import scope_for
from support.upload_retention import uploads_about_family, uploads_forget_family

ANONYMISED = "Anonymised"
# Dates of birth cannot be blank (the column is NOT NULL): an anonymised pupil's is this sentinel.
ANONYMISED_BIRTH_DATE = datetime.date(1900, 1, 1)
FORMAT = "trustsupport.subject-access.v1"
DEFAULT_RETENTION_YEARS = 6


# --- The registry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectAccessSection:
    """One part of a family's data, held by one app.

    ``collect(family)`` returns JSON-able data (lists of dicts with stable keys, dates ISO).
    ``last_activity(family_ids)`` → {family id: latest activity} for retention, in bounded queries.
    ``anonymise(family)`` strips the section's personal data for one family and returns rows changed.
    ``audit_subjects(family)`` → [(model, ids)] whose audit events are about this family.
    """

    name: str
    collect: Callable[[Family], Any]
    last_activity: Callable[[list[int]], dict[int, datetime.datetime]] | None = None
    anonymise: Callable[[Family], int] | None = None
    audit_subjects: Callable[[Family], list[tuple[type[models.Model], list]]] | None = None


_SECTIONS: dict[str, SubjectAccessSection] = {}


def register_subject_access_section(
    name: str,
    collect: Callable[[Family], Any],
    *,
    last_activity: Callable[[list[int]], dict[int, datetime.datetime]] | None = None,
    anonymise: Callable[[Family], int] | None = None,
    audit_subjects: Callable[[Family], list[tuple[type[models.Model], list]]] | None = None,
) -> None:
    """A feature app adds its part of a family's data (from its ``AppConfig.ready``); again replaces it."""
    if name in CORE_SECTIONS:
        raise ValueError(f"{name!r} is a core section of the subject access export")
    _SECTIONS[name] = SubjectAccessSection(name, collect, last_activity, anonymise, audit_subjects)


def registered_sections() -> list[SubjectAccessSection]:
    return [_SECTIONS[name] for name in sorted(_SECTIONS)]


# --- Helpers for sections ----------------------------------------------------------------------


def iso(value: Any) -> Any:
    """Dates and times as ISO 8601 (times in the trust's zone), decimals and ids as JSON-safe values."""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
    return _json_value(value)


def username(user: AbstractBaseUser | None) -> str | None:
    return user.get_username() if user is not None else None


def _subject_filter(subjects: Iterable[tuple[type[models.Model], Iterable]]) -> Q | None:
    condition: Q | None = None
    for model, ids in subjects:
        ids = [str(pk) for pk in ids]
        if not ids:
            continue
        part = Q(subject_type=ContentType.objects.get_for_model(model), subject_id__in=ids)
        condition = part if condition is None else condition | part
    return condition


def _family_subjects(family: Family) -> list[tuple[type[models.Model], list]]:
    pupil_ids = list(Pupil.objects.filter(family=family).values_list("pk", flat=True))
    subjects: list[tuple[type[models.Model], list]] = [(Family, [family.pk]), (Pupil, pupil_ids)]
    for section in registered_sections():
        if section.audit_subjects is not None:
            subjects.extend(section.audit_subjects(family))
    return subjects


def audit_events_about(family: Family) -> QuerySet[AuditEvent]:
    """Audit events whose subject is the family, one of its pupils or a registered section's object."""
    condition = _subject_filter(_family_subjects(family))
    if condition is None:
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(condition).select_related("subject_type").order_by("at", "pk")


# --- Subject access ----------------------------------------------------------------------------

SAFEGUARDING_ACTIONS = frozenset({"pupil.safeguarding_referred"})

CORE_SECTIONS = (
    "family",
    "consent",
    "pupils",
    "in_need_history",
    "duplicates",
    "pupil_uploads",
    "audit_events",
)


def _family_data(family: Family) -> dict[str, Any]:
    return {
        "id": family.pk,
        "lead_carer_name": family.lead_carer_name,
        "phone": family.phone,
        "email": family.email,
        "address": family.address,
        "postcode": family.postcode,
        "adults": family.adults,
        "children": family.children,
        "household_size": family.household_size,
        "dietary_needs": family.dietary_needs,
        "language": family.language,
        "language_noted": family.language_noted,
        "merged_into": family.merged_into_id,
        "merged_from": list(
            Family.objects.filter(merged_into=family).order_by("pk").values_list("pk", flat=True)
        ),
        "created_at": iso(family.created_at),
        "updated_at": iso(family.updated_at),
    }


def _consent_data(family: Family) -> list[dict[str, Any]]:
    """Each consent to share with a named partner: given, how, by whom recorded, withdrawn, migrated."""
    return [
        {
            "id": consent.pk,
            "partner": consent.partner.name,
            "given_on": iso(consent.given_on),
            "method": consent.get_method_display(),
            "recorded_by": username(consent.recorded_by),
            "recorded_at": iso(consent.recorded_at),
            "migrated_from_single_box": consent.migrated,
            "confirmed_by": username(consent.confirmed_by),
            "confirmed_at": iso(consent.confirmed_at),
            "withdrawn_on": iso(consent.withdrawn_on),
            "withdrawn_by": username(consent.withdrawn_by),
        }
        for consent in FamilyConsent.objects.filter(family=family)
        .select_related("partner", "recorded_by", "confirmed_by", "withdrawn_by")
        .order_by("given_on", "pk")
    ]


def _pupils_data(family: Family) -> list[dict[str, Any]]:
    return [
        {
            "id": pupil.pk,
            "upn": pupil.upn,
            "legal_forename": pupil.legal_forename,
            "preferred_forename": pupil.preferred_forename,
            "surname": pupil.surname,
            "date_of_birth": iso(pupil.date_of_birth),
            "year_group": pupil.get_year_group_display(),
            "school": pupil.school.name,
            "rolls": [
                {
                    "school": roll.school.name,
                    "registration": roll.registration,
                    "joined": iso(roll.joined),
                    "left_on": iso(roll.left_on) if roll.left_on else None,
                }
                for roll in pupil.enrolments.all()
            ],
            "free_school_meals": pupil.fsm,
            "free_school_meals_from": iso(pupil.fsm_start) if pupil.fsm_start else None,
            "free_school_meals_to": iso(pupil.fsm_end) if pupil.fsm_end else None,
            "universal_infant_free_school_meals": pupil.uifsm,
            "pupil_premium": pupil.pupil_premium,
            "service_child": pupil.service_child,
            "looked_after": pupil.looked_after,
            "in_need": pupil.in_need,
            # Attendance per term as the school's export gave it (issue 18).
            "attendance": [
                {
                    "school": row.school.name,
                    "academic_year": row.academic_year,
                    "term": row.get_term_display(),
                    "percent": str(row.percent),
                }
                for row in pupil.attendance.all()
            ],
            "school_family_reference": pupil.sis_family_ref,
            "created_at": iso(pupil.created_at),
            "updated_at": iso(pupil.updated_at),
        }
        for pupil in Pupil.objects.filter(family=family)
        .select_related("school")
        .prefetch_related("enrolments__school", "attendance__school")
        .order_by("pk")
    ]


def _in_need_history(events: list[AuditEvent], pupil_type_id: int) -> list[dict[str, Any]]:
    return [
        {
            "at": iso(event.at),
            "pupil": int(event.subject_id),
            "in_need": event.action == "pupil.in_need_set",
            "reason": event.note,
            "by": event.actor_label,
        }
        for event in events
        if event.subject_type_id == pupil_type_id
        and event.action in ("pupil.in_need_set", "pupil.in_need_cleared")
    ]


def _duplicates_data(family: Family) -> list[dict[str, Any]]:
    # The other family is another person's data: only its id is shown.
    pairs = (
        FamilyDuplicate.objects.filter(Q(family_a=family) | Q(family_b=family))
        .select_related("decided_by")
        .order_by("created_at", "pk")
    )
    return [
        {
            "id": pair.pk,
            "other_family": pair.family_b_id if pair.family_a_id == family.pk else pair.family_a_id,
            "reason": pair.reason,
            "status": pair.get_status_display(),
            "decided_by": username(pair.decided_by),
            "decided_at": iso(pair.decided_at),
            "created_at": iso(pair.created_at),
        }
        for pair in pairs
    ]


def _audit_data(events: list[AuditEvent]) -> list[dict[str, Any]]:
    return [
        {
            "at": iso(event.at),
            "by": event.actor_label,
            "action": event.action,
            "subject_type": event.subject_type.model if event.subject_type else None,
            "subject_id": event.subject_id,
            "subject": event.subject_repr,
            "before": event.before,
            "after": event.after,
            "note": event.note,
        }
        for event in events
    ]


def subject_access_data(*, family: Family, actor: AbstractBaseUser | None = None) -> dict[str, Any]:
    """Everything held about ``family``, JSON-able, keys stable. No audit, no permission check: see below."""
    family = Family.objects.get(pk=family.pk)
    # That a concern went to the safeguarding lead is left out: telling a parent could put a child at risk,
    # so the designated safeguarding lead and the data protection officer decide it case by case.
    events = [e for e in audit_events_about(family) if e.action not in SAFEGUARDING_ACTIONS]
    data: dict[str, Any] = {
        "format": FORMAT,
        "generated_at": iso(timezone.now()),
        "generated_by": username(actor),
        "trust": settings.TRUST_NAME,
        "family": _family_data(family),
        "consent": _consent_data(family),
        "pupils": _pupils_data(family),
        "in_need_history": _in_need_history(events, ContentType.objects.get_for_model(Pupil).pk),
        "duplicates": _duplicates_data(family),
        "pupil_uploads": uploads_about_family(family),
    }
    for section in registered_sections():
        data[section.name] = section.collect(family)
    data["audit_events"] = _audit_data(events)
    return data


def _require_admin(actor: AbstractBaseUser) -> None:
    if not scope_for(actor).is_admin:
        raise SupportError("Only a trust admin can export a family's data.", code="forbidden")


def _record_export(*, family: Family, actor: AbstractBaseUser, data: dict[str, Any], format: str) -> None:
    counts = {name: len(value) for name, value in data.items() if isinstance(value, list)}
    audit_record(
        actor=actor,
        action="family.subject_access_exported",
        subject=family,
        after={"format": format, "counts": counts},
    )


@transaction.atomic
def family_subject_access(*, family: Family, actor: AbstractBaseUser) -> dict[str, Any]:
    """A trust admin exports everything held about ``family`` (subject access), JSON-able; audited."""
    _require_admin(actor)
    data = subject_access_data(family=family, actor=actor)
    _record_export(family=family, actor=actor, data=data, format="json")
    return data


def subject_access_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, indent=2, ensure_ascii=False).encode()


def _pdf_rows(value: Any) -> Any:
    """Sections as (label, text) rows for the PDF: lists of dicts become tables, dicts become lists."""
    if isinstance(value, dict):
        return [(key.replace("_", " ").capitalize(), _pdf_text(item)) for key, item in value.items()]
    return value


def _pdf_text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else "—"
    return str(value)


PDF_TABLE_COLUMNS = 7


def render_subject_access_pdf(data: dict[str, Any]) -> bytes:
    """The export as an A4 PDF: one heading per section, a table of its records."""
    sections = []
    for name, value in data.items():
        if name in ("format", "generated_at", "generated_by", "trust"):
            continue
        if isinstance(value, list):
            columns = list(value[0].keys()) if value else []
            section: dict[str, Any] = {"title": name.replace("_", " ").capitalize(), "empty": not value}
            if len(columns) <= PDF_TABLE_COLUMNS:
                section["columns"] = [c.replace("_", " ") for c in columns]
                section["rows"] = [[_pdf_text(item.get(column)) for column in columns] for item in value]
            else:
                # Too wide for a table: each record as its own list of fields.
                section["records"] = [_pdf_rows(item) for item in value]
            sections.append(section)
        else:
            sections.append({"title": name.replace("_", " ").capitalize(), "pairs": _pdf_rows(value)})
    return render_pdf(
        "support/pdf/subject_access.html",
        {"data": data, "family": data["family"], "sections": sections},
        stylesheet="support/pdf/subject_access.css",
        cache_key=f"subject-access:{data['family']['id']}",
    )


@transaction.atomic
def family_subject_access_pdf(*, family: Family, actor: AbstractBaseUser) -> bytes:
    """The same export as ``family_subject_access``, as a PDF; audited."""
    _require_admin(actor)
    data = subject_access_data(family=family, actor=actor)
    pdf = render_subject_access_pdf(data)
    _record_export(family=family, actor=actor, data=data, format="pdf")
    return pdf


# --- Who looked ----------------------------------------------------------------------------------


def family_view_record(*, family: Family, actor: AbstractBaseUser) -> None:
    """Staff opened a family's page: who, which family, when."""
    audit_record(actor=actor, action="family.viewed", subject=family)


def family_export_record(*, actor: AbstractBaseUser, query: str, family_ids: list[int]) -> None:
    """A search export: a summary event, and one per family so "who exported family X" is one lookup."""
    events = [
        audit_event(actor=actor, action="families.exported", after={"query": query, "count": len(family_ids)})
    ]
    family_type = ContentType.objects.get_for_model(Family)
    label = actor.get_username()
    for pk in family_ids:
        events.append(
            AuditEvent(
                actor=actor,
                actor_label=label,
                action="family.exported",
                subject_type=family_type,
                subject_id=str(pk),
                # Ids only: the export's rows are the family's data, the audit row need not repeat it.
                subject_repr=f"Family {pk}",
                after={"export": "families.csv"},
            )
        )
    audit_record_many(events)


# --- Retention -----------------------------------------------------------------------------------


def retention_years() -> int:
    return int(getattr(settings, "RETENTION_YEARS_AFTER_LEAVING", DEFAULT_RETENTION_YEARS))


def retention_cutoff(*, years: int | None = None, now: datetime.datetime | None = None) -> datetime.datetime:
    """The moment before which a family's last activity makes it expired."""
    years = retention_years() if years is None else years
    now = now or timezone.now()
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def _is_anonymised() -> Q:
    return Q(lead_carer_name=ANONYMISED, carer_name_key="")


def _chunks(items: list[int], size: int = 500) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _on_a_current_roll() -> Exists:
    return Exists(Enrolment.objects.current().filter(pupil__family=OuterRef("pk")))


def _day_of(moment: datetime.datetime) -> datetime.date:
    return timezone.localdate(moment) if timezone.is_aware(moment) else moment.date()


def expired_families(*, cutoff: datetime.datetime) -> list[tuple[int, datetime.datetime]]:
    """(family id, when retention started) for families not yet anonymised, with no pupil on a current
    roll, whose retention started before ``cutoff`` (see the module note: the latest leaving date, or
    support given later; last activity only for a family with no leaving date at all).

    Bounded queries: one for the core's dates, then one per registered section per 500 candidates.
    """
    candidates = (
        Family.objects.exclude(_is_anonymised())
        .exclude(_on_a_current_roll())
        .annotate(last_left=Max("pupils__enrolments__left_on"), pupils_updated=Max("pupils__updated_at"))
        .filter(
            Q(last_left__isnull=False, last_left__lt=_day_of(cutoff))
            | Q(
                Q(pupils_updated__isnull=True) | Q(pupils_updated__lt=cutoff),
                last_left__isnull=True,
                updated_at__lt=cutoff,
            )
        )
        .order_by("pk")
        .values_list("pk", "updated_at", "pupils_updated", "last_left")
    )
    latest = {
        pk: local_midnight(left) if left is not None else max(d for d in (updated, pupils) if d is not None)
        for pk, updated, pupils, left in candidates
    }
    sections = [s for s in registered_sections() if s.last_activity is not None]
    for chunk in _chunks(list(latest)):
        for section in sections:
            for pk, at in section.last_activity(chunk).items():  # type: ignore[misc]
                if at is not None and pk in latest and at > latest[pk]:
                    latest[pk] = at
    return [(pk, at) for pk, at in latest.items() if at < cutoff]


PUPIL_ANONYMOUS = {
    "legal_forename": ANONYMISED,
    "preferred_forename": "",
    "surname": ANONYMISED,
    "date_of_birth": ANONYMISED_BIRTH_DATE,
    "sis_family_ref": "",
}

# Audit before/after values kept as they are under these keys (states, money, counts, ids);
# every other string is personal or free text and is redacted.
AUDIT_KEEP_KEYS = frozenset(
    {
        "state",
        "status",
        "kind",
        "format",
        "channel",
        "category",
        "service",
        "fulfilment",
        "urgency",
        "referral_reason",
        "expires_on",
        "academic_year",
        "year_group",
        "given_on",
        "withdrawn_on",
        "method",
        "partner",
        "export",
    }
)


def redact_value(value: Any, key: str | None = None) -> Any:
    """Strings become "Anonymised" (unless their key is in AUDIT_KEEP_KEYS); numbers, booleans, ids stay."""
    if isinstance(value, dict):
        return {k: redact_value(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(v, key) for v in value]
    if isinstance(value, str) and value and key not in AUDIT_KEEP_KEYS:
        return ANONYMISED
    return value


def _redact_audit_events(events: list[AuditEvent]) -> tuple[int, int]:
    """Redact each event through the database's narrow exception. Returns (redacted, kept whole)."""
    pending = [event for event in events if event.subject_repr != ANONYMISED]
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    # The table name and the cast are constants of this module; every value is a parameter.
    sql = (
        f"UPDATE {AuditEvent._meta.db_table} SET subject_repr = %s, before = %s{cast}, after = %s{cast}, "  # noqa: S608
        "note = %s WHERE id = %s AND subject_repr <> %s"
    )
    redacted = 0
    for index, event in enumerate(pending):
        params = [
            ANONYMISED,
            json.dumps(redact_value(event.before)),
            json.dumps(redact_value(event.after)),
            ANONYMISED if event.note else "",
            event.pk,
            ANONYMISED,
        ]
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, params)
        except DatabaseError:
            # The append-only trigger without the exception: every other row would be refused too.
            return redacted, len(pending) - index
        redacted += 1
    return redacted, 0


def redact_audit_events(events: list[AuditEvent]) -> tuple[int, int]:
    """The same redaction for an app whose own retention anonymises records outside a family (a donor's
    Gift Aid declaration): its audit events must not keep what the record no longer does."""
    return _redact_audit_events(events)


@dataclass
class AnonymiseResult:
    families: int = 0
    pupils: int = 0
    duplicates: int = 0
    uploads: int = 0
    audit_events_redacted: int = 0
    audit_events_kept: int = 0
    sections: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, Any]:
        return {
            "families": self.families,
            "pupils": self.pupils,
            "duplicates": self.duplicates,
            "pupil_uploads": self.uploads,
            **{f"{name}_rows": n for name, n in sorted(self.sections.items())},
            "audit_events_redacted": self.audit_events_redacted,
            "audit_events_kept": self.audit_events_kept,
        }


@transaction.atomic
def family_anonymise(*, family_id: int, cutoff: datetime.datetime, result: AnonymiseResult) -> bool:
    """Strip one family's personal data, if it is still expired once locked. Returns whether it did."""
    family = Family.objects.select_for_update().filter(pk=family_id).exclude(_is_anonymised()).first()
    if family is None:
        return False
    pupils = list(Pupil.objects.select_for_update().filter(family=family).order_by("pk"))
    # Checked again once locked: a family with a pupil on a current roll is never anonymised, and
    # retention counts from the latest leaving date (last activity only where no pupil has one).
    rolls = Enrolment.objects.filter(pupil__family=family)
    if rolls.current().exists():
        return False
    last_left = rolls.aggregate(last=Max("left_on"))["last"]
    if last_left is not None:
        if last_left >= _day_of(cutoff):
            return False
    elif family.updated_at >= cutoff or any(pupil.updated_at >= cutoff for pupil in pupils):
        return False
    # Collect the audit events before the objects' descriptions change.
    events = list(audit_events_about(family))
    # Held upload files are found by the pupils' UPNs, so before those change.
    result.uploads += uploads_forget_family(family)
    for pupil in pupils:
        Pupil.objects.filter(pk=pupil.pk).update(upn=f"anon{pupil.pk}", **PUPIL_ANONYMOUS)
    # Attendance is kept only while the family's records are: the impact report counts the living years.
    PupilAttendance.objects.filter(pupil__in=pupils).delete()
    Family.objects.filter(pk=family.pk).update(
        lead_carer_name=ANONYMISED,
        carer_name_key="",
        phone="",
        email="",
        address="",
        postcode="",
        dietary_needs="",
        # A home language says something of where a family comes from: it goes with the rest.
        language="",
        language_noted="",
    )
    result.duplicates += FamilyDuplicate.objects.filter(Q(family_a=family) | Q(family_b=family)).update(
        reason=ANONYMISED, request_note=""
    )
    for section in registered_sections():
        if section.anonymise is not None:
            result.sections[section.name] = result.sections.get(section.name, 0) + section.anonymise(family)
    redacted, kept = _redact_audit_events(events)
    result.audit_events_redacted += redacted
    result.audit_events_kept += kept
    result.families += 1
    result.pupils += len(pupils)
    family.refresh_from_db()
    audit_record(
        actor=None,
        action="family.anonymised",
        subject=family,
        after={"pupils": len(pupils), "audit_events_redacted": redacted, "audit_events_kept": kept},
        note="retention",
    )
    return True


def anonymise_expired(
    *, dry_run: bool = False, years: int | None = None, now: datetime.datetime | None = None
) -> tuple[list[tuple[int, datetime.datetime]], AnonymiseResult]:
    """Anonymise every family past retention (or, with ``dry_run``, only list them). Each run is audited.

    Idempotent: an anonymised family is recognised and skipped, so a second run changes nothing.
    """
    years = retention_years() if years is None else years
    cutoff = retention_cutoff(years=years, now=now)
    expired = expired_families(cutoff=cutoff)
    result = AnonymiseResult()
    if not dry_run:
        for family_id, _ in expired:
            family_anonymise(family_id=family_id, cutoff=cutoff, result=result)
        if result.families:
            from support.search import search_names_tidy

            # The anonymised families' names are gone from the names table; the search's list of
            # distinct names drops those nobody else bears.
            search_names_tidy()
    audit_record(
        actor=None,
        action="retention.dry_run" if dry_run else "retention.anonymised",
        after={
            "years": years,
            "cutoff": cutoff,
            "expired": len(expired),
            "family_ids": [pk for pk, _ in expired],
            **result.counts(),
        },
    )
    return expired, result
