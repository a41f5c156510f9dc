"""factory_boy factories for the fund's models. Rows that carry money into the ledger (donations) are made
through the fund's services, so a test never holds a donation without its income entry. Ledger entries and
checkpoints are written only by the ledger services (``fund_spend_commit``, ``fund_checkpoint``...), so they
have no factory of their own: a test makes them by calling those."""

import datetime

import factory
from django.contrib.contenttypes.models import ContentType

from funds.models import Donation, Fund, FundAllocation, Pledge, SpendRequest
from funds.services.ledger import fund_donation_record
from support.models import Role
from tests.factories import FamilyFactory, SchoolFactory, make_user


def _finance_user():
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username="factory_finance").first()
    return user or make_user("factory_finance", Role.FINANCE)


class FundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Fund
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Test fund {n}")
    school = None
    is_active = True


class DonationFactory(factory.django.DjangoModelFactory):
    """``DonationFactory(fund=..., amount_pence=...)``: recorded through ``fund_donation_record`` (an
    income entry and an audit event), by ``recorded_by`` or a finance user of its own."""

    class Meta:
        model = Donation

    fund = factory.SubFactory(FundFactory)
    donor = factory.Sequence(lambda n: f"Donor {n}")
    amount_pence = 100_00
    received_on = factory.LazyFunction(datetime.date.today)
    gift_aid = False
    restricted_purpose = ""
    recorded_by = factory.LazyFunction(_finance_user)

    @classmethod
    def _create(cls, model_class, *, recorded_by, **kwargs):
        return fund_donation_record(actor=recorded_by, **kwargs)


class PledgeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pledge

    fund = factory.SubFactory(FundFactory)
    donor = factory.Sequence(lambda n: f"Pledger {n}")
    amount_pence = 50_00
    frequency = Pledge.Frequency.MONTHLY
    next_due = factory.LazyFunction(lambda: datetime.date.today() + datetime.timedelta(days=30))
    created_by = factory.LazyFunction(_finance_user)


class FundAllocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FundAllocation

    fund = factory.SubFactory(FundFactory)
    school = factory.SubFactory(SchoolFactory)
    financial_year = 2025
    amount_pence = 500_00


class SpendRequestFactory(factory.django.DjangoModelFactory):
    """A request waiting in finance's queue, as a row (its source defaults to a family). Tests of the
    approval rules open requests through ``spend_request_open``."""

    class Meta:
        model = SpendRequest
        exclude = ("source",)

    fund = factory.SubFactory(FundFactory)
    source = factory.SubFactory(FamilyFactory)
    source_type = factory.LazyAttribute(lambda o: ContentType.objects.get_for_model(o.source))
    source_id = factory.LazyAttribute(lambda o: str(o.source.pk))
    school = factory.SubFactory(SchoolFactory)
    category = "coat"
    amount_pence = 25_00
    summary = "A winter coat"
    reason = "The old one is torn."
    requested_by = factory.LazyAttributeSequence(
        lambda o, n: make_user(f"requester{n}", Role.LEAD, schools=[o.school] if o.school else [])
    )
