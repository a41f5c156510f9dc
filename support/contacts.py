"""A family's contacts: who has parental responsibility, who lives with the pupil, who must not be told.

The rule, through every door: nothing is sent to, printed for or shown about a pupil to a contact
without parental responsibility or under a restriction (court order, no contact, other). A voucher
names and is sent to an *allowed* contact only (``family_recipient``); when a family has contacts and
none is allowed, nothing is sent and no voucher is issued. A family recorded by hand with no contacts at
all is reached at its lead carer's details, which staff entered as the person to contact; once any
contact is recorded (by hand or by an import), only allowed contacts are used.

An address (e-mail or phone) that a barred contact also holds is never used, even when an allowed
contact shares it: a shared inbox reaches the barred parent too. Every change is audited with before
and after; a change of restriction is its own audited action.
"""

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from support.audit import audit_event, audit_record, audit_record_many, changed, snapshot
from support.errors import SupportError
from support.hot_queries import hot_query
from support.models import AuditEvent, Contact, Family
from support.pupil_csv import normalise_phone

CONTACT_EDITABLE = (
    "name",
    "relationship",
    "priority",
    "parental_responsibility",
    "lives_with_pupil",
    "phone",
    "email",
    "restriction",
    "restriction_note",
)
RESTRICTION_FIELDS = ("restriction", "restriction_note")
EMAIL, SMS = "email", "sms"  # the channels of vouchers.models.Delivery (the core never imports it)


@dataclass(frozen=True)
class Recipient:
    """Who a voucher names and where it goes: an allowed contact, or the household's lead carer."""

    name: str
    email: str
    phone: str
    contact: Contact | None = None

    def address(self, channel: str) -> str:
        return {EMAIL: self.email, SMS: self.phone}.get(channel, "")


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(fields)
    for name in ("name", "relationship", "restriction_note", "email"):
        if name in cleaned:
            cleaned[name] = " ".join(str(cleaned[name] or "").split())
            limit = Contact._meta.get_field(name).max_length
            if len(cleaned[name]) > limit:
                raise SupportError(f"Shorten this to at most {limit} characters.", field=name)
    if "name" in cleaned and not cleaned["name"]:
        raise SupportError("Enter the contact's name.", field="name")
    if cleaned.get("email"):
        cleaned["email"] = cleaned["email"].lower()
    if cleaned.get("phone"):
        phone = normalise_phone(str(cleaned["phone"]))
        if phone is None:
            raise SupportError("Enter a UK phone number, like 07700 900123", field="phone")
        cleaned["phone"] = phone
    if "priority" in cleaned and not 1 <= int(cleaned["priority"]) <= 99:
        raise SupportError("Enter a priority from 1 to 99.", field="priority")
    if "restriction" in cleaned and cleaned["restriction"] not in Contact.Restriction.values:
        raise SupportError("Choose a restriction, or none.", field="restriction")
    return cleaned


def _check_restriction_note(contact: Contact) -> None:
    if contact.restriction == Contact.Restriction.OTHER and not contact.restriction_note:
        raise SupportError("Say briefly what the restriction is.", field="restriction_note")
    if contact.restriction == Contact.Restriction.NONE:
        contact.restriction_note = ""


def _audit_change_events(
    *, contact: Contact, actor: AbstractBaseUser | None, before: dict, after: dict, events: list[AuditEvent]
) -> None:
    old, new = changed(before, after)
    restriction = {k for k in new if k in RESTRICTION_FIELDS}
    others = set(new) - restriction
    for action, keys in (("contact.restriction_changed", restriction), ("contact.updated", others)):
        if keys:
            events.append(
                audit_event(
                    actor=actor,
                    action=action,
                    subject=contact,
                    before={k: old[k] for k in keys},
                    after={k: new[k] for k in keys},
                )
            )


def _audit_change(*, contact: Contact, actor: AbstractBaseUser | None, before: dict, after: dict) -> None:
    events: list[AuditEvent] = []
    _audit_change_events(contact=contact, actor=actor, before=before, after=after, events=events)
    audit_record_many(events)


