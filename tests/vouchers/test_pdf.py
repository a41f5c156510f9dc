"""The voucher PDF: read back with pypdf, never trusted for having run."""

import datetime
import io

import pytest
from django.utils import timezone
from django.utils.formats import date_format
from pypdf import PdfReader

from support.errors import ConflictError
from support.models import Service
from tests.factories import consent_to
from vouchers import pdf
from vouchers.models import Fulfilment, ReferralReason, Voucher, VoucherType
from vouchers.qr import redemption_url
from vouchers.services import voucher_cancel, voucher_extend, voucher_issue

MM = 72 / 25.4


def read(data: bytes) -> tuple[int, list[str]]:
    """Page count and each page's text."""
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), [page.extract_text() for page in reader.pages]


@pytest.fixture
def food(partner_1):
    partner_1.address = "The Old Chapel\n4 Wharf Street, Riverton"
    partner_1.postcode = "RV1 2QP"
    partner_1.phone = "0113 496 0999"
    partner_1.opening_times = "Monday to Friday 10:00–15:00\nSaturday 10:00–12:00"
    partner_1.save()
    return VoucherType.objects.create(
        partner=partner_1, service=Service.FOOD_PARCEL, name="Food parcel", face_value_pence=25_00
    )


@pytest.fixture
def voucher(food, family_a, school_a, pastoral_a):
    school_a.phone = "0113 496 0100"
    school_a.save()
    consent_to(family_a, pastoral_a)
    return voucher_issue(
        family=family_a,
        voucher_type=food,
        school=school_a,
        issued_by=pastoral_a,
        referral_reason=ReferralReason.OTHER,
        referral_other="Confidential: father lost his job",
        household_size=4,
        dietary_needs="Halal, no nuts",
        note_for_charity="Case note: please be discreet",
    )


def make_vouchers(count: int, *, voucher_type, family, school, issued_by) -> list[Voucher]:
    """Valid vouchers straight into the table (the issue service's limit would stop at three)."""
    from vouchers.codes import generate_code

    expires = timezone.localdate() + datetime.timedelta(days=28)
    return Voucher.objects.bulk_create(
        Voucher(
            code=generate_code(),
            voucher_type=voucher_type,
            family=family,
            school=school,
            face_value_pence=voucher_type.face_value_pence,
            issued_by=issued_by,
            expires_on=expires,
            referral_reason=ReferralReason.LOW_INCOME,
            lead_carer_name=family.lead_carer_name,
            household_size=1 + n % 6,
        )
        for n in range(count)
    )


def test_it_prints_what_the_counter_needs_and_nothing_more_about_the_family(voucher):
    pages, (text,) = read(pdf.render_voucher_pdf(voucher))

    assert pages == 1
    for group in voucher.display_code.split("-"):
        assert group in text
    assert voucher.display_code in text  # the groups, in order, as typed at the counter
    assert date_format(voucher.expires_on, "l j F Y") in text
    assert "First Food Bank" in text
    assert "The Old Chapel" in text
    assert "4 Wharf Street, Riverton RV1 2QP" in text
    assert "Monday to Friday 10:00–15:00" in text
    assert "Saturday 10:00–12:00" in text
    assert "Food parcel voucher" in text
    assert "4 people" in text
    assert "Halal, no nuts" in text
    assert "Alpha Primary Academy" in text
    assert "0113 496 0100" in text
    assert redemption_url(voucher.code) in text.replace("\n", "")
    assert "Anna Able" in text  # the lead carer, as the design allows

    for private in ("Alfie", "RV1 1AA", "+441134960001", "father lost", "Case note", "Confidential"):
        assert private not in text


def test_it_lays_out_a5_and_on_request_a4(voucher):
    a5 = PdfReader(io.BytesIO(pdf.render_voucher_pdf(voucher))).pages[0].mediabox
    a4 = PdfReader(io.BytesIO(pdf.render_voucher_pdf(voucher, paper="a4"))).pages[0].mediabox

    assert (round(a5.width / MM), round(a5.height / MM)) == (148, 210)
    assert (round(a4.width / MM), round(a4.height / MM)) == (210, 297)


def test_it_refuses_an_unknown_paper_size(voucher):
    with pytest.raises(ValueError):
        pdf.render_voucher_pdf(voucher, paper="Letter")


