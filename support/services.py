"""Use cases of the support core. Views, the API, the admin and commands call these; none hold a rule."""

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models.signals import ModelSignal
from django.utils import timezone

from support.audit import audit_record, changed, snapshot
from support.errors import ConflictError, SupportError
from support.models import Family, FamilyDuplicate, Pupil
from support.models.families import HOUSEHOLD_MAX_ADULTS, HOUSEHOLD_MAX_CHILDREN
from support.pupil_csv import normalise_name_key, normalise_phone, normalise_postcode

FAMILY_EDITABLE = (
    "lead_carer_name",
    "phone",
    "email",
    "address",
    "postcode",
    "adults",
    "children",
    "dietary_needs",
)

# Sent inside the merge transaction so feature apps can move their own references
# (vouchers, gifts, requests) from ``source`` to ``target``; the core never imports them.
family_merged = ModelSignal(use_caching=True)


def _clean_family_fields(fields: dict) -> dict:
    cleaned = dict(fields)
    if "lead_carer_name" in cleaned:
        cleaned["lead_carer_name"] = " ".join(str(cleaned["lead_carer_name"]).split())
        if not cleaned["lead_carer_name"]:
            raise SupportError("Enter the lead carer's name.", field="lead_carer_name")
    if cleaned.get("postcode"):
        postcode = normalise_postcode(cleaned["postcode"])
        if postcode is None:
            raise SupportError("Enter a UK postcode, like SW1A 1AA.", field="postcode")
        cleaned["postcode"] = postcode
    if cleaned.get("phone"):
        phone = normalise_phone(str(cleaned["phone"]))
        if phone is None:
            raise SupportError("Enter a UK phone number, like 07700 900123", field="phone")
        cleaned["phone"] = phone
    for name in ("address", "dietary_needs", "email"):
        limit = Family._meta.get_field(name).max_length
        if limit and len(cleaned.get(name) or "") > limit:
            raise SupportError(f"Shorten this to at most {limit} characters.", field=name)
    if "adults" in cleaned and int(cleaned["adults"]) < 1:
        raise SupportError("A household has at least one adult.", field="adults")
    for name, most in (("adults", HOUSEHOLD_MAX_ADULTS), ("children", HOUSEHOLD_MAX_CHILDREN)):
        if name in cleaned and not 0 <= int(cleaned[name]) <= most:
            raise SupportError(f"Enter a number from {int(name == 'adults')} to {most}.", field=name)
    return cleaned


@transaction.atomic
def family_create(*, actor: AbstractBaseUser | None, **fields) -> Family:
    fields = _clean_family_fields(fields)
    family = Family(**fields)
    family.carer_name_key = normalise_name_key(family.lead_carer_name)
    family.save()
    audit_record(
        actor=actor, action="family.created", subject=family, after=snapshot(family, FAMILY_EDITABLE)
    )
    return family


@transaction.atomic
def family_update(*, family: Family, actor: AbstractBaseUser, **fields) -> Family:
    """Change a family's contact and household details. Unknown fields are a programming error."""
    unknown = set(fields) - set(FAMILY_EDITABLE)
    if unknown:
        raise TypeError(f"family_update cannot change {sorted(unknown)}")
    fields = _clean_family_fields(fields)
    family = Family.objects.select_for_update().get(pk=family.pk)
    before = snapshot(family, FAMILY_EDITABLE)
    for name, value in fields.items():
        setattr(family, name, value)
    family.carer_name_key = normalise_name_key(family.lead_carer_name)
    after = snapshot(family, FAMILY_EDITABLE)
    old, new = changed(before, after)
    if new:
        family.save()
        audit_record(actor=actor, action="family.updated", subject=family, before=old, after=new)
    return family


@transaction.atomic
def family_record_consent(
    *, family: Family, actor: AbstractBaseUser, given: bool, date: datetime.date | None = None
) -> Family:
    """Record (or withdraw) the family's consent to share data with partner charities."""
    date = date or timezone.localdate()
    if date > timezone.localdate():
        raise SupportError("The consent date cannot be in the future.", field="consent_date")
    family = Family.objects.select_for_update().get(pk=family.pk)
    before = snapshot(family, ("consent_given", "consent_date", "consent_recorded_by"))
    family.consent_given = given
    family.consent_date = date if given else None
    family.consent_recorded_by = actor
    family.save(update_fields=["consent_given", "consent_date", "consent_recorded_by", "updated_at"])
    after = snapshot(family, ("consent_given", "consent_date", "consent_recorded_by"))
    audit_record(
        actor=actor,
        action="family.consent_recorded" if given else "family.consent_withdrawn",
        subject=family,
        before=before,
        after=after,
    )
    return family


