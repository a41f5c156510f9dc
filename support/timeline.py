"""A family's timeline: everything the family was given and what happened to it, newest first.

Each app contributes its kinds of entry through ``support.registry.register_timeline_source``; the core
registers its own here (in-need notes, consent changes, merges) and never imports a feature app. Every
source returns at most ``limit`` entries, newest first and scoped to the user, in a fixed number of
queries; the timeline asks each for one more than it shows, so it knows whether there is more.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Model, QuerySet, Subquery
from django.db.models.functions import Cast

from support import registry, selectors
from support.models import AuditEvent, Family, FamilyConsent, Pupil
from support.people import person_name
from support.permissions import has_perm

User = AbstractBaseUser | AnonymousUser

PAGE = 20  # entries shown at first, and added by each "show more"
MOST = 200  # the most one page shows: beyond that, the audit log


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime.datetime
    kind: str
    title: str  # what happened: "Food voucher issued"
    person: str = ""  # who did it, by name (never a username); empty when the system did
    detail: str = ""  # one line more: the reason, the code, the school
    url: str = ""  # where to read more, when the user may open it
    key: str = ""  # a stable tie-break between entries at the same moment ("voucher:12:issued")


@dataclass(frozen=True)
class Timeline:
    entries: list[TimelineEntry]
    has_more: bool
    kinds: list[tuple[str, str]]  # (kind, label) the user may see, for the filter
    chosen: str  # the kind filtered to, or "" for all

    @property
    def rows(self) -> list[tuple[TimelineEntry, str]]:
        """Each entry with its kind's label, for the page."""
        labels = dict(self.kinds)
        return [(entry, labels.get(entry.kind, "")) for entry in self.entries]

    @property
    def can_show_more(self) -> bool:
        return self.has_more and len(self.entries) < MOST

    @property
    def more(self) -> int:
        """How many entries "show more" asks for."""
        return min(len(self.entries) + PAGE, MOST)


def day(value: datetime.date) -> str:
    """1 March 2026"""
    return f"{value.day} {value:%B %Y}"


def timeline_kinds(user: User) -> list[tuple[str, str]]:
    return [
        (source.kind, source.label)
        for source in registry.timeline_sources()
        if source.permission is None or has_perm(user, source.permission)
    ]


def family_timeline(*, user: User, family: Family, kind: str = "", limit: int = PAGE) -> Timeline:
    """The newest ``limit`` entries of ``family``'s timeline that ``user`` may see, of one ``kind`` or all."""
    limit = max(1, min(limit, MOST))
    kinds = timeline_kinds(user)
    allowed = {name for name, _ in kinds}
    chosen = kind if kind in allowed else ""
    entries: list[TimelineEntry] = []
    for source in registry.timeline_sources():
        if source.kind in allowed and (not chosen or source.kind == chosen):
            entries.extend(source.entries(user=user, family=family, limit=limit + 1))
    entries.sort(key=lambda entry: (entry.at, entry.key), reverse=True)
    return Timeline(entries=entries[:limit], has_more=len(entries) > limit, kinds=kinds, chosen=chosen)


def audit_events_about(
    model: type[Model], subjects: QuerySet, *, actions: Iterable[str], limit: int
) -> QuerySet[AuditEvent]:
    """The newest audit events with one of ``actions`` whose subject is one of ``subjects`` (a scoped
    queryset of ``model``), each with its actor: one query, however many subjects there are."""
    ids = subjects.annotate(_subject_id=Cast("pk", CharField())).values("_subject_id")
    return (
        AuditEvent.objects.filter(
            subject_type=ContentType.objects.get_for_model(model),
            subject_id__in=Subquery(ids),
            action__in=list(actions),
        )
        .select_related("actor")
        .order_by("-at", "-pk")[:limit]
    )


# --- The core's own kinds -------------------------------------------------------------------------


def _in_need_entries(*, user: User, family: Family, limit: int) -> list[TimelineEntry]:
    # Only pupils on the roll of the user's schools: a sibling at another school stays out.
    pupils = selectors.pupils_visible_to(user).filter(family=family)
    events = list(
        audit_events_about(Pupil, pupils, actions=("pupil.in_need_set", "pupil.in_need_cleared"), limit=limit)
    )
    named = pupils.filter(pk__in=[int(e.subject_id) for e in events]) if events else Pupil.objects.none()
    names = {str(pupil.pk): f"{pupil.known_as} {pupil.surname}" for pupil in named}
    return [
        TimelineEntry(
            at=event.at,
            kind="in_need",
            title=(
                f"{names.get(event.subject_id, 'A pupil')} marked in need"
                if event.action == "pupil.in_need_set"
                else f"In-need flag removed from {names.get(event.subject_id, 'a pupil')}"
            ),
            person=person_name(event.actor),
            detail=event.note,
            key=f"audit:{event.pk}",
        )
        for event in events
    ]


def _consent_entries(*, user: User, family: Family, limit: int) -> list[TimelineEntry]:
    consents = FamilyConsent.objects.filter(family=family).select_related(
        "partner", "recorded_by", "confirmed_by", "withdrawn_by"
    )
    entries = []
    for consent in consents.order_by("-recorded_at", "-pk")[:limit]:
        entries.append(
            TimelineEntry(
                at=consent.recorded_at,
                kind="consent",
                title=f"Consent to share with {consent.partner.name} "
                + ("migrated from the single consent box" if consent.migrated else "given"),
                person=person_name(consent.recorded_by),
                detail=""
                if consent.migrated
                else f"{consent.get_method_display()}, on {day(consent.given_on)}",
                key=f"consent:{consent.pk}:given",
            )
        )
    for consent in consents.filter(confirmed_at__isnull=False).order_by("-confirmed_at", "-pk")[:limit]:
        entries.append(
            TimelineEntry(
                at=consent.confirmed_at,
                kind="consent",
                title=f"Consent to share with {consent.partner.name} confirmed with the family",
                person=person_name(consent.confirmed_by),
                key=f"consent:{consent.pk}:confirmed",
            )
        )
    for consent in consents.filter(withdrawn_at__isnull=False).order_by("-withdrawn_at", "-pk")[:limit]:
        entries.append(
            TimelineEntry(
                at=consent.withdrawn_at,
                kind="consent",
                title=f"Consent to share with {consent.partner.name} withdrawn",
                person=person_name(consent.withdrawn_by),
                detail=f"On {day(consent.withdrawn_on)}",
                key=f"consent:{consent.pk}:withdrawn",
            )
        )
    return entries


def _merge_entries(*, user: User, family: Family, limit: int) -> list[TimelineEntry]:
    # The merge's note is the leads' business (shown on the duplicates page), so it stays out of here.
    events = audit_events_about(
        Family, Family.objects.filter(pk=family.pk), actions=("family.merged",), limit=limit
    )
    return [
        TimelineEntry(
            at=event.at,
            kind="merges",
            title="Another record of this household was merged into this one",
            person=person_name(event.actor),
            key=f"audit:{event.pk}",
        )
        for event in events
    ]


def register_core() -> None:
    registry.register_timeline_source(
        "in_need", label="In-need notes", entries=_in_need_entries, permission="pupils.view", order=40
    )
    registry.register_timeline_source(
        "consent", label="Consent to share", entries=_consent_entries, permission="families.view", order=50
    )
    registry.register_timeline_source(
        "merges", label="Merges", entries=_merge_entries, permission="families.view", order=60
    )
