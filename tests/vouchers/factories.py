"""factory_boy factories for vouchers. Vouchers and redemptions are made through the services
(``voucher_issue`` after consent, ``voucher_redeem``), so their codes, limits, fund commitments and audit
events are the real ones."""

import factory

from support.models import Role, Service
from tests.factories import PartnerFactory, PupilFactory, SchoolFactory, consent_to, make_user
from vouchers.models import PartnerStatement, Redemption, ReferralReason, Voucher, VoucherSend, VoucherType
from vouchers.services import voucher_issue, voucher_redeem, voucher_send_request
from vouchers.statements import previous_month, statement_generate


class VoucherTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VoucherType

    partner = factory.SubFactory(PartnerFactory)
    service = Service.FOOD_PARCEL
    name = "Food parcel"
    face_value_pence = 25_00
    validity_days = 28


class VoucherFactory(factory.django.DjangoModelFactory):
    """``VoucherFactory(family=..., school=..., voucher_type=...)``: issued through ``voucher_issue`` by a
    pastoral user of the school (made when ``issued_by`` is not given), the family's consent recorded first.
    Without a family, one is made with a pupil at the school."""

    class Meta:
        model = Voucher

    voucher_type = factory.SubFactory(VoucherTypeFactory)
    school = factory.SubFactory(SchoolFactory)
    family = factory.LazyAttribute(lambda o: PupilFactory(school=o.school).family)
    issued_by = factory.LazyAttributeSequence(
        lambda o, n: make_user(f"issuer{n}", Role.PASTORAL, schools=[o.school])
    )
    referral_reason = ReferralReason.INCOME_DROP

    @classmethod
    def _create(cls, model_class, *, family, voucher_type, issued_by, **kwargs):
        consent_to(family, issued_by, voucher_type.partner)
        return voucher_issue(family=family, voucher_type=voucher_type, issued_by=issued_by, **kwargs)


class RedemptionFactory(factory.django.DjangoModelFactory):
    """A voucher redeemed through ``voucher_redeem`` at its own partner, by a charity user made for it."""

    class Meta:
        model = Redemption

    voucher = factory.SubFactory(VoucherFactory)
    partner = factory.LazyAttribute(lambda o: o.voucher.voucher_type.partner)
    redeemed_by = factory.LazyAttributeSequence(
        lambda o, n: make_user(f"redeemer{n}", Role.CHARITY, partner=o.partner)
    )

    @classmethod
    def _create(cls, model_class, **kwargs):
        return voucher_redeem(**kwargs)


class VoucherSendFactory(factory.django.DjangoModelFactory):
    """The voucher sent again to the family through ``voucher_send_request`` (by e-mail unless told)."""

    class Meta:
        model = VoucherSend

    voucher = factory.SubFactory(
        VoucherFactory,
        family=factory.LazyAttribute(
            lambda o: PupilFactory(school=o.school, family__email="carer@example.org").family
        ),
    )
    channel = "email"
    requested_by = factory.SelfAttribute("voucher.issued_by")

    @classmethod
    def _create(cls, model_class, *, requested_by, **kwargs):
        return voucher_send_request(actor=requested_by, **kwargs)


class PartnerStatementFactory(factory.django.DjangoModelFactory):
    """A partner's statement for a finished month (last month unless told), made by ``statement_generate``."""

    class Meta:
        model = PartnerStatement

    partner = factory.SubFactory(PartnerFactory)
    month = factory.LazyFunction(previous_month)

    @classmethod
    def _create(cls, model_class, **kwargs):
        return statement_generate(**kwargs)
