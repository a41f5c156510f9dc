"""Free school meals done properly (issue 20.5): benefits-related FSM apart from universal infant meals
and pupil premium, and the families a school supports whose children are not registered for it.

Three measures, never mixed up:
- **Benefits-related free school meals** (``Pupil.fsm``, with ``fsm_start``/``fsm_end``): the poverty
  measure. A pupil is registered on a day when ``fsm`` is set and the day is inside the period.
- **Universal infant free school meals** (``Pupil.uifsm``): every child in Reception to Year 2. Not a
  poverty measure; its families often never register, and the school loses the pupil premium.
- **Pupil premium** (``Pupil.pupil_premium``): FSM at any time in six years, and also service children
  and looked-after children (``service_child``, ``looked_after``).

The lead's check lists families the school supported this academic year (whatever the feature apps
register with ``register_support_given``: vouchers, coats, shoes, uniform) with a child on the roll
who is not registered for benefits-related FSM, and prints a letter explaining how to apply.
"""

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone

from support.audit import audit_record
from support.contacts import family_recipient
from support.dates import academic_year_start_for
from support.errors import SupportError
from support.models import Family, Pupil, School
from support.pdf import render_pdf
from support.selectors import User, lead_schools_of, on_roll_at

# What a registration brings the school a year, as the letter and the list say it (DfE pupil premium
# rate for a primary pupil, rounded).
PUPIL_PREMIUM_PRIMARY_POUNDS = 1_500
APPLY_URL = "https://www.gov.uk/apply-free-school-meals"
MEASURE = "benefits-related free school meals (not universal infant meals, not pupil premium)"

# {family id: how many times the school supported it} for schools ``school_ids`` from ``start`` to
# ``end`` (dates, inclusive). One query per call.
SupportGiven = Callable[[list[int], datetime.date, datetime.date], dict[int, int]]
_SOURCES: dict[str, SupportGiven] = {}


def register_support_given(label: str, families: SupportGiven) -> None:
    """A feature app says which families its schools supported (from its ``AppConfig.ready``)."""
    _SOURCES[label] = families


def registered_fsm_q(*, today: datetime.date, prefix: str = "") -> Q:
    """Pupils registered for benefits-related FSM on ``today``."""
    return (
        Q(**{f"{prefix}fsm": True})
        & (Q(**{f"{prefix}fsm_end__isnull": True}) | Q(**{f"{prefix}fsm_end__gte": today}))
        & (Q(**{f"{prefix}fsm_start__isnull": True}) | Q(**{f"{prefix}fsm_start__lte": today}))
    )


@dataclass
class FsmCheckRow:
    family: Family
    unregistered: list[Pupil] = field(default_factory=list)
    registered: list[Pupil] = field(default_factory=list)
    support: dict[str, int] = field(default_factory=dict)

    @property
    def infants(self) -> list[Pupil]:
        return [pupil for pupil in self.unregistered if pupil.uifsm or pupil.year_group <= 2]


def _chunks(items: list[int], size: int = 900) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def fsm_check_families(*, user: User, today: datetime.date | None = None) -> list[FsmCheckRow]:
    """Families the user's lead schools supported this academic year with a child on one of those
    rolls who is not registered for benefits-related FSM today. Pupils at other schools stay out."""
    today = today or timezone.localdate()
    school_ids = list(lead_schools_of(user).values_list("pk", flat=True))
    if not school_ids:
        return []
    start = datetime.date(academic_year_start_for(today), 9, 1)
    support: dict[int, dict[str, int]] = defaultdict(dict)
    for label, source in sorted(_SOURCES.items()):
        for family_id, count in source(school_ids, start, today).items():
            support[family_id][label] = count
    rows: dict[int, FsmCheckRow] = {}
    registered = registered_fsm_q(today=today)
    for chunk in _chunks(sorted(support)):
        pupils = (
            Pupil.objects.filter(on_roll_at(school_ids), family_id__in=chunk)
            .annotate(fsm_registered=ExpressionWrapper(registered, output_field=BooleanField()))
            .select_related("family", "school")
            .order_by("family__lead_carer_name", "family_id", "year_group", "pk")
        )
        for pupil in pupils:
            row = rows.setdefault(
                pupil.family_id, FsmCheckRow(family=pupil.family, support=support[pupil.family_id])
            )
            (row.registered if pupil.fsm_registered else row.unregistered).append(pupil)
    return [row for row in rows.values() if row.unregistered]


def fsm_letter_pupils(*, user: User, family: Family, today: datetime.date | None = None) -> list[Pupil]:
    """The family's children on the user's lead schools' rolls not registered for FSM today."""
    today = today or timezone.localdate()
    school_ids = list(lead_schools_of(user).values_list("pk", flat=True))
    return list(
        Pupil.objects.filter(on_roll_at(school_ids), family=family)
        .exclude(registered_fsm_q(today=today))
        .select_related("school")
        .order_by("year_group", "pk")
    )


def render_fsm_letter_pdf(
    *, family: Family, pupils: list[Pupil], actor: AbstractBaseUser, today: datetime.date | None = None
) -> bytes:
    """A letter to the family explaining free school meals and how to apply (A4 PDF); audited.

    It is addressed to a contact who may be told about the pupils (parental responsibility, no
    restriction), as a voucher is; refused when no one may be."""
    recipient = family_recipient(family)
    if recipient is None:
        raise SupportError(
            "No contact of this family has parental responsibility without a restriction: record one "
            "before printing a letter.",
            code="no_allowed_contact",
        )
    today = today or timezone.localdate()
    schools: list[School] = list({pupil.school_id: pupil.school for pupil in pupils}.values())
    pdf = render_pdf(
        "support/pdf/fsm_letter.html",
        {
            "trust_name": settings.TRUST_NAME,
            "family": family,
            "recipient": recipient,
            "pupils": pupils,
            "schools": schools,
            "infants": [pupil for pupil in pupils if pupil.uifsm or pupil.year_group <= 2],
            "today": today,
            "apply_url": APPLY_URL,
            "premium_pounds": PUPIL_PREMIUM_PRIMARY_POUNDS,
        },
        stylesheet="support/pdf/fsm_letter.css",
        cache_key=f"fsm-letter:{family.pk}",
    )
    audit_record(
        actor=actor,
        action="family.fsm_letter_printed",
        subject=family,
        after={"pupils": [pupil.pk for pupil in pupils]},
    )
    return pdf
