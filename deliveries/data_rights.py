"""The family's referrals in its subject access export, their last activity for retention, anonymisation,
and the move to the kept family when two families merge."""

import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Max
from django.utils import timezone

from deliveries.models import Referral, ReferralMessage
from funds.services.ledger import fund_commitment_release
from support.data_rights import ANONYMISED, iso, register_subject_access_section, username
from support.merges import register_merge_handler
from support.models import Family


def collect_referrals(family: Family) -> list[dict[str, Any]]:
    referrals = (
        Referral.objects.filter(family=family)
        .select_related("item", "school", "service__voucher_type__partner", "created_by")
        .prefetch_related("messages")
        .order_by("created_at", "pk")
    )
    return [
        {
            "item": r.item.name,
            "partner": r.service.voucher_type.partner.name,
            "school": r.school.name,
            "state": r.get_state_display(),
            "referred_at": iso(r.created_at),
            "referred_by": username(r.created_by),
            "lead_carer_name": r.lead_carer_name,
            "delivery_address": r.delivery_address,
            "delivery_postcode": r.delivery_postcode,
            "delivery_phone": r.delivery_phone,
            "access_notes": r.access_notes,
            "household": {
                "adults": r.adults,
                "children_under_5": r.children_under_5,
                "children_5_to_11": r.children_5_to_11,
                "children_12_to_17": r.children_12_to_17,
            },
            "expected_on": iso(r.expected_on),
            "delivered_on": iso(r.delivered_on),
            "delivered_what": r.delivered_what,
            "decline_reason": r.decline_reason,
            "outcome_note": r.outcome_note,
            "messages": [
                {"what": m.get_kind_display(), "to": m.address, "status": m.get_status_display()}
                for m in r.messages.all()
            ],
        }
        for r in referrals
    ]


def last_referral_activity(family_ids: list[int]) -> dict[int, datetime.datetime]:
    rows = (
        Referral.objects.filter(family_id__in=family_ids)
        .values("family_id")
        .annotate(latest=Max("updated_at"))
    )
    return {row["family_id"]: row["latest"] for row in rows}


def anonymise_referrals(family: Family) -> int:
    referrals = Referral.objects.filter(family=family)
    changed = referrals.update(
        lead_carer_name=ANONYMISED,
        delivery_address="",
        delivery_postcode="",
        delivery_phone="",
        access_notes="",
    )
    # An open referral is closed too (a delivery cannot happen without the family); money committed
    # to an accepted one goes back to the fund.
    accepted = list(referrals.filter(state=Referral.State.ACCEPTED))
    referrals.filter(state__in=Referral.OPEN).update(
        state=Referral.State.CANCELLED, closed_at=timezone.now(), outcome_note=ANONYMISED, expected_on=None
    )
    for referral in accepted:
        fund_commitment_release(source=referral, actor=None, note="Referral closed: family anonymised")
    ReferralMessage.objects.filter(referral__family=family).update(address=ANONYMISED, body="")
    return changed


def referral_audit_subjects(family: Family) -> list:
    return [(Referral, list(Referral.objects.filter(family=family).values_list("pk", flat=True)))]


def referrals_move_family(
    *, source: Family, target: Family, actor: AbstractBaseUser | None
) -> dict[str, Any]:
    moved = list(Referral.objects.filter(family=source).order_by("pk").values_list("pk", flat=True))
    Referral.objects.filter(pk__in=moved).update(family=target, updated_at=timezone.now())
    return {"referrals_moved": moved}


def register() -> None:
    register_subject_access_section(
        "delivery_referrals",
        collect_referrals,
        last_activity=last_referral_activity,
        anonymise=anonymise_referrals,
        audit_subjects=referral_audit_subjects,
    )
    register_merge_handler(
        "delivery_referrals", covers=("deliveries.Referral.family",), move=referrals_move_family
    )
