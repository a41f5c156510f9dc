"""A family's uniform gifts and coat, shoe and uniform requests: its subject access export, and retention.

Costs, statuses, items, sizes and dates stay at anonymisation (finance's figures and stock rest on
them); the free text of a request (its reason, a decision's note) goes, here and on the spend request
finance saw for it.
"""

import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Max
from django.db.models.functions import Coalesce, Greatest

from funds.models import SpendRequest
from support.data_rights import ANONYMISED, iso, register_subject_access_section, username
from support.models import Family
from uniform.models import Gift, SupportRequest


def collect_gifts(family: Family) -> list[dict[str, Any]]:
    gifts = (
        Gift.objects.filter(pupil__family=family)
        .select_related("school", "packed_by", "handed_over_by")
        .prefetch_related("lines__item")
        .order_by("academic_year", "pk")
    )
    return [
        {
            "id": gift.pk,
            "pupil": gift.pupil_id,
            "school": gift.school.name,
            "academic_year": gift.academic_year,
            "year_group": gift.year_group,
            "status": gift.get_status_display(),
            "items": [
                {"item": line.item.name, "quantity": line.quantity, "size": line.size}
                for line in gift.lines.all()
            ],
            "packed_at": iso(gift.packed_at),
            "packed_by": username(gift.packed_by),
            "handed_over_at": iso(gift.handed_over_at),
            "handed_over_by": username(gift.handed_over_by),
            "cost_pence": gift.cost_pence,
            "created_at": iso(gift.created_at),
        }
        for gift in gifts
    ]


def collect_requests(family: Family) -> list[dict[str, Any]]:
    requests = (
        SupportRequest.objects.filter(pupil__family=family)
        .select_related("school", "item", "requested_by", "decided_by", "handed_over_by")
        .order_by("requested_at", "pk")
    )
    return [
        {
            "id": request.pk,
            "pupil": request.pupil_id,
            "school": request.school.name,
            "kind": request.get_kind_display(),
            "item": request.item.name if request.item else None,
            "size": request.size,
            "quantity": request.quantity,
            "reason": request.reason,
            "urgency": request.get_urgency_display(),
            "period": request.period,
            "status": request.get_status_display(),
            "beyond_policy": request.beyond_policy,
            "requested_at": iso(request.requested_at),
            "requested_by": username(request.requested_by),
            "decided_at": iso(request.decided_at),
            "decided_by": username(request.decided_by),
            "decision_reason": request.decision_reason,
            "handed_over_at": iso(request.handed_over_at),
            "handed_over_by": username(request.handed_over_by),
            "cost_pence": request.cost_pence,
        }
        for request in requests
    ]


def last_gift_activity(family_ids: list[int]) -> dict[int, datetime.datetime]:
    latest = Greatest(
        "created_at", Coalesce("packed_at", "created_at"), Coalesce("handed_over_at", "created_at")
    )
    rows = (
        Gift.objects.filter(pupil__family_id__in=family_ids)
        .values("pupil__family_id")
        .annotate(latest=Max(latest))
    )
    return {row["pupil__family_id"]: row["latest"] for row in rows}


def last_request_activity(family_ids: list[int]) -> dict[int, datetime.datetime]:
    rows = (
        SupportRequest.objects.filter(pupil__family_id__in=family_ids)
        .values("pupil__family_id")
        .annotate(latest=Max("updated_at"))
    )
    return {row["pupil__family_id"]: row["latest"] for row in rows}


def _spend_requests(family: Family):
    ids = [str(pk) for pk in SupportRequest.objects.filter(pupil__family=family).values_list("pk", flat=True)]
    return SpendRequest.objects.filter(
        source_type=ContentType.objects.get_for_model(SupportRequest), source_id__in=ids
    )


def anonymise_requests(family: Family) -> int:
    requests = SupportRequest.objects.filter(pupil__family=family)
    spend = _spend_requests(family)
    for field in ("decision_note", "override_reason"):
        spend.exclude(**{field: ""}).update(**{field: ANONYMISED})
    spend.update(reason=ANONYMISED)
    requests.exclude(decision_reason="").update(decision_reason=ANONYMISED)
    return requests.update(reason=ANONYMISED)


def gift_audit_subjects(family: Family) -> list:
    return [(Gift, list(Gift.objects.filter(pupil__family=family).values_list("pk", flat=True)))]


def request_audit_subjects(family: Family) -> list:
    return [
        (
            SupportRequest,
            list(SupportRequest.objects.filter(pupil__family=family).values_list("pk", flat=True)),
        ),
        (SpendRequest, list(_spend_requests(family).values_list("pk", flat=True))),
    ]


def register() -> None:
    register_subject_access_section(
        "uniform_gifts",
        collect_gifts,
        # A gift holds no names or free text of its own: its pupil is anonymised by the core.
        last_activity=last_gift_activity,
        audit_subjects=gift_audit_subjects,
    )
    register_subject_access_section(
        "uniform_requests",
        collect_requests,
        last_activity=last_request_activity,
        anonymise=anonymise_requests,
        audit_subjects=request_audit_subjects,
    )
