"""One shared world for the access matrix: built once per module, rolled back at its end.

Two schools, two charities, and on each side a family, vouchers, a redemption, a statement, uniform
items, gifts, requests, an import and a likely duplicate. Each side's objects carry markers (a
surname, a partner name, an item, voucher codes) found nowhere on the other side, so a leak shows up
as a marker in the bytes of an answer.

The world lives in an outer transaction opened here; each test's own ``db`` transaction is a
savepoint inside it, so a test that changes something (an allowed POST) leaves the world as it was.
"""

import datetime
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.utils import timezone

from asks.models import AskLink
from asks.services import ask_submit
from funds.models import LedgerEntry, Pledge, SpendRequest
from funds.services.gift_aid import gift_aid_claim_prepare, gift_aid_declaration_record
from funds.services.ledger import fund_donation_record, standby_fund
from funds.services.pledges import pledge_create
from signposting.models import Agency
from signposting.services import signpost_record
from support.contacts import contact_create
from support.dates import academic_year_start_for
from support.models import FamilyDuplicate, PupilImport, Role
from support.services import pupil_set_in_need
from tests.factories import FamilyFactory, PartnerFactory, PupilFactory, SchoolFactory, consent_to, make_user
from uniform.models import Gift, ItemKind, UniformItem
from uniform.services.gifts import gifts_generate, welcome_pack_set
from uniform.services.requests import request_create
from uniform.services.stock import stock_receive
from vouchers import statements
from vouchers.models import PartnerStatement, VoucherType
from vouchers.printing import _key as print_job_key
from vouchers.services import voucher_issue, voucher_redeem

ROLES = (
    "anon",
    "pastoral_a",
    "lead_a",
    "pastoral_b",
    "finance",
    "charity_1",
    "charity_2",
    "admin",
    "trustee",
)

# Strings found only on one side's objects. Side B's are what roles of side A must never see.
MARK_A = "Ashcombe"  # family A's surname (carer and pupils at school A)
MARK_B = "Quillfeather"  # family B's surname (carer and pupils at school B)
PARTNER_1 = "Orchard Larder"
PARTNER_2 = "Zephyr Pantry"
ITEM_B = "Kestrelblazer"  # school B's uniform item
DONOR = "Marchbanks Trust"  # the donation finance recorded


@dataclass
class Side:
    """The objects of one side: school A with charity 1, or school B with charity 2."""

    school: object
    partner: object
    family: object
    pupil: object
    voucher: object  # issued, valid
    redeemed: object  # redeemed at the side's charity
    redemption: object
    statement: object
    item: object
    pack: object
    gift: object
    request: object  # a coat request, approved
    pupil_import: object
    duplicate: object
    print_job: str  # a background job started by the side's pastoral staff (see put_print_jobs)
    contact: object = None  # a contact under a court order (the family's allowed contact comes first)
    signpost: object = None  # the family signposted by the side's pastoral staff, follow-up due today
    ask_link: object = None  # the school's public ask-for-help page
    ask: object = (
        None  # an ask for a coat waiting in the school's leads' queue (the child's surname is the mark)
    )
    delivered: object = None  # the side's charity's delivered service (white goods)
    referral: object = None  # a new referral for a cooker to it, from the side's school


@dataclass
class World:
    a: Side
    b: Side
    users: dict
    sessions: dict  # role → session key, signed in once with force_login
    entry: object  # a ledger entry (the donation's income)
    donation: object
    pledge: object
    spend_request: object  # a request at school A waiting for finance
    fund: object
    extra: dict = field(default_factory=dict)

    def side(self, name: str) -> Side:
        return {"a": self.a, "b": self.b}[name]


def _print_job_id(owner) -> str:
    """A background print job's id (32 hex digits, as ``print_job_start`` makes them), one per owner."""
    return f"{owner.pk:08x}" + "0" * 24


def put_print_jobs(world: World) -> None:
    """Print jobs live in the cache, which every test clears: put both sides' back."""
    for side, owner in ((world.a, world.users["pastoral_a"]), (world.b, world.users["pastoral_b"])):
        cache.set_many(
            {
                print_job_key(side.print_job): {
                    "owner_id": owner.pk,
                    "voucher_count": 30,
                    "chunk_count": 2,
                    "paper": "A5",
                    "chord": False,
                },
                print_job_key(side.print_job, "done"): 1,
            },
            600,
        )


