"""A realistic, deterministic demo trust the size of a real one: twelve academies (seven primary, four
secondary, one alternative provision), about 6,500 pupils in about 4,000 families, roughly 30% eligible
for free school meals, one partner charity, and a year of the standby fund's history.

Everything is generated from a fixed seed, so two machines get the same trust. ``demo_seed`` does
nothing when the demo trust is already there. Rows are bulk-created in batches; the history's rows
carry the dates they happened (``explicit_timestamps``), not the moment the demo ran.
"""

import contextlib
import datetime
import random
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from stdnum.gb import upn as upn_module

from support.audit import audit_event, audit_record, audit_record_many
from support.dates import academic_year_start_for
from support.models import (
    ConsentMethod,
    Contact,
    Enrolment,
    Family,
    FamilyConsent,
    FamilyDuplicate,
    Membership,
    PartnerCharity,
    PartnerService,
    Phase,
    Policy,
    Pupil,
    Role,
    School,
    Service,
)
from support.models.rolls import main_rolls_create
from support.pupil_csv import normalise_name_key

DEMO_PASSWORD = "trust-demo-2026"
SEED = 20261123
LA_CODE = "926"

SCHOOLS = [
    ("Riverside Primary Academy", "140101", Phase.PRIMARY),
    ("Brookfield Primary Academy", "140102", Phase.PRIMARY),
    ("Hillcrest Primary Academy", "140103", Phase.PRIMARY),
    ("Meadowbank Primary Academy", "140104", Phase.PRIMARY),
    ("St Aidan's Primary Academy", "140105", Phase.PRIMARY),
    ("Oakwood Primary Academy", "140106", Phase.PRIMARY),
    ("Kingsmead Primary Academy", "140107", Phase.PRIMARY),
    ("Riverside Secondary Academy", "140201", Phase.SECONDARY),
    ("Northgate Academy", "140202", Phase.SECONDARY),
    ("Castle View Academy", "140203", Phase.SECONDARY),
    ("Willow Lane Academy", "140204", Phase.SECONDARY),
    ("The Bridge Alternative Provision Academy", "140301", Phase.ALTERNATIVE),
]
TARGET_PUPILS = 6500
FSM_SHARE = 0.30  # eligible for free school meals, as in this part of the West Midlands
# Rising rolls: Reception and Year 7 intakes a little larger than the years above them, so about 1,300
# pupils are entitled to a welcome pack.
YEAR_GROUP_WEIGHTS = [1.3 if year in (0, 7) else 1.0 for year in range(14)]
BATCH = 500

FORENAMES = (
    "Olivia Amelia Isla Ava Mia Ivy Lily Isabella Sophia Grace Freya Willow Florence Emily Ella Poppy Evie "
    "Aisha Maryam Zara Hannah Amira Fatima Priya Chloe Ruby Maya Sienna Harper Millie Noah Muhammad Oliver "
    "George Leo Arthur Oscar Harry Jack Charlie Jacob Freddie Alfie Theo Henry Thomas Archie Joshua Adam "
    "Yusuf Ibrahim Kai Reuben Daniel Samuel Mohammed Ethan Lucas Jayden Tyler Kacper Jakub Zofia Amelia-Rose"
).split()
SURNAMES = (
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker White "
    "Roberts Green Hall Wood Jackson Clarke Patel Khan Ahmed Hussain Ali Begum Singh Kaur Nowak Kowalski "
    "O'Brien Murphy Kelly Campbell Stewart Okafor Mensah Osei Adeyemi Nguyen Chen Wang Silva Santos "
    "Hughes Edwards Turner Hill Moore Cooper Ward Morris King Baker Harris Lewis Martin Scott Young"
).split()
CARER_FORENAMES = (
    "Sarah Emma Laura Rebecca Gemma Kirsty Nadia Samira Agnieszka Joanne Michelle Claire Stacey Leanne "
    "Amina Shabana Parveen Lisa Donna Natalie James Mark Paul Daniel Michael David Imran Tariq Piotr Wayne"
).split()
# Each school's designated safeguarding lead (and, at every other school, a deputy).
SAFEGUARDING_LEADS = ("Helen Marsh", "Tom Achebe", "Ruth Kowalski", "Imran Qureshi", "Grace Lindqvist")
DIETS = ["", "", "", "", "Halal", "Vegetarian", "Nut allergy", "Gluten free", "Diabetic", "Dairy free"]
STREETS = [
    "Mill Lane",
    "Church Street",
    "Station Road",
    "Park Avenue",
    "Victoria Road",
    "Canal Side",
    "Elm Grove",
    "Queen Street",
    "Orchard Close",
    "Market Place",
    "Bridge Street",
    "Meadow Way",
]


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: str
    schools: tuple[int, ...] = ()  # indexes into SCHOOLS
    partner: bool = False
    superuser: bool = False