@transaction.atomic
def contact_create(*, family: Family, actor: AbstractBaseUser | None, **fields: Any) -> Contact:
    """Add a contact to ``family`` (audited, with any restriction as its own event)."""
    unknown = set(fields) - set(CONTACT_EDITABLE)
    if unknown:
        raise TypeError(f"contact_create cannot set {sorted(unknown)}")
    fields = _clean(fields)
    if "priority" not in fields:
        fields["priority"] = Contact.objects.filter(family=family).count() + 1
    contact = Contact(family=family, created_by=actor, updated_by=actor, **fields)
    _check_restriction_note(contact)
    contact.save()
    after = snapshot(contact, CONTACT_EDITABLE)
    audit_record(
        actor=actor,
        action="contact.created",
        subject=contact,
        after={"family": family.pk, **{k: v for k, v in after.items() if k not in RESTRICTION_FIELDS}},
    )
    if contact.is_restricted:
        audit_record(
            actor=actor,
            action="contact.restriction_changed",
            subject=contact,
            before={"restriction": Contact.Restriction.NONE, "restriction_note": ""},
            after=snapshot(contact, RESTRICTION_FIELDS),
        )
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, actor: AbstractBaseUser | None, **fields: Any) -> Contact:
    """Change a contact; a change of restriction is audited as its own action, with before and after."""
    unknown = set(fields) - set(CONTACT_EDITABLE)
    if unknown:
        raise TypeError(f"contact_update cannot change {sorted(unknown)}")
    fields = _clean(fields)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    before = snapshot(contact, CONTACT_EDITABLE)
    for name, value in fields.items():
        setattr(contact, name, value)
    _check_restriction_note(contact)
    after = snapshot(contact, CONTACT_EDITABLE)
    if before != after:
        contact.updated_by = actor if actor is not None and actor.is_authenticated else None
        contact.save()
        _audit_change(contact=contact, actor=actor, before=before, after=after)
    return contact


def contacts_of(family: Family | int) -> QuerySet[Contact]:
    """The family's contacts in priority order (school staff only: see the visibility table)."""
    return Contact.objects.filter(family=family).order_by("priority", "pk")


@hot_query
def _contacts(family_id: int) -> QuerySet[Contact]:
    """``contacts_of``, compiled once per connection (support.hot_queries): every voucher issued reads it."""
    return contacts_of(family_id)


def _barred(contacts: list[Contact]) -> tuple[set[str], set[str]]:
    barred = [c for c in contacts if not c.is_allowed]
    return {c.email.lower() for c in barred if c.email}, {c.phone for c in barred if c.phone}


def family_recipient(family: Family, *, channel: str | None = None) -> Recipient | None:
    """Who a voucher for ``family`` names and goes to; None when no one may be told.

    With ``channel``, the first allowed contact with a usable address for it (one no barred contact
    shares); without, the first allowed contact. A family with no contacts recorded: its lead carer.
    """
    contacts = _contacts(family.pk)
    if not contacts:
        return Recipient(name=family.lead_carer_name, email=family.email, phone=family.phone)
    emails, phones = _barred(contacts)
    for contact in contacts:
        if not contact.is_allowed:
            continue
        recipient = Recipient(
            name=contact.name,
            email="" if contact.email.lower() in emails else contact.email,
            phone="" if contact.phone in phones else contact.phone,
            contact=contact,
        )
        if channel is None or recipient.address(channel):
            return recipient
    return None


def family_recipient_address(family: Family, channel: str) -> str:
    """The address a message about ``family``'s pupil may go to by ``channel``, "" when none may."""
    recipient = family_recipient(family, channel=channel)
    return recipient.address(channel) if recipient is not None else ""


def address_is_barred(family: Family, channel: str, address: str) -> bool:
    """Does a contact without parental responsibility or under a restriction hold ``address``?"""
    emails, phones = _barred(list(contacts_of(family)))
    return (address.lower() in emails) if channel == EMAIL else (address in phones)


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def barred_names(family_ids: list[int]) -> set[tuple[int, str]]:
    """(family id, name key) of every contact of these families who must not be named: one query."""
    rows = Contact.objects.filter(family_id__in=family_ids).filter(
        Q(parental_responsibility=False) | ~Q(restriction=Contact.Restriction.NONE)
    )
    return {(family_id, _name_key(name)) for family_id, name in rows.values_list("family_id", "name")}


def name_is_barred(family_id: int, name: str, barred: set[tuple[int, str]]) -> bool:
    """Is ``name`` (as printed on a voucher) a barred contact's, in ``barred_names``' answer?"""
    return (family_id, _name_key(name)) in barred


# --- The pupil import ----------------------------------------------------------------------------

IMPORTED = ("relationship", "priority", "parental_responsibility", "lives_with_pupil", "phone", "email")
IMPORT_NOTE = "From the school's information system"