def _side(*, name, school, partner, staff, lead, surname, item_name) -> Side:
    family = FamilyFactory(lead_carer_name=f"Jo {surname}", postcode=f"RV{9 if name == 'b' else 8} 1ZZ")
    pupil = PupilFactory(family=family, school=school, legal_forename="Sam", surname=surname, year_group=4)
    consent_to(family, staff, partner)
    family.refresh_from_db()
    pupil_set_in_need(pupil=pupil, actor=staff, in_need=True, reason="Winter")
    voucher_type = VoucherType.objects.create(
        partner=partner, service="food_parcel", name="Food parcel", face_value_pence=25_00, validity_days=28
    )

    def issue():
        return voucher_issue(
            family=family,
            voucher_type=voucher_type,
            school=school,
            issued_by=staff,
            referral_reason="income_drop",
        )

    voucher = issue()
    redeemed = issue()
    charity = make_user(f"counter_{name}", Role.CHARITY, partner=partner)
    redemption = voucher_redeem(
        voucher=redeemed, partner=partner, redeemed_by=charity, items_given="Food parcel"
    )
    last_month = statements.previous_month()
    statement = PartnerStatement.objects.create(
        partner=partner,
        month=last_month,
        voucher_count=1,
        face_value_pence=25_00,
        value_given_pence=25_00,
        expired_count=0,
        cancelled_count=0,
        pdf=b"%PDF-1.4 stored statement",
        generated_at=timezone.now(),
    )
    item = UniformItem.objects.create(
        school=school, name=item_name, sizes=["3-4", "5-6"], unit_cost_pence=8_00, supplier="Smart Kids Ltd"
    )
    stock_receive(item=item, size="3-4", quantity=5, actor=lead, note=surname)
    pack = welcome_pack_set(school=school, year_group=0, contents={item.pk: 1}, actor=lead)
    PupilFactory(school=school, year_group=0, legal_forename="Newby", surname=surname)
    gifts_generate(school=school, academic_year=academic_year_start_for(timezone.localdate()), actor=lead)
    gift = Gift.objects.get(school=school)
    coat = UniformItem.objects.create(
        school=school,
        kind=ItemKind.COAT,
        name="Winter coat",
        sizes=["7-8", "9-10"],
        unit_cost_pence=22_00,
        track_stock=False,
    )
    request = request_create(
        pupil=pupil,
        kind=ItemKind.COAT,
        item=coat,
        size="Age 7-8",
        reason="Coat torn",
        urgency="routine",
        actor=staff,
    )
    pupil_import = PupilImport.objects.create(
        school=school,
        uploaded_by=lead,
        filename=f"{surname}.csv",
        content=b"",
        status=PupilImport.Status.PREVIEWED,
        summary={"note": surname},
    )
    twin_1 = FamilyFactory(lead_carer_name=f"Kit {surname}", postcode="RV7 7TT")
    twin_2 = FamilyFactory(lead_carer_name=f"Kit {surname}", postcode="RV7 7TT")
    PupilFactory(family=twin_1, school=school, surname=surname)
    PupilFactory(family=twin_2, school=school, surname=surname)
    low, high = sorted((twin_1, twin_2), key=lambda f: f.pk)
    duplicate = FamilyDuplicate.objects.create(family_a=low, family_b=high, reason="Same carer and postcode")
    delivered, referral = _referral(
        partner=partner, school=school, family=family, staff=staff, surname=surname
    )
    return Side(
        delivered=delivered,
        referral=referral,
        school=school,
        partner=partner,
        family=family,
        pupil=pupil,
        voucher=voucher,
        redeemed=redeemed,
        redemption=redemption,
        statement=statement,
        item=item,
        pack=pack,
        gift=gift,
        request=request,
        pupil_import=pupil_import,
        duplicate=duplicate,
        print_job=_print_job_id(staff),
        contact=_contacts(family, staff, surname),
        **_asks(name, school, surname),
    )


def _asks(name, school, surname) -> dict:
    link = AskLink.objects.create(school=school, code=f"ask{name * 3}")
    ask = ask_submit(
        link=link, kind="coat", asker_name=f"Jo {surname}", child_name=f"Sam {surname}", contact_way="email"
    )
    return {"ask_link": link, "ask": ask}


def _referral(*, partner, school, family, staff, surname):
    """A delivered service at the side's charity and a new referral to it (the address names the side)."""
    from deliveries.models import CatalogueItem, DeliveredService
    from deliveries.services import referral_issue

    white_goods = VoucherType.objects.create(
        partner=partner, service="white_goods", name="White goods", face_value_pence=0, validity_days=56
    )
    delivered = DeliveredService.objects.create(voucher_type=white_goods, capacity_per_week=5)
    cooker = CatalogueItem.objects.create(service=delivered, name="Cooker", value_pence=150_00)
    (referral,) = referral_issue(
        family=family,
        items=[cooker],
        school=school,
        issued_by=staff,
        delivery_address=f"1 {surname} Court",
        delivery_postcode="RV8 1ZZ",
        delivery_phone="+447700900111",
    )
    return delivered, referral


