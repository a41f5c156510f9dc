"""The voucher factories issue and redeem through the services."""

import pytest

from support.models import AuditEvent
from tests.vouchers.factories import (
    PartnerStatementFactory,
    RedemptionFactory,
    VoucherFactory,
    VoucherSendFactory,
)
from vouchers.models import Voucher

pytestmark = pytest.mark.django_db


def test_it_issues_a_factory_voucher_through_the_service():
    voucher = VoucherFactory()
    assert voucher.state == Voucher.State.ISSUED
    assert voucher.face_value_pence == voucher.voucher_type.face_value_pence
    assert AuditEvent.objects.filter(action="voucher.issued", subject_id=str(voucher.pk)).exists()


def test_it_redeems_a_factory_voucher_at_its_partner():
    redemption = RedemptionFactory()
    redemption.voucher.refresh_from_db()
    assert redemption.voucher.state == Voucher.State.REDEEMED
    assert redemption.partner == redemption.voucher.voucher_type.partner


def test_it_sends_a_factory_voucher_and_makes_a_partners_statement():
    send = VoucherSendFactory()
    assert (send.channel, send.address) == ("email", "carer@example.org")
    statement = PartnerStatementFactory()
    assert statement.pdf[:4] == b"%PDF"
    assert statement.voucher_count == 0
