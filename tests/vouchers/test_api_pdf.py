"""The voucher API's PDF goes through the print service every door uses (``printing.print_job_start``):
the same scope answer, the same refusal of a voucher that is not valid, the same audit and the same
cached document as the web page's PDF."""

import pytest

from support.models import AuditEvent
from tests.factories import consent_to
from vouchers import pdf
from vouchers.models import ReferralReason
from vouchers.services import voucher_cancel, voucher_issue


@pytest.fixture
def voucher(food_type, family_a, school_a, pastoral_a):
    consent_to(family_a, pastoral_a)
    return voucher_issue(
        family=family_a,
        voucher_type=food_type,
        school=school_a,
        issued_by=pastoral_a,
        referral_reason=ReferralReason.LOW_INCOME,
    )


def test_the_api_and_the_page_print_the_same_document_and_audit_each_print(
    voucher, pastoral_a, client_for, pdf_renders
):
    client = client_for(pastoral_a)
    from_page = client.get(f"/vouchers/{voucher.pk}/pdf/")
    from_api = client.get(f"/api/v1/vouchers/{voucher.pk}/pdf/")

    assert from_api.status_code == 200
    assert from_api["Content-Disposition"] == f'inline; filename="voucher-{voucher.code}.pdf"'
    assert from_api.content == from_page.content
    assert pdf_renders == [pdf.STYLESHEET]  # one render: the second door found the first's in the cache
    assert AuditEvent.objects.filter(action="voucher.printed", subject_id=str(voucher.pk)).count() == 2


def test_the_api_answers_another_schools_voucher_as_not_found_and_audits_nothing(
    voucher, pastoral_b, client_for, pdf_renders
):
    response = client_for(pastoral_b).get(f"/api/v1/vouchers/{voucher.pk}/pdf/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert pdf_renders == []
    assert not AuditEvent.objects.filter(action="voucher.printed").exists()


def test_the_api_refuses_a_cancelled_voucher_with_the_reason(voucher, pastoral_a, client_for, pdf_renders):
    voucher_cancel(voucher=voucher, actor=pastoral_a, reason="Issued by mistake")

    response = client_for(pastoral_a).get(f"/api/v1/vouchers/{voucher.pk}/pdf/")

    assert response.status_code == 409
    assert response.json()["code"] == "not_printable"
    assert "cancelled" in response.json()["detail"]
    assert pdf_renders == []
