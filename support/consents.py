"""Consent to share a family's details with a named partner charity: record, withdraw, confirm, check.

Sharing with a partner rests on the family's consent, and consent names the organisation that receives
the data: one ``FamilyConsent`` per family and partner. Sending the family its own voucher and keeping
the school's records rest on the school's public task and need none (docs/privacy.md). Every change is
audited against the family, so subject access lists it.
"""

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from support import selectors
from support.audit import audit_record
from support.errors import ConflictError, SupportError
from support.hot_queries import hot_query
from support.models import Family, FamilyConsent, PartnerCharity
from support.models.consents import RECORDABLE_METHODS

# What staff read to the lead carer before recording consent (docs/privacy.md quotes it).
CONSENT_WORDING = (
    "We would like to give you a voucher that you take to {partner}. To do that, we share with "
    "{partner} your name, how many people live in your household, any dietary needs and which "
    "school gave the voucher, and {partner} tells us when the voucher is used. If {partner} "
    "delivers something to your home, such as a cooker or a bed, we also share your address, a "
    "phone number, how many adults and children (by age group) live with you and how to get in, "
    "only for the delivery: {partner} no longer sees them once it is done. We do not share "
    "your children's names or anything else about them. Do you agree that we share these "
    "details with {partner}? You do not have to agree: we will still help you in other ways. "
    "You can change your mind at any time by telling the school, and we will not share anything"
    " new with {partner} after that."
)


def consent_wording(partner_name: str) -> str:
    return CONSENT_WORDING.format(partner=partner_name)


def consents_listed() -> QuerySet[FamilyConsent]:
    """Consents as pages and the API list them: current first, partners by name, newest first."""
    return FamilyConsent.objects.select_related(
        "partner", "recorded_by", "confirmed_by", "withdrawn_by"
    ).order_by(F("withdrawn_on").asc(nulls_first=True), "partner__name", "-given_on", "-pk")


@hot_query
def _consents_of_families(family_ids: tuple) -> QuerySet[FamilyConsent]:
    return consents_listed().filter(family_id__in=family_ids)


def families_consents_listed(family_ids: list[int]) -> dict[int, list[FamilyConsent]]:
    """``consents_listed`` for a page of families, each family's in that order: one query compiled once
    per page size (``support.hot_queries``)."""
    found: dict[int, list[FamilyConsent]] = {pk: [] for pk in family_ids}
    if family_ids:
        for consent in _consents_of_families(tuple(family_ids)):
            found[consent.family_id].append(consent)
    return found


def family_consents(family: Family) -> QuerySet[FamilyConsent]:
    """Every consent the family gave or withdrew."""
    return consents_listed().filter(family=family)


def family_consent_current(*, family: Family, partner: PartnerCharity) -> FamilyConsent | None:
    """The family's consent to share with ``partner`` that is not withdrawn, if any."""
    found = _current_consent(family.pk, partner.pk)
    return found[0] if found else None


@hot_query
def _current_consent(family_id: int, partner_id: int) -> QuerySet[FamilyConsent]:
    """Every voucher issued asks it: compiled once per connection (support.hot_queries)."""
    return FamilyConsent.objects.filter(
        family_id=family_id, partner_id=partner_id, withdrawn_on__isnull=True
    ).order_by("-given_on", "-pk")[:1]


def consented_partner_ids(family: Family) -> set[int]:
    """The partners the family currently consents to share with."""
    return set(
        FamilyConsent.objects.filter(family=family, withdrawn_on__isnull=True).values_list(
            "partner_id", flat=True
        )
    )


def family_consent_require(*, family: Family, partner: PartnerCharity) -> FamilyConsent:
    """Refuse (SupportError, field ``consent``) unless the family's consent to share with ``partner``
    is on record. The message names the partner, so staff know whose consent to ask for."""
    consent = family_consent_current(family=family, partner=partner)
    if consent is None:
        raise SupportError(
            f"The family has not consented to sharing their details with {partner.name}. Ask the lead "
            f"carer, and record their consent to share with {partner.name} on the family's page, "
            "before issuing a voucher for it.",
            field="consent",
            code="no_consent",
        )
    return consent


