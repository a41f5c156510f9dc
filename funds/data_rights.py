"""Donors' personal data under UK GDPR: subject access and retention for Gift Aid declarations.

A donor is not a family, so the core's family export does not reach them: a trust admin exports what the
trust holds about one donor here (``donor_subject_access``: their declarations with the home address,
their donations and pledges, the claims their gifts were in), and the export is audited.

**Retention.** HMRC expects Gift Aid records kept for six years after the end of the financial year of
the claim they support. A declaration is anonymised (names, house, address and postcode blanked;
``anonymised_at`` set) once the financial year of its last activity (declared, cancelled, a gift from
the donor, a claim that held one of them or later gave back its Gift Aid after the gift was reversed)
ended more than ``retention_years()`` years ago (``RETENTION_YEARS_AFTER_LEAVING``, default 6): weekly,
by ``funds.anonymise_gift_aid_declarations``.
An anonymised declaration covers nothing. Donations and the ledger keep the donor's name and amounts.
"""

import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from funds.models import Donation, GiftAidClaimItem, GiftAidDeclaration, Pledge
from support.audit import audit_record
from support.data_rights import ANONYMISED, iso, redact_audit_events, retention_years
from support.dates import academic_year_bounds, academic_year_start_for
from support.errors import SupportError
from support.models import AuditEvent
from support.scopes import scope_for


def donor_subject_access(*, declaration: GiftAidDeclaration, actor: AbstractBaseUser) -> dict[str, Any]:
    """Everything the fund holds about the donor of ``declaration`` (by the name their gifts are recorded
    under): trust admins only, audited."""
    if not scope_for(actor).is_admin:
        raise SupportError("Only a trust admin can export a donor's data.", code="forbidden")
    donor = declaration.donor
    declarations = GiftAidDeclaration.objects.filter(donor=donor).order_by("declared_on", "pk")
    donations = Donation.objects.filter(donor=donor).select_related("fund").order_by("received_on", "pk")
    items = (
        GiftAidClaimItem.objects.filter(donation__donor=donor)
        .select_related("claim")
        .order_by("donation__received_on", "pk")
    )
    data = {
        "format": "trustsupport.donor-subject-access.v1",
        "donor": donor,
        "exported_at": iso(timezone.now()),
        "gift_aid_declarations": [
            {
                "id": d.pk,
                "title": d.title,
                "first_name": d.first_name,
                "last_name": d.last_name,
                "house": d.house,
                "address": d.address,
                "postcode": d.postcode,
                "declared_on": iso(d.declared_on),
                "covers_past": d.covers_past,
                "covers_future": d.covers_future,
                "cancelled_on": iso(d.cancelled_on),
                "anonymised_at": iso(d.anonymised_at),
            }
            for d in declarations
        ],
        "donations": [
            {
                "id": d.pk,
                "fund": d.fund.name,
                "amount_pence": d.amount_pence,
                "received_on": iso(d.received_on),
                "gift_aid": d.gift_aid,
                "sponsored": bool(d.sponsored),
            }
            for d in donations
        ],
        "pledges": [
            {"id": p.pk, "amount_pence": p.amount_pence, "frequency": p.frequency, "is_active": p.is_active}
            for p in Pledge.objects.filter(donor=donor).order_by("pk")
        ],
        "gift_aid_claimed": [
            {
                "claim": i.claim_id,
                "donation": i.donation_id,
                "gift_aid_pence": i.gift_aid_pence,
                "status": i.claim.status,
                "released": i.released,
            }
            for i in items
        ],
    }
    audit_record(
        actor=actor,
        action="gift_aid.donor_subject_access",
        subject=declaration,
        after={"declarations": [d["id"] for d in data["gift_aid_declarations"]]},
    )
    return data


def _year_end(day: datetime.date) -> datetime.date:
    return academic_year_bounds(academic_year_start_for(day))[1]


def expired_declarations(*, today: datetime.date, years: int) -> list[int]:
    """Ids of declarations, not yet anonymised, whose last activity's financial year ended more than
    ``years`` years before ``today``. A few queries, however many declarations."""
    open_ones = list(GiftAidDeclaration.objects.filter(anonymised_at__isnull=True).order_by("pk"))
    donors = {d.donor for d in open_ones}
    last_gift = dict(
        Donation.objects.filter(donor__in=donors)
        .values("donor")
        .annotate(last=Max("received_on"))
        .values_list("donor", "last")
    )
    # A claim that held one of the declaration's gifts, or a later one that gave back the Gift Aid on one
    # of them after the gift was reversed (HMRC may ask about either, so each keeps the declaration).
    last_claim = {
        row["declaration"]: max(
            filter(None, (row["prepared"], row["paid"], row["adjusted_prepared"], row["adjusted_paid"]))
        )
        for row in GiftAidClaimItem.objects.filter(declaration__in=open_ones)
        .values("declaration")
        .annotate(
            prepared=Max("claim__prepared_on"),
            paid=Max("claim__paid_on"),
            adjusted_prepared=Max("adjusted_in__prepared_on"),
            adjusted_paid=Max("adjusted_in__paid_on"),
        )
    }
    expired = []
    for d in open_ones:
        last = max(
            filter(None, (d.declared_on, d.cancelled_on, last_gift.get(d.donor), last_claim.get(d.pk)))
        )
        end = _year_end(last)
        try:
            kept_until = end.replace(year=end.year + years)
        except ValueError:
            kept_until = end.replace(year=end.year + years, day=28)
        if kept_until < today:
            expired.append(d.pk)
    return expired


@transaction.atomic
def gift_aid_declarations_anonymise_expired(
    *, today: datetime.date | None = None, years: int | None = None, dry_run: bool = False
) -> list[int]:
    """Anonymise every declaration past retention (``dry_run``: only list them); audited. Idempotent."""
    today = today or timezone.localdate()
    years = retention_years() if years is None else years
    expired = expired_declarations(today=today, years=years)
    if expired and not dry_run:
        GiftAidDeclaration.objects.filter(pk__in=expired, anonymised_at__isnull=True).update(
            title="",
            first_name=ANONYMISED,
            last_name=ANONYMISED,
            house="",
            address="",
            postcode="",
            cancel_reason="",
            anonymised_at=timezone.now(),
        )
        # What the audit log kept of them (the donor's name, a cancellation's reason) goes too.
        redact_audit_events(
            list(
                AuditEvent.objects.filter(
                    subject_type=ContentType.objects.get_for_model(GiftAidDeclaration),
                    subject_id__in=[str(pk) for pk in expired],
                )
            )
        )
    audit_record(
        actor=None,
        action="retention.gift_aid_dry_run" if dry_run else "retention.gift_aid_anonymised",
        after={"years": years, "today": today, "declarations": expired},
    )
    return expired