def contacts_import(
    *, rows: dict[int, Any], actor: AbstractBaseUser | None, events: list[AuditEvent]
) -> None:
    """Keep each family's contacts in step with the export (``rows``: family id -> a ``PupilRow`` whose
    ``contacts`` the file lists); bounded queries, audit events appended to ``events`` (the import
    writes them with its own).

    A contact is matched by name; the file's relationship, priority, parental responsibility and
    living arrangement replace ours, its telephone and e-mail when given. A restriction in the file is
    added; one the file does not show is never lifted here: only staff lift a restriction (audited).
    Contacts the file does not list are left alone."""
    if not rows:
        return
    user = actor if actor is not None and actor.is_authenticated else None
    ids = sorted(rows)
    existing: dict[int, dict[str, Contact]] = defaultdict(dict)
    for start in range(0, len(ids), 900):
        for contact in Contact.objects.filter(family_id__in=ids[start : start + 900]).order_by("pk"):
            existing[contact.family_id].setdefault(_name_key(contact.name), contact)
    created: list[Contact] = []
    updated: list[Contact] = []
    now = timezone.now()
    for family_id in ids:
        for item in rows[family_id].contacts:
            key = _name_key(item.name)
            values = {name: getattr(item, name) for name in IMPORTED}
            contact = existing[family_id].get(key)
            if contact is None:
                contact = Contact(
                    family_id=family_id,
                    name=item.name,
                    restriction=item.restriction,
                    restriction_note=IMPORT_NOTE if item.restriction != Contact.Restriction.NONE else "",
                    created_by=user,
                    updated_by=user,
                    **values,
                )
                existing[family_id][key] = contact
                created.append(contact)
                continue
            if contact.pk is None:
                continue  # the same contact listed again (a sibling's row)
            before = snapshot(contact, CONTACT_EDITABLE)
            for name, value in values.items():
                if name in ("phone", "email") and not value:
                    continue  # a blank in the file does not erase what staff recorded
                setattr(contact, name, value)
            if item.restriction != Contact.Restriction.NONE and not contact.is_restricted:
                contact.restriction, contact.restriction_note = item.restriction, IMPORT_NOTE
            after = snapshot(contact, CONTACT_EDITABLE)
            if before != after:
                contact.updated_by, contact.updated_at = user, now
                updated.append(contact)
                _audit_change_events(contact=contact, actor=actor, before=before, after=after, events=events)
    Contact.objects.bulk_create(created, batch_size=500)
    Contact.objects.bulk_update(updated, [*CONTACT_EDITABLE, "updated_by", "updated_at"], batch_size=500)
    for contact in created:
        after = snapshot(contact, CONTACT_EDITABLE)
        events.append(
            audit_event(
                actor=actor,
                action="contact.created",
                subject=contact,
                after={
                    "family": contact.family_id,
                    "source": "import",
                    **{k: v for k, v in after.items() if k not in RESTRICTION_FIELDS},
                },
            )
        )
        if contact.is_restricted:
            events.append(
                audit_event(
                    actor=actor,
                    action="contact.restriction_changed",
                    subject=contact,
                    before={"restriction": Contact.Restriction.NONE, "restriction_note": ""},
                    after=snapshot(contact, RESTRICTION_FIELDS),
                    note="import",
                )
            )


# --- Merges and data rights (registered from SupportConfig.ready) -------------------------------


def _move_contacts(*, source: Family, target: Family, actor: AbstractBaseUser | None) -> dict[str, Any]:
    # The kept family's contacts come first; the merged family's follow in their own order.
    moved = list(Contact.objects.filter(family=source).order_by("priority", "pk"))
    offset = max((c.priority for c in contacts_of(target)), default=0)
    for index, contact in enumerate(moved, start=1):
        Contact.objects.filter(pk=contact.pk).update(family=target, priority=min(offset + index, 99))
    return {"contacts_moved": [c.pk for c in moved]}


def _collect(family: Family) -> list[dict[str, Any]]:
    from support.data_rights import iso, username

    return [
        {
            **{name: iso(getattr(c, name)) for name in CONTACT_EDITABLE},
            "created_at": iso(c.created_at),
            "created_by": username(c.created_by),
            "updated_at": iso(c.updated_at),
            "updated_by": username(c.updated_by),
        }
        for c in contacts_of(family).select_related("created_by", "updated_by")
    ]


def _anonymise(family: Family) -> int:
    # Nothing about a contact is kept past retention: the rows go (their audit events are redacted).
    deleted, _ = Contact.objects.filter(family=family).delete()
    return deleted


def _audit_subjects(family: Family) -> list[tuple[type, list]]:
    return [(Contact, list(Contact.objects.filter(family=family).values_list("pk", flat=True)))]


def register_contacts() -> None:
    from support.data_rights import register_subject_access_section
    from support.merges import register_merge_handler
    from support.visibility import SCHOOL_STAFF, register_fields

    register_merge_handler("contacts", covers=("support.Contact.family",), move=_move_contacts)
    register_subject_access_section(
        "contacts", _collect, anonymise=_anonymise, audit_subjects=_audit_subjects
    )
    # Contacts and their restrictions are school staff's business only (trust admins see everything).
    fields = (
        "id", "family", *CONTACT_EDITABLE, "is_restricted", "is_allowed", "created_at", "updated_at",
        "created_by", "updated_by",
    )  # fmt: skip
    register_fields(Contact, dict.fromkeys(fields, SCHOOL_STAFF))
