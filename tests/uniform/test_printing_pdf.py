"""Welcome-pack printing goes through the one renderer (support/pdf.py): each document rendered once,
then served from the cache while nothing on it changes (the time printed is to the minute)."""

import datetime
import io

import pytest
import time_machine
from pypdf import PdfReader

from tests.uniform.test_gifts_fixtures import bag_a, jumper_a, make_intake, pack_a, this_year
from uniform import printing
from uniform.models import Gift
from uniform.services import gifts as services

FIXTURES = (bag_a, jumper_a, pack_a)  # pytest finds these by name
NOW = datetime.datetime(2025, 9, 3, 10, 15, tzinfo=datetime.UTC)  # the time printed, held still


def text_of(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


@pytest.fixture
def gifts(lead_a, school_a, pack_a):
    make_intake(school_a, 2, surname="Able")
    services.gifts_generate(school=school_a, academic_year=this_year(), actor=lead_a)
    return Gift.objects.filter(school=school_a)


@pytest.mark.parametrize("document", ["packing_list", "gift_slips", "order_summary"])
def test_each_welcome_pack_document_is_rendered_by_the_renderer_and_cached(
    document, school_a, gifts, pdf_renders
):
    year = this_year()

    def render() -> bytes:
        if document == "packing_list":
            return printing.render_packing_list_pdf(school=school_a, gifts=gifts, academic_year=year)
        if document == "gift_slips":
            return printing.render_gift_slips_pdf(gifts=gifts)
        rows = printing.order_summary(school=school_a, gifts=gifts)
        return printing.render_order_summary_pdf(school=school_a, rows=rows, academic_year=year)

    with time_machine.travel(NOW, tick=False):
        first = render()
        again = render()

    assert again == first
    assert pdf_renders == [printing.STYLESHEET]
    text = text_of(first)
    assert "Page 1 of 1" in text  # the base stylesheet's page numbers
    expected = {
        "packing_list": "Welcome packs to pick: Alpha Primary Academy",
        "gift_slips": "Reception, Alpha Primary Academy",
        "order_summary": "Jumper",
    }[document]
    assert expected in text