def _contacts(family, staff, surname):
    contact_create(family=family, actor=staff, name=f"Jo {surname}", parental_responsibility=True)
    return contact_create(
        family=family, actor=staff, name=f"Lee {surname}", relationship="Father", restriction="court_order"
    )


def build_world() -> World:
    school_a = SchoolFactory(name="Alpha Primary Academy", urn="140901")
    school_b = SchoolFactory(name="Beta Primary Academy", urn="140902")
    partner_1 = PartnerFactory(name=PARTNER_1)
    partner_2 = PartnerFactory(name=PARTNER_2)
    users = {
        "pastoral_a": make_user("pastoral_a", Role.PASTORAL, schools=[school_a]),
        "lead_a": make_user("lead_a", Role.LEAD, schools=[school_a]),
        "pastoral_b": make_user("pastoral_b", Role.PASTORAL, schools=[school_b]),
        "finance": make_user("finance", Role.FINANCE),
        "charity_1": make_user("charity_1", Role.CHARITY, partner=partner_1),
        "charity_2": make_user("charity_2", Role.CHARITY, partner=partner_2),
        "admin": make_user("admin", Role.ADMIN, superuser=True),
        "trustee": make_user("trustee", Role.TRUSTEE),
    }
    lead_b = make_user("lead_b", Role.LEAD, schools=[school_b])
    fund = standby_fund()
    donation = fund_donation_record(
        fund=fund,
        donor=DONOR,
        amount_pence=5_000_00,
        received_on=timezone.localdate(),
        gift_aid=False,
        actor=users["finance"],
    )
    a = _side(
        name="a",
        school=school_a,
        partner=partner_1,
        staff=users["pastoral_a"],
        lead=users["lead_a"],
        surname=MARK_A,
        item_name="Applejumper",
    )
    b = _side(
        name="b",
        school=school_b,
        partner=partner_2,
        staff=users["pastoral_b"],
        lead=lead_b,
        surname=MARK_B,
        item_name=ITEM_B,
    )
    blazer = UniformItem.objects.create(school=school_a, name="Blazer", sizes=["7-8"], unit_cost_pence=60_00)
    waiting = request_create(
        pupil=a.pupil,
        kind=ItemKind.UNIFORM,
        item=blazer,
        quantity=4,
        size="7-8",
        reason="Blazers torn",
        urgency="routine",
        actor=users["pastoral_a"],
    )
    spend_request = SpendRequest.objects.get(source_id=str(waiting.pk), status=SpendRequest.Status.PENDING)
    # Signposting: one agency serving every school, one safeguarding service, a signpost on each side.
    agency = Agency.objects.create(name="Lanternway Advice", helps_with="Debt and benefits advice")
    care = Agency.objects.create(name="Front Door", helps_with="Children at risk", safeguarding=True)
    for side, staff in ((a, users["pastoral_a"]), (b, users["pastoral_b"])):
        side.signpost = signpost_record(
            family=side.family, agency=agency, kind="signpost", actor=staff, follow_up_on=timezone.localdate()
        )
    pledge = pledge_create(
        fund=fund,
        donor=DONOR,
        amount_pence=100_00,
        frequency=Pledge.Frequency.ANNUAL,
        next_due=timezone.localdate() + datetime.timedelta(days=30),
        gift_aid=False,
        actor=users["finance"],
    )
    entry = LedgerEntry.objects.get(kind=LedgerEntry.Kind.INCOME, fund=fund, amount_pence=5_000_00)
    # Gift Aid: the donor's declaration (a home address: finance's alone) and a prepared claim of a second
    # gift, so nothing is left to claim.
    declaration = gift_aid_declaration_record(
        donor=DONOR,
        first_name="Marchbanks",
        last_name="Trust",
        house="1",
        address="1 Marchbanks Row",
        postcode="RV1 1MB",
        declared_on=timezone.localdate(),
        covers_past=True,
        covers_future=True,
        actor=users["finance"],
    )
    fund_donation_record(
        fund=fund,
        donor=DONOR,
        amount_pence=40_00,
        received_on=timezone.localdate(),
        gift_aid=True,
        actor=users["finance"],
    )
    claim = gift_aid_claim_prepare(actor=users["finance"])
    world = World(
        a=a,
        b=b,
        users=users,
        sessions={},
        entry=entry,
        donation=donation,
        pledge=pledge,
        spend_request=spend_request,
        fund=fund,
        extra={
            "waiting_request": waiting,
            "blazer": blazer,
            "lead_b": lead_b,
            "agency": agency,
            "safeguarding_agency": care,
            "declaration": declaration,
            "claim": claim,
        },
    )
    for role, user in users.items():
        client = Client()
        client.force_login(user)
        world.sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