def _snapshot(consent: FamilyConsent) -> dict:
    return {
        "partner": consent.partner.name,
        "given_on": consent.given_on,
        "method": consent.method,
        "migrated": consent.migrated,
        "confirmed_at": consent.confirmed_at,
        "withdrawn_on": consent.withdrawn_on,
    }


@transaction.atomic
def family_consent_record(
    *,
    family: Family,
    partner: PartnerCharity,
    actor: AbstractBaseUser,
    method: str,
    given_on: datetime.date | None = None,
    today: datetime.date | None = None,
) -> FamilyConsent:
    """Record that the lead carer agreed, on ``given_on`` and by ``method``, to share their details with
    ``partner``. Refused when that consent is already on record (withdraw it first to record it again)."""
    today = today or timezone.localdate()
    given_on = given_on or today
    if method not in dict(RECORDABLE_METHODS):
        raise SupportError("Choose how the carer gave consent.", field="method")
    if given_on > today:
        raise SupportError("The date consent was given cannot be in the future.", field="given_on")
    if not partner.is_active:
        raise SupportError(f"{partner.name} is no longer a partner of the trust.", field="partner")
    # Lock the family: two staff recording at once cannot both add a current consent.
    family = Family.objects.select_for_update().get(pk=family.pk)
    if family_consent_current(family=family, partner=partner) is not None:
        raise ConflictError(f"The family's consent to share with {partner.name} is already on record.")
    consent = FamilyConsent.objects.create(
        family=family,
        partner=partner,
        given_on=given_on,
        method=method,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    audit_record(actor=actor, action="family.consent_recorded", subject=family, after=_snapshot(consent))
    return consent


@transaction.atomic
def family_consent_withdraw(
    *,
    family: Family,
    partner: PartnerCharity,
    actor: AbstractBaseUser,
    withdrawn_on: datetime.date | None = None,
    today: datetime.date | None = None,
) -> FamilyConsent:
    """Record that the family withdrew its consent to share with ``partner``: no new voucher for that
    partner from then on (vouchers already issued stay valid; cancel them if the family asks)."""
    today = today or timezone.localdate()
    withdrawn_on = withdrawn_on or today
    if withdrawn_on > today:
        raise SupportError("The date consent was withdrawn cannot be in the future.", field="withdrawn_on")
    family = Family.objects.select_for_update().get(pk=family.pk)
    consent = family_consent_current(family=family, partner=partner)
    if consent is None:
        raise ConflictError(f"The family has no consent to share with {partner.name} on record.")
    if withdrawn_on < consent.given_on:
        raise SupportError("Consent cannot be withdrawn before the day it was given.", field="withdrawn_on")
    before = _snapshot(consent)
    consent.withdrawn_on = withdrawn_on
    consent.withdrawn_by = actor
    consent.withdrawn_at = timezone.now()
    consent.save(update_fields=["withdrawn_on", "withdrawn_by", "withdrawn_at"])
    audit_record(
        actor=actor,
        action="family.consent_withdrawn",
        subject=family,
        before=before,
        after=_snapshot(consent),
    )
    return consent


def family_consent_can_confirm(*, family: Family, actor: AbstractBaseUser) -> bool:
    """A pastoral lead of a school with one of the family's pupils on its roll (or a trust admin)."""
    return family.pk in selectors.families_spoken_for(actor, [family.pk])


@transaction.atomic
def family_consent_confirm(
    *, consent: FamilyConsent, actor: AbstractBaseUser, now: datetime.datetime | None = None
) -> FamilyConsent:
    """A lead confirms, having asked the family, a consent migrated from the single consent box."""
    family = Family.objects.select_for_update().get(pk=consent.family_id)
    if not family_consent_can_confirm(family=family, actor=actor):
        raise SupportError(
            "Only a pastoral lead at the family's school can confirm consent.", code="forbidden"
        )
    consent = FamilyConsent.objects.select_related("partner").get(pk=consent.pk)
    if not consent.awaits_confirmation:
        raise ConflictError("This consent is not waiting for a lead's confirmation.")
    before = _snapshot(consent)
    consent.confirmed_by = actor
    consent.confirmed_at = now or timezone.now()
    consent.save(update_fields=["confirmed_by", "confirmed_at"])
    audit_record(
        actor=actor,
        action="family.consent_confirmed",
        subject=family,
        before=before,
        after=_snapshot(consent),
    )
    return consent