USERS = [
    DemoUser("pastoral_a", "Priya", "Shah", Role.PASTORAL, schools=(0,)),
    DemoUser("lead_a", "Laura", "Bennett", Role.LEAD, schools=(0, 7)),
    DemoUser("pastoral_b", "Ben", "Adeyemi", Role.PASTORAL, schools=(1,)),
    DemoUser("lead_b", "Sam", "Okafor", Role.LEAD, schools=(1, 8)),
    DemoUser("finance", "Fiona", "Marsh", Role.FINANCE),
    DemoUser("charity", "Chris", "Doyle", Role.CHARITY, partner=True),
    DemoUser("admin", "Ada", "Moreton", Role.ADMIN, superuser=True),
    DemoUser("trustee", "Tom", "Ashworth", Role.TRUSTEE),
]


@contextlib.contextmanager
def explicit_timestamps(*models) -> Iterator[None]:
    """Let bulk_create keep the historic dates given, instead of auto_now / auto_now_add's 'now'."""
    saved = []
    for model in models:
        for field in model._meta.concrete_fields:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                saved.append((field, field.auto_now, field.auto_now_add))
                field.auto_now = field.auto_now_add = False
    try:
        yield
    finally:
        for field, auto_now, auto_now_add in saved:
            field.auto_now, field.auto_now_add = auto_now, auto_now_add