@transaction.atomic
def pupil_set_in_need(*, pupil: Pupil, actor: AbstractBaseUser, in_need: bool, reason: str = "") -> Pupil:
    if in_need and not reason.strip():
        raise SupportError("Say briefly why the pupil is in need.", field="reason")
    updated = (
        Pupil.objects.filter(pk=pupil.pk)
        .exclude(in_need=in_need)
        .update(in_need=in_need, updated_at=timezone.now())
    )
    pupil.refresh_from_db()
    if updated:
        audit_record(
            actor=actor,
            action="pupil.in_need_set" if in_need else "pupil.in_need_cleared",
            subject=pupil,
            before={"in_need": not in_need},
            after={"in_need": in_need},
            note=reason.strip(),
        )
    return pupil


def _claim_duplicate(duplicate: FamilyDuplicate, status: str, actor: AbstractBaseUser) -> None:
    # A conditional update, so two leads deciding at once cannot both win.
    claimed = FamilyDuplicate.objects.filter(pk=duplicate.pk, status=FamilyDuplicate.Status.OPEN).update(
        status=status, decided_by=actor, decided_at=timezone.now()
    )
    if not claimed:
        raise ConflictError("Someone has already decided about these two families.")
    duplicate.refresh_from_db()


@transaction.atomic
def family_duplicate_keep_apart(
    *, duplicate: FamilyDuplicate, actor: AbstractBaseUser, note: str = ""
) -> None:
    _claim_duplicate(duplicate, FamilyDuplicate.Status.KEPT_APART, actor)
    audit_record(
        actor=actor,
        action="family.duplicate_kept_apart",
        subject=duplicate,
        after={"family_a": duplicate.family_a_id, "family_b": duplicate.family_b_id},
        note=note,
    )


@transaction.atomic
def family_duplicate_merge(
    *, duplicate: FamilyDuplicate, actor: AbstractBaseUser, keep: Family, note: str = ""
) -> Family:
    """Merge the pair into ``keep``: the other family's pupils move to it and it is marked merged."""
    if keep.pk not in (duplicate.family_a_id, duplicate.family_b_id):
        raise SupportError("Choose one of the two families to keep.", field="keep")
    source_id = duplicate.family_b_id if keep.pk == duplicate.family_a_id else duplicate.family_a_id
    _claim_duplicate(duplicate, FamilyDuplicate.Status.MERGED, actor)
    # Lock both families in primary-key order so a concurrent merge cannot deadlock with this one.
    locked = {
        f.pk: f for f in Family.objects.select_for_update().filter(pk__in=[keep.pk, source_id]).order_by("pk")
    }
    target, source = locked[keep.pk], locked[source_id]
    if source.merged_into_id or target.merged_into_id:
        raise ConflictError("One of these families has already been merged into another.")
    moved = list(Pupil.objects.filter(family=source).values_list("pk", flat=True))
    Pupil.objects.filter(family=source).update(family=target, updated_at=timezone.now())
    fill = {}
    for name in ("phone", "email", "address", "postcode", "dietary_needs"):
        if not getattr(target, name) and getattr(source, name):
            fill[name] = getattr(source, name)
    for name, value in fill.items():
        setattr(target, name, value)
    target.children = max(target.children, Pupil.objects.filter(family=target).count())
    target.save()
    source.merged_into = target
    source.save(update_fields=["merged_into", "updated_at"])
    # Other open pairs that involve the merged-away family are now moot.
    FamilyDuplicate.objects.filter(status=FamilyDuplicate.Status.OPEN).filter(family_a=source).update(
        status=FamilyDuplicate.Status.MERGED, decided_by=actor, decided_at=timezone.now()
    )
    FamilyDuplicate.objects.filter(status=FamilyDuplicate.Status.OPEN).filter(family_b=source).update(
        status=FamilyDuplicate.Status.MERGED, decided_by=actor, decided_at=timezone.now()
    )
    family_merged.send(sender=Family, source=source, target=target, actor=actor)
    audit_record(
        actor=actor,
        action="family.merged",
        subject=target,
        before={"source_family": source.pk},
        after={"pupils_moved": moved, "filled_in": fill},
        note=note,
    )
    return target