def test_it_serves_a_reprint_of_an_unchanged_voucher_from_the_cache(voucher, pdf_renders):
    first = pdf.render_voucher_pdf(voucher)
    again = pdf.render_voucher_pdf(Voucher.objects.get(pk=voucher.pk))

    assert again == first
    assert pdf_renders == [pdf.STYLESHEET]


def test_it_renders_again_after_the_expiry_is_extended(voucher, lead_a, pdf_renders):
    first = pdf.render_voucher_pdf(voucher)
    later = voucher.expires_on + datetime.timedelta(days=14)
    voucher = voucher_extend(voucher=voucher, actor=lead_a, expires_on=later, reason="School holidays")

    second = pdf.render_voucher_pdf(voucher)

    assert second != first
    assert date_format(later, "l j F Y") in read(second)[1][0]
    assert len(pdf_renders) == 2


def test_it_renders_again_when_the_partner_changes_its_opening_times(voucher, pdf_renders):
    pdf.render_voucher_pdf(voucher)
    partner = voucher.voucher_type.partner
    partner.opening_times = "Thursdays 09:00–11:00"
    partner.save()

    text = read(pdf.render_voucher_pdf(Voucher.objects.get(pk=voucher.pk)))[1][0]

    assert "Thursdays 09:00–11:00" in text
    assert len(pdf_renders) == 2


@pytest.mark.parametrize("state", ["cancelled", "expired", "past its date", "redeemed"])
def test_it_never_renders_a_voucher_that_is_not_valid(voucher, pastoral_a, pdf_renders, state):
    pdf.render_voucher_pdf(voucher)  # cached while it was valid
    if state == "cancelled":
        voucher = voucher_cancel(voucher=voucher, actor=pastoral_a, reason="Issued by mistake")
    elif state == "past its date":
        Voucher.objects.filter(pk=voucher.pk).update(
            expires_on=timezone.localdate() - datetime.timedelta(days=1)
        )
        voucher.refresh_from_db()
    else:
        Voucher.objects.filter(pk=voucher.pk).update(state=state)
        voucher.refresh_from_db()

    with pytest.raises(ConflictError) as refused:
        pdf.render_voucher_pdf(voucher)
    with pytest.raises(ConflictError):
        pdf.render_vouchers_pdf([voucher])

    assert refused.value.code == "not_printable"
    assert voucher.display_code in refused.value.message
    assert len(pdf_renders) == 1


def test_it_puts_many_vouchers_in_one_document_one_a_page_in_order(
    voucher, food, family_a, school_a, pastoral_a
):
    others = make_vouchers(2, voucher_type=food, family=family_a, school=school_a, issued_by=pastoral_a)
    vouchers = Voucher.objects.select_related("voucher_type__partner", "school").in_bulk(
        [others[1].pk, voucher.pk, others[0].pk]
    )
    ordered = [vouchers[others[1].pk], vouchers[voucher.pk], vouchers[others[0].pk]]

    pages, texts = read(pdf.render_vouchers_pdf(ordered))

    assert pages == 3
    for page_text, printed in zip(texts, ordered, strict=True):
        assert printed.display_code in page_text


def test_it_keeps_a_voucher_with_long_details_on_one_page(voucher):
    voucher.fulfilment = Fulfilment.DELIVERY
    voucher.dietary_needs = "Halal; no nuts (severe allergy); one adult coeliac, so gluten free; " * 3
    voucher.lead_carer_name = "Maximilian Alexander Featherstonehaugh-Worthington"
    partner = voucher.voucher_type.partner
    partner.address = "Unit 14, The Riverside Enterprise Centre\nOld Mill Estate\nLower Wharf Road\nRiverton"
    partner.opening_times = "\n".join(f"{day} 10:00–15:00 (late on Thursdays)" for day in "MTWTFSS")

    pages, (text,) = read(pdf.render_vouchers_pdf([voucher]))

    assert pages == 1
    assert "The charity will deliver to you" in text
    assert voucher.display_code in text


def test_it_merges_pdfs_keeping_their_pages_in_order(voucher, food, family_a, school_a, pastoral_a):
    (other,) = make_vouchers(1, voucher_type=food, family=family_a, school=school_a, issued_by=pastoral_a)
    other = Voucher.objects.select_related("voucher_type__partner", "school").get(pk=other.pk)

    merged = pdf.merge_pdfs([pdf.render_vouchers_pdf([other, voucher]), pdf.render_voucher_pdf(other)])

    pages, texts = read(merged)
    assert pages == 3
    assert other.display_code in texts[0]
    assert voucher.display_code in texts[1]
    assert other.display_code in texts[2]
