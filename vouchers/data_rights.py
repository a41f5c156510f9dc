"""A family's vouchers in its subject access export, and their personal details at retention.

Codes, states, face values, redemptions and their values stay at anonymisation (finance's figures and
the partners' statements rest on them); the family details copied onto each voucher and free text go.
"""

import datetime
from typing import Any

from django.db.models import Max
from django.db.models.functions import Coalesce, Greatest

from support.data_rights import ANONYMISED, iso, register_subject_access_section, username
from support.models import Family
from vouchers.models import Redemption, Voucher, VoucherSend


def collect_vouchers(family: Family) -> list[dict[str, Any]]:
    vouchers = (
        Voucher.objects.filter(family=family)
        .select_related(
            "voucher_type__partner",
            "school",
            "issued_by",
            "cancelled_by",
            "redemption__partner",
            "redemption__redeemed_by",
        )
        .prefetch_related("sends__requested_by")
        .order_by("issued_at", "pk")
    )
    rows = []
    for voucher in vouchers:
        redemption = getattr(voucher, "redemption", None)
        rows.append(
            {
                "code": voucher.display_code,
                "state": voucher.get_state_display(),
                "voucher_type": voucher.voucher_type.name,
                "partner": voucher.voucher_type.partner.name,
                "service": voucher.voucher_type.get_service_display(),
                "school": voucher.school.name,
                "face_value_pence": voucher.face_value_pence,
                "issued_at": iso(voucher.issued_at),
                "issued_by": username(voucher.issued_by),
                "expires_on": iso(voucher.expires_on),
                "referral_reason": voucher.get_referral_reason_display(),
                "referral_other": voucher.referral_other,
                "lead_carer_name": voucher.lead_carer_name,
                "household_size": voucher.household_size,
                "dietary_needs": voucher.dietary_needs,
                "fulfilment": voucher.get_fulfilment_display(),
                "note_for_charity": voucher.note_for_charity,
                "limit_override_reason": voucher.limit_override_reason,
                "cancelled_at": iso(voucher.cancelled_at),
                "cancelled_by": username(voucher.cancelled_by),
                "cancel_reason": voucher.cancel_reason,
                "delivery": voucher.get_delivery_display(),
                "sent": [
                    {
                        "what": send.get_kind_display(),
                        "how": send.get_channel_display(),
                        "to": send.address,
                        "asked_at": iso(send.requested_at),
                        "asked_by": username(send.requested_by),
                        "status": send.get_status_display(),
                        "sent_at": iso(send.sent_at),
                    }
                    for send in voucher.sends.all()
                ],
                "redemption": None
                if redemption is None
                else {
                    "partner": redemption.partner.name,
                    "redeemed_at": iso(redemption.redeemed_at),
                    "redeemed_by": username(redemption.redeemed_by),
                    "items_given": redemption.items_given,
                    "value_pence": redemption.value_pence,
                },
            }
        )
    return rows


def last_voucher_activity(family_ids: list[int]) -> dict[int, datetime.datetime]:
    rows = (
        Voucher.objects.filter(family_id__in=family_ids)
        .values("family_id")
        .annotate(
            latest=Max(Greatest("issued_at", "updated_at", Coalesce("redemption__redeemed_at", "issued_at")))
        )
    )
    return {row["family_id"]: row["latest"] for row in rows}


def anonymise_vouchers(family: Family) -> int:
    vouchers = Voucher.objects.filter(family=family)
    changed = vouchers.update(
        lead_carer_name=ANONYMISED, dietary_needs="", referral_other="", note_for_charity=""
    )
    for field in ("limit_override_reason", "cancel_reason"):
        vouchers.exclude(**{field: ""}).update(**{field: ANONYMISED})
    Redemption.objects.filter(voucher__family=family).exclude(items_given="").update(items_given=ANONYMISED)
    VoucherSend.objects.filter(voucher__family=family).update(address=ANONYMISED)
    return changed


def voucher_audit_subjects(family: Family) -> list:
    return [(Voucher, list(Voucher.objects.filter(family=family).values_list("pk", flat=True)))]


def register() -> None:
    register_subject_access_section(
        "vouchers",
        collect_vouchers,
        last_activity=last_voucher_activity,
        anonymise=anonymise_vouchers,
        audit_subjects=voucher_audit_subjects,
    )
