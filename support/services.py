"""Use cases of the support core. Views, the API, the admin and commands call these; none hold a rule."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from support import selectors
from support.audit import audit_record, changed, snapshot
from support.errors import ConflictError, SupportError
from support.languages import FamilyLanguage
from support.merges import merge_handlers_run
from support.models import Family, FamilyDuplicate, Pupil
from support.models.families import HOUSEHOLD_MAX_ADULTS, HOUSEHOLD_MAX_CHILDREN
from support.pupil_csv import normalise_name_key, normalise_phone, normalise_postcode
from support.safeguarding import note_clean

FAMILY_EDITABLE = (
    "lead_carer_name",
    "phone",
    "email",
    "address",
    "postcode",
    "adults",
    "children",
    "dietary_needs",
    "language",
)


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
    if "language" in cleaned:
        cleaned["language"] = cleaned["language"] or ""
        if cleaned["language"] not in FamilyLanguage.values:
            raise SupportError("Choose a language from the list.", field="language")
        if cleaned["language"] != FamilyLanguage.OTHER:
            # The export's words for a language we could not name are no longer needed.
            cleaned["language_noted"] = ""
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
def pupil_set_in_need(*, pupil: Pupil, actor: AbstractBaseUser, in_need: bool, reason: str = "") -> Pupil:
    """Flag (or clear) a pupil as in need. The short reason goes to the audit log only; concerns about the
    child's safety go to the school's safeguarding lead, never here."""
    reason = note_clean(reason, field="reason")
    if in_need and not reason:
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
            note=reason,
        )
    return pupil


def _claim_duplicate(
    duplicate: FamilyDuplicate,
    status: str,
    actor: AbstractBaseUser,
    *,
    from_status: str = FamilyDuplicate.Status.OPEN,
    **extra,
) -> None:
    # A conditional update, so two leads deciding at once cannot both win.
    claimed = FamilyDuplicate.objects.filter(pk=duplicate.pk, status=from_status).update(
        status=status, decided_by=actor, decided_at=timezone.now(), **extra
    )
    if not claimed:
        raise ConflictError("Someone has already decided about these two families.")
    duplicate.refresh_from_db()


def _clean_note(note: str) -> str:
    return note_clean(note, field="note")


def _require_speaks_for_one(duplicate: FamilyDuplicate, actor: AbstractBaseUser) -> set[int]:
    speaks = selectors.families_spoken_for(actor, [duplicate.family_a_id, duplicate.family_b_id])
    if not speaks:
        raise SupportError(
            "Only a lead of one of these families' schools can decide about them.", code="forbidden"
        )
    return speaks


@transaction.atomic
def family_duplicate_keep_apart(
    *, duplicate: FamilyDuplicate, actor: AbstractBaseUser, note: str = ""
) -> None:
    """Either side's lead may say two records are different households; keeping apart shows nothing."""
    note = _clean_note(note)
    _require_speaks_for_one(duplicate, actor)
    _claim_duplicate(duplicate, FamilyDuplicate.Status.KEPT_APART, actor)
    audit_record(
        actor=actor,
        action="family.duplicate_kept_apart",
        subject=duplicate,
        after={"family_a": duplicate.family_a_id, "family_b": duplicate.family_b_id},
        note=note,
    )


def _keep_and_source(duplicate: FamilyDuplicate, keep: Family) -> int:
    if keep.pk not in (duplicate.family_a_id, duplicate.family_b_id):
        raise SupportError("Choose one of the two families to keep.", field="keep")
    return duplicate.family_b_id if keep.pk == duplicate.family_a_id else duplicate.family_a_id


@transaction.atomic
def family_duplicate_decide_merge(
    *, duplicate: FamilyDuplicate, actor: AbstractBaseUser, keep: Family, note: str = ""
) -> Family | None:
    """A lead chooses to merge: at once when they speak for both families, otherwise as a request.

    Returns the kept family when merged, ``None`` when the merge waits for the other school's agreement.
    """
    _keep_and_source(duplicate, keep)
    speaks = _require_speaks_for_one(duplicate, actor)
    if len(speaks) == 2:
        return family_duplicate_merge(duplicate=duplicate, actor=actor, keep=keep, note=note)
    family_duplicate_request_merge(duplicate=duplicate, actor=actor, keep=keep, note=note)
    return None


