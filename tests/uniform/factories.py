"""factory_boy factories for uniform: items, welcome packs and their contents, gifts, stock and coat/shoe
requests. Rows a page makes through a service with rules worth keeping (a request's price, period and
policy check) are made through it; the rest are plain rows."""

import factory

from support.models import Role
from tests.factories import PupilFactory, SchoolFactory, make_user
from uniform.models import (
    Gift,
    GiftLine,
    ItemKind,
    StockMovement,
    SupportRequest,
    UniformItem,
    WelcomePack,
    WelcomePackItem,
)
from uniform.services.requests import request_create
from uniform.services.stock import stock_receive


class UniformItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UniformItem

    school = factory.SubFactory(SchoolFactory)
    name = factory.Sequence(lambda n: f"Jumper {n}")
    kind = ItemKind.UNIFORM
    sizes = factory.LazyFunction(lambda: ["3-4", "5-6", "7-8"])
    unit_cost_pence = 8_50
    supplier = "Smart Kids Ltd"
    track_stock = True


class WelcomePackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WelcomePack
        django_get_or_create = ("school", "year_group")

    school = factory.SubFactory(SchoolFactory)
    year_group = 0


class WelcomePackItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WelcomePackItem

    pack = factory.SubFactory(WelcomePackFactory)
    item = factory.SubFactory(UniformItemFactory, school=factory.SelfAttribute("..pack.school"))
    quantity = 1


class GiftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Gift

    school = factory.SubFactory(SchoolFactory)
    pupil = factory.SubFactory(PupilFactory, school=factory.SelfAttribute("..school"), year_group=0)
    academic_year = 2025
    year_group = factory.SelfAttribute("pupil.year_group")


class GiftLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GiftLine

    gift = factory.SubFactory(GiftFactory)
    item = factory.SubFactory(UniformItemFactory, school=factory.SelfAttribute("..gift.school"))
    quantity = 1
    size = "5-6"


class StockReceiptFactory(factory.django.DjangoModelFactory):
    """A delivery through ``stock_receive``: the movement, and the item's stock level raised by it."""

    class Meta:
        model = StockMovement

    item = factory.SubFactory(UniformItemFactory)
    size = "5-6"
    quantity = 10
    by = factory.LazyAttributeSequence(
        lambda o, n: make_user(f"stocker{n}", Role.LEAD, schools=[o.item.school])
    )

    @classmethod
    def _create(cls, model_class, *, by, **kwargs):
        return stock_receive(actor=by, **kwargs)


class SupportRequestFactory(factory.django.DjangoModelFactory):
    """``SupportRequestFactory(pupil=..., item=...)``: asked for through ``request_create`` by a pastoral
    lead at the pupil's school (the pupil is flagged in need first, as the service requires)."""

    class Meta:
        model = SupportRequest

    pupil = factory.SubFactory(PupilFactory, in_need=True)
    item = factory.SubFactory(
        UniformItemFactory, school=factory.SelfAttribute("..pupil.school"), kind=ItemKind.COAT, sizes=["7-8"]
    )
    kind = factory.SelfAttribute("item.kind")
    size = "7-8"
    reason = "The old one is torn."
    urgency = SupportRequest.Urgency.ROUTINE
    requested_by = factory.LazyAttributeSequence(
        lambda o, n: make_user(f"asker{n}", Role.LEAD, schools=[o.pupil.school])
    )

    @classmethod
    def _create(cls, model_class, *, requested_by, **kwargs):
        return request_create(actor=requested_by, **kwargs)
