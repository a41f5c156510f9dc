import datetime
import itertools

import factory
from django.contrib.auth import get_user_model
from stdnum.gb import upn as upn_module

from support.models import (
    Family,
    Membership,
    PartnerCharity,
    PartnerService,
    Phase,
    Pupil,
    Role,
    School,
    Service,
)
from support.pupil_csv import normalise_name_key

_serial = itertools.count(1)


def make_upn(la: str = "926", establishment: int = 2001, year: int = 24) -> str:
    """A valid UPN, different on every call."""
    body = f"{la}{establishment:04d}{year:02d}{next(_serial) % 1000:03d}"
    if body[-3:] == "000":
        body = f"{la}{establishment:04d}{year:02d}{next(_serial) % 1000:03d}"
    return upn_module.calc_check_digit(body) + body


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    name = factory.Sequence(lambda n: f"Test Academy {n}")
    urn = factory.Sequence(lambda n: f"{150000 + n:06d}")
    phase = Phase.PRIMARY


class FamilyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Family

    lead_carer_name = factory.Sequence(lambda n: f"Carer Number{n}")
    carer_name_key = factory.LazyAttribute(lambda f: normalise_name_key(f.lead_carer_name))
    postcode = "RV1 2AB"
    adults = 1
    children = 1


class PupilFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pupil

    upn = factory.LazyFunction(make_upn)
    legal_forename = factory.Sequence(lambda n: f"Pupil{n}")
    surname = "Example"
    date_of_birth = datetime.date(2017, 3, 1)
    year_group = 4
    school = factory.SubFactory(SchoolFactory)
    family = factory.SubFactory(FamilyFactory)


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerCharity
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Partner Charity {n}")
    address = "1 High Street, Riverton"

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        if create:
            PartnerService.objects.create(partner=self, service=Service.FOOD_PARCEL)


def make_user(username: str, role: str | None, *, schools=(), partner=None, superuser: bool = False):
    user = get_user_model().objects.create_user(
        username=username,
        password="correct-horse-battery",
        email=f"{username}@trust.example",
        is_superuser=superuser,
        is_staff=superuser,
    )
    if role is not None:
        membership = Membership.objects.create(user=user, role=role, partner=partner)
        membership.schools.set(schools)
    return user


def consent_to(family, actor, *partners, given_on: datetime.date | None = None) -> None:
    """Record the family's consent to share with ``partners`` (every partner when none is named),
    through the service, skipping partners it already consents to."""
    from support.consents import consented_partner_ids, family_consent_record

    already = consented_partner_ids(family)
    for partner in partners or PartnerCharity.objects.order_by("pk"):
        if partner.pk not in already and partner.is_active:
            family_consent_record(
                family=family, partner=partner, actor=actor, method="in_person", given_on=given_on
            )


__all__ = [
    "FamilyFactory",
    "PartnerFactory",
    "PupilFactory",
    "Role",
    "SchoolFactory",
    "consent_to",
    "make_upn",
    "make_user",
]