@transaction.atomic
def family_duplicate_request_merge(
    *, duplicate: FamilyDuplicate, actor: AbstractBaseUser, keep: Family, note: str = ""
) -> FamilyDuplicate:
    """Ask a lead of the other family's school to agree to a merge. Nothing is shown or moved yet."""
    _keep_and_source(duplicate, keep)
    speaks = _require_speaks_for_one(duplicate, actor)
    if len(speaks) == 2:
        raise SupportError("You can merge these families yourself.", code="conflict")
    other = duplicate.family_b_id if duplicate.family_a_id in speaks else duplicate.family_a_id
    note = _clean_note(note)
    claimed = FamilyDuplicate.objects.filter(pk=duplicate.pk, status=FamilyDuplicate.Status.OPEN).update(
        status=FamilyDuplicate.Status.REQUESTED,
        requested_by=actor,
        requested_at=timezone.now(),
        requested_keep=keep,
        agreement_from_id=other,
        request_note=note,
    )
    if not claimed:
        raise ConflictError("Someone has already decided about these two families.")
    duplicate.refresh_from_db()
    audit_record(
        actor=actor,
        action="family.merge_requested",
        subject=duplicate,
        after={"keep": keep.pk, "agreement_from": other},
        note=note,
    )
    return duplicate


def _require_agreer(duplicate: FamilyDuplicate, actor: AbstractBaseUser) -> None:
    if duplicate.status != FamilyDuplicate.Status.REQUESTED:
        raise ConflictError("Someone has already decided about these two families.")
    speaks = selectors.families_spoken_for(actor, [duplicate.agreement_from_id])
    if actor.pk == duplicate.requested_by_id or duplicate.agreement_from_id not in speaks:
        raise SupportError("A lead of the other family's school must agree to this merge.", code="forbidden")


@transaction.atomic
def family_duplicate_agree(*, duplicate: FamilyDuplicate, actor: AbstractBaseUser, note: str = "") -> Family:
    """A lead of the other family's school (or an admin) agrees: the pair merges as the request said."""
    note = _clean_note(note)
    _require_agreer(duplicate, actor)
    audit_record(
        actor=actor,
        action="family.merge_agreed",
        subject=duplicate,
        after={"requested_by": duplicate.requested_by_id, "keep": duplicate.requested_keep_id},
        note=note,
    )
    return _merge(
        duplicate=duplicate,
        actor=actor,
        keep=duplicate.requested_keep,
        note=note,
        from_status=FamilyDuplicate.Status.REQUESTED,
    )


@transaction.atomic
def family_duplicate_refuse(*, duplicate: FamilyDuplicate, actor: AbstractBaseUser, note: str = "") -> None:
    """A lead of the other family's school (or an admin) refuses: the records stay apart, not asked again."""
    note = _clean_note(note)
    _require_agreer(duplicate, actor)
    _claim_duplicate(
        duplicate, FamilyDuplicate.Status.REFUSED, actor, from_status=FamilyDuplicate.Status.REQUESTED
    )
    audit_record(
        actor=actor,
        action="family.merge_refused",
        subject=duplicate,
        after={"requested_by": duplicate.requested_by_id},
        note=note,
    )


@transaction.atomic
def family_duplicate_merge(
    *, duplicate: FamilyDuplicate, actor: AbstractBaseUser, keep: Family, note: str = ""
) -> Family:
    """Merge the pair into ``keep`` at once: only for an actor who speaks for both families."""
    note = _clean_note(note)
    _keep_and_source(duplicate, keep)
    if len(selectors.families_spoken_for(actor, [duplicate.family_a_id, duplicate.family_b_id])) < 2:
        raise SupportError(
            "A lead of the other family's school must agree before these families merge.", code="forbidden"
        )
    return _merge(duplicate=duplicate, actor=actor, keep=keep, note=note)


def _merge(
    *,
    duplicate: FamilyDuplicate,
    actor: AbstractBaseUser,
    keep: Family,
    note: str,
    from_status: str = FamilyDuplicate.Status.OPEN,
) -> Family:
    """The other family's records move to ``keep`` (every registered merge handler); it is marked merged."""
    source_id = _keep_and_source(duplicate, keep)
    _claim_duplicate(duplicate, FamilyDuplicate.Status.MERGED, actor, from_status=from_status)
    # Lock both families in primary-key order so a concurrent merge cannot deadlock with this one.
    locked = {
        f.pk: f for f in Family.objects.select_for_update().filter(pk__in=[keep.pk, source_id]).order_by("pk")
    }
    target, source = locked[keep.pk], locked[source_id]
    if source.merged_into_id or target.merged_into_id:
        raise ConflictError("One of these families has already been merged into another.")
    moved = merge_handlers_run(source=source, target=target, actor=actor)
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
    audit_record(
        actor=actor,
        action="family.merged",
        subject=target,
        before={"source_family": source.pk},
        after={"moved": moved, "filled_in": fill},
        note=note,
    )
    return target