def at_local(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """``day`` at ``hour``:``minute`` in the trust's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def demo_exists() -> bool:
    return School.objects.filter(urn__in=[urn for _, urn, _ in SCHOOLS]).count() == len(SCHOOLS)


def _consents_create(rng: random.Random, partner: PartnerCharity, given: list[tuple[Family, datetime.date]]):
    """Consent to share with the demo's partner, recorded by a pastoral member of staff; about one in
    twelve migrated from the old single consent box, waiting for a lead to confirm it with the family."""
    staff = get_user_model().objects.get(username="pastoral_a")
    methods = (
        [ConsentMethod.IN_PERSON] * 5 + [ConsentMethod.PHONE] * 3 + [ConsentMethod.PAPER, ConsentMethod.EMAIL]
    )
    now = timezone.now()
    rows = []
    for family, given_on in given:
        migrated = rng.random() < 1 / 12
        rows.append(
            FamilyConsent(
                family=family,
                partner=partner,
                given_on=given_on,
                method=ConsentMethod.MIGRATED if migrated else rng.choice(methods),
                recorded_by=None if migrated else staff,
                recorded_at=now,
                migrated=migrated,
            )
        )
    FamilyConsent.objects.bulk_create(rows, batch_size=BATCH)


_DEMO_LANGUAGES = ("pl", "ur", "pa", "ro", "ar")


def _demo_language(number: int) -> dict[str, str]:
    """About one family in nine with a language we translate into, one in forty with another one."""
    if number % 40 == 39:
        return {"language": "other", "language_noted": "Somali"}
    if number % 9 == 4:
        return {"language": _DEMO_LANGUAGES[(number // 9) % len(_DEMO_LANGUAGES)], "language_noted": ""}
    return {}


def _upn(school_index: int, admitted: int, serial: int) -> str:
    body = f"{LA_CODE}{2000 + school_index:04d}{admitted % 100:02d}{serial:03d}"
    return upn_module.calc_check_digit(body) + body


def _date_of_birth(rng: random.Random, year_group: int, academic_year_start: int) -> datetime.date:
    # Year N is born between 1 Sep of (start - N - 5) and 31 Aug of (start - N - 4).
    first = datetime.date(academic_year_start - year_group - 5, 9, 1)
    return first + datetime.timedelta(days=rng.randrange(365))


def _former_pupils(pupils: list[Pupil], *, start: int) -> None:
    """Some households moved away last summer (all their pupils left: former pupils, kept until the
    retention period after leaving has passed), and some older siblings left after Year 11 while a
    younger one stays (the family page shows them as "Left"). Families with free school meals or in
    need are left alone, so the year's vouchers go to households still on roll."""
    rng = random.Random(SEED + 20)  # its own sequence: the rest of the demo is unchanged
    by_family: dict[int, list[Pupil]] = {}
    for pupil in pupils:
        by_family.setdefault(pupil.family_id, []).append(pupil)
    quiet = [kids for kids in by_family.values() if not any(p.fsm or p.in_need for p in kids)]
    moved = rng.sample(quiet, 40)
    left_on = datetime.date(start, 7, 18)
    leavers = [pupil.pk for kids in moved for pupil in kids]
    leavers += [
        max(kids, key=lambda p: p.year_group).pk
        for kids in rng.sample([k for k in quiet if len(k) > 1 and k not in moved], 40)
    ]
    Enrolment.objects.filter(pupil_id__in=leavers).update(
        joined=datetime.date(start - 3, 9, 1), left_on=left_on
    )


@transaction.atomic
def demo_seed(*, today: datetime.date | None = None) -> dict[str, int]:
    """Build the demo trust. Returns counts; all zeros when it already existed (nothing changes)."""
    if demo_exists():
        return {"schools": 0, "families": 0, "pupils": 0, "users": 0}
    today = today or timezone.localdate()
    start = academic_year_start_for(today)
    rng = random.Random(SEED)
    Policy.current()

    schools = [
        School.objects.create(
            name=name,
            urn=urn,
            phase=phase,
            address=f"{rng.choice(STREETS)}, Riverton",
            phone=f"0113 496 0{100 + i:03d}",  # schools: as printed, not E.164
            email=f"office@{urn}.school.example",
            # Fixed names, not drawn from rng, so the rest of the seeded demo stays as documented.
            safeguarding_lead=SAFEGUARDING_LEADS[i % len(SAFEGUARDING_LEADS)],
            safeguarding_deputy=SAFEGUARDING_LEADS[(i + 3) % len(SAFEGUARDING_LEADS)] if i % 2 == 0 else "",
        )
        for i, (name, urn, phase) in enumerate(SCHOOLS)
    ]
    primaries = [s for s in schools if s.phase == Phase.PRIMARY]
    secondaries = [s for s in schools if s.phase == Phase.SECONDARY]
    ap = next(s for s in schools if s.phase == Phase.ALTERNATIVE)

    partner = PartnerCharity.objects.create(
        name="Riverton Community Pantry",
        address="The Old Chapel, 4 Wharf Street, Riverton",
        postcode="RV1 2QP",
        phone="0113 496 0999",
        email="counter@pantry.example",
        opening_times="Monday to Friday 10:00–15:00\nSaturday 10:00–12:00",
    )
    for service, description in [
        (Service.FOOD_PARCEL, "A week's food for the household, with toiletries"),
        (Service.WHITE_GOODS, "A reconditioned cooker, fridge or washing machine, delivered"),
        (Service.FURNITURE, "Beds, tables and sofas from the furniture store"),
    ]:
        PartnerService.objects.create(partner=partner, service=service, description=description)

    families: list[Family] = []
    consented: dict[int, datetime.date] = {}  # id(family) -> the day the carer agreed to share
    pupils: list[Pupil] = []
    serials: dict[tuple[int, int], int] = {}
    school_index = {school.pk: i for i, school in enumerate(schools)}

    def place(year_group: int, home_primary: School, home_secondary: School) -> School:
        if year_group >= 7:
            return ap if rng.random() < 0.012 else home_secondary
        return home_primary

    while len(pupils) < TARGET_PUPILS:
        surname = rng.choice(SURNAMES)
        carer = f"{rng.choice(CARER_FORENAMES)} {surname}"
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        postcode = f"RV{rng.randint(1, 9)} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"
        number = len(families)
        consent = rng.random() < 0.7
        family = Family(
            lead_carer_name=carer,
            carer_name_key=normalise_name_key(carer),
            phone=f"+441214960{number % 1000:03d}" if rng.random() < 0.9 else "",
            email=f"{carer.lower().replace(' ', '.').replace(chr(39), '')}{number}@mail.example",
            address=f"{rng.randint(1, 120)} {rng.choice(STREETS)}, Riverton",
            postcode=postcode,
            adults=rng.choice([1, 1, 2, 2, 2, 3]),
            children=0,
            dietary_needs=rng.choice(DIETS),
            # Some families get what they receive in their own language too (by number, not the random
            # stream, so the rest of the demo stays as it was): each language several times over.
            **_demo_language(number),
        )
        families.append(family)
        if consent:
            consented[id(family)] = today - datetime.timedelta(days=rng.randrange(30, 700))
        home_primary, home_secondary = rng.choice(primaries), rng.choice(secondaries)
        kids = rng.choices([1, 2, 3, 4], weights=[52, 32, 12, 4])[0]
        fsm = rng.random() < FSM_SHARE
        for _ in range(kids):
            year_group = rng.choices(range(14), weights=YEAR_GROUP_WEIGHTS)[0]
            school = place(year_group, home_primary, home_secondary)
            if year_group >= 12 and rng.random() < 0.6:
                continue  # many leave at 16; keep the sixth forms smaller
            admitted = start - (year_group - (7 if year_group >= 7 else 0))
            key = (school_index[school.pk], admitted)
            serials[key] = serials.get(key, 0) + 1
            forename = rng.choice(FORENAMES)
            pupils.append(
                Pupil(
                    upn=_upn(key[0], admitted, serials[key]),
                    legal_forename=forename,
                    preferred_forename="",
                    surname=surname,
                    date_of_birth=_date_of_birth(rng, year_group, start),
                    year_group=year_group,
                    school=school,
                    family=family,
                    fsm=fsm,
                    # Deterministic (no draw from rng), so the rest of the seeded demo stays as documented.
                    fsm_start=datetime.date(start - year_group % 4, 9, 1) if fsm else None,
                    uifsm=year_group <= 2,
                    service_child=serials[key] % 61 == 0,
                    pupil_premium=fsm or rng.random() < 0.05,
                    in_need=rng.random() < (0.2 if fsm else 0.03),
                    sis_family_ref=f"F{number:05d}",
                )
            )
            family.children += 1
        if family.children == 0:
            families.pop()
    Family.objects.bulk_create(families, batch_size=BATCH)
    for pupil in pupils:
        pupil.family_id = pupil.family.pk
    Pupil.objects.bulk_create(pupils, batch_size=BATCH)
    main_rolls_create(pupils, joined=datetime.date(start, 9, 1))
    _former_pupils(pupils, start=start)

    # A few households recorded twice, as imports from two schools leave them, for a lead to decide.
    duplicates = []
    for family in rng.sample(families, 6):
        first_pupil = next(p for p in pupils if p.family_id == family.pk)
        twin = Family.objects.create(
            lead_carer_name=family.lead_carer_name,
            carer_name_key=family.carer_name_key,
            postcode=family.postcode,
            phone=family.phone,
            adults=family.adults,
            children=1,
        )
        other_school = schools[1] if first_pupil.school_id != schools[1].pk else schools[0]
        year_group = rng.randint(0, 6)
        pupils.append(
            Pupil.objects.create(
                upn=_upn(school_index[other_school.pk], start - year_group, 900 + len(duplicates)),
                legal_forename=rng.choice(FORENAMES),
                surname=first_pupil.surname,
                date_of_birth=_date_of_birth(rng, year_group, start),
                year_group=year_group,
                school=other_school,
                family=twin,
            )
        )
        low, high = sorted((family.pk, twin.pk))
        duplicates.append(
            FamilyDuplicate(family_a_id=low, family_b_id=high, reason="Same carer name and postcode")
        )
    FamilyDuplicate.objects.bulk_create(duplicates)

    User = get_user_model()
    for spec in USERS:
        user = User.objects.create_user(
            username=spec.username,
            password=DEMO_PASSWORD,
            first_name=spec.first_name,
            last_name=spec.last_name,
            email=f"{spec.username}@trust.example",
            is_staff=spec.superuser,
            is_superuser=spec.superuser,
        )
        membership = Membership.objects.create(
            user=user, role=spec.role, partner=partner if spec.partner else None
        )
        membership.schools.set([schools[i] for i in spec.schools])

    _consents_create(rng, partner, [(f, consented[id(f)]) for f in families if id(f) in consented])

    events = [
        audit_event(actor=None, action="family.created", subject=f, after={"source": "demo"})
        for f in families
    ]
    events += [
        audit_event(actor=None, action="pupil.created", subject=p, after={"source": "demo"}) for p in pupils
    ]
    _school_staff(schools)
    events += _demo_contacts(families, school=schools[0])
    audit_record_many(events)
    counts = {
        "schools": len(schools),
        "families": Family.objects.count(),
        "pupils": len(pupils),
        "users": len(USERS),
    }
    audit_record(actor=None, action="demo.seeded", after=counts)
    return counts


def _demo_contacts(families: list[Family], *, school: School) -> list:
    """A few households at the first school with contacts: a father under a court order, a grandparent
    without parental responsibility; the lead carer first, so vouchers still go to them. A generator of
    its own, so the rest of the seeded demo stays as documented."""
    rng = random.Random(SEED + 20)
    here = sorted({p.family_id for p in Pupil.objects.filter(school=school)})
    chosen = [f for f in families if f.pk in set(rng.sample(here, min(6, len(here))))]
    contacts = []
    for index, family in enumerate(chosen):
        surname = family.lead_carer_name.split()[-1]
        contacts.append(
            Contact(
                family=family, name=family.lead_carer_name, relationship="Mother", priority=1,
                parental_responsibility=True, lives_with_pupil=True, phone=family.phone, email=family.email,
            )
        )  # fmt: skip
        if index % 2 == 0:
            contacts.append(
                Contact(
                    family=family, name=f"{rng.choice(FORENAMES)} {surname}", relationship="Father",
                    priority=2, parental_responsibility=True, phone=f"+44740012{index:04d}",
                    email=f"father{index}@mail.example", restriction=Contact.Restriction.COURT_ORDER,
                    restriction_note="Prohibited steps order: no information to the father",
                )
            )  # fmt: skip
        else:
            contacts.append(
                Contact(
                    family=family, name=f"{rng.choice(CARER_FORENAMES)} {surname}",
                    relationship="Grandparent", priority=2, parental_responsibility=False,
                    lives_with_pupil=index % 3 == 0,
                )
            )  # fmt: skip
    Contact.objects.bulk_create(contacts)
    events = [
        audit_event(actor=None, action="contact.created", subject=c, after={"source": "demo"})
        for c in contacts
    ]
    events += [
        audit_event(
            actor=None,
            action="contact.restriction_changed",
            subject=c,
            before={"restriction": "none"},
            after={"restriction": c.restriction, "restriction_note": c.restriction_note},
        )
        for c in contacts
        if c.is_restricted
    ]
    return events


def _school_staff(schools: list[School]) -> None:
    """A pastoral member of staff at each academy (no password: they cannot sign in), in whose name the
    history's vouchers were issued."""
    User = get_user_model()
    for school in schools:
        user = User(username=f"staff_{school.urn}", first_name="Pastoral", last_name=school.name)
        user.set_unusable_password()
        user.save()
        Membership.objects.create(user=user, role=Role.PASTORAL).schools.set([school])


def school_staff(school_id: int):
    """The user the demo's history issues a school's vouchers as: its pastoral staff member, else lead_a."""
    User = get_user_model()
    urn = School.objects.filter(pk=school_id).values_list("urn", flat=True).first()
    return User.objects.filter(username=f"staff_{urn}").first() or User.objects.get(username="lead_a")
