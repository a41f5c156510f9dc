"""Welcome-pack pages: overview, generating, a class's sizes, packing, hand-over, items, stock, printing."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from tests.uniform.test_gifts_fixtures import (
    bag_a,
    jumper_a,
    make_intake,
    pack_a,
    this_year,
)
from uniform.models import Gift, GiftLine, StockLevel, UniformItem, WelcomePackItem
from uniform.services import gifts as gift_services
from uniform.services import stock as stock_services

FIXTURES = (bag_a, jumper_a, pack_a)  # pytest finds these by name
pytestmark = pytest.mark.django_db


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def intake_a(lead_a, school_a, pack_a):
    pupils = make_intake(school_a, 3, surname="Able")
    gift_services.gifts_generate(school=school_a, academic_year=this_year(), actor=lead_a)
    return pupils


def _class_url(school, year_group=0):
    return reverse("uniform_class", args=[school.pk, year_group]) + f"?year={this_year()}"


def _sizes_post(gifts, size="5-6") -> dict:
    lines = GiftLine.objects.filter(gift__in=gifts, item__name="Jumper")
    return {f"size-{line.pk}": size for line in lines}


@pytest.mark.parametrize(
    ("persona", "url_name", "expected"),
    [
        ("pastoral_a", "uniform_overview", 200),
        ("finance", "uniform_overview", 200),
        ("charity_staff", "uniform_overview", 403),
        ("pastoral_a", "uniform_class", 200),
        ("finance", "uniform_class", 200),
        ("pastoral_b", "uniform_class", 404),
        ("pastoral_a", "uniform_items", 200),
        ("pastoral_b", "uniform_items", 404),
        ("pastoral_a", "uniform_stock", 200),
        ("finance", "uniform_stock", 403),
        ("pastoral_b", "uniform_stock", 404),
        ("pastoral_a", "uniform_item_add", 403),
        ("lead_a", "uniform_item_add", 200),
        ("lead_b", "uniform_item_add", 404),
        ("lead_a", "welcome_pack_edit", 200),
        ("pastoral_b", "uniform_order_summary", 404),
        ("pastoral_a", "uniform_order_summary", 200),
    ],
)
def test_it_lets_each_role_see_only_what_it_should(
    request, client_for, school_a, intake_a, persona, url_name, expected
):
    user = request.getfixturevalue(persona)
    args = {
        "uniform_overview": [],
        "uniform_class": [school_a.pk, 0],
        "welcome_pack_edit": [school_a.pk, 0],
        "uniform_order_summary": [school_a.pk, "csv"],
    }.get(url_name, [school_a.pk])
    assert client_for(user).get(reverse(url_name, args=args)).status_code == expected


def test_it_shows_outstanding_packs_per_class(client_for, pastoral_a, intake_a):
    page = client_for(pastoral_a).get(reverse("uniform_overview")).content.decode()
    assert "Reception" in page
    assert "Packs outstanding per class" in page
    assert "Generate welcome packs" not in page  # pastoral staff do not generate


def test_it_lets_a_lead_generate_from_the_overview(client_for, lead_a, school_a, pack_a):
    make_intake(school_a, 4)
    client = client_for(lead_a)
    url = reverse("uniform_generate", args=[school_a.pk])
    assert url in client.get(reverse("uniform_overview")).content.decode()
    assert "4 welcome packs" in client.get(url).content.decode()
    response = client.post(url, {"academic_year": this_year(), "expected": "4:0"}, follow=True)
    assert "4 welcome packs generated" in response.content.decode()
    assert Gift.objects.count() == 4


def test_it_refuses_generating_to_pastoral_staff_and_other_schools_leads(
    client_for, pastoral_a, lead_b, school_a, pack_a
):
    make_intake(school_a, 1)
    url = reverse("uniform_generate", args=[school_a.pk])
    assert client_for(pastoral_a).post(url, {"academic_year": this_year()}).status_code == 403
    assert client_for(lead_b).post(url, {"academic_year": this_year()}).status_code == 404
    assert not Gift.objects.exists()


def test_it_saves_a_whole_classes_sizes_in_one_post(client_for, pastoral_a, school_a, intake_a):
    client = client_for(pastoral_a)
    response = client.post(_class_url(school_a), _sizes_post(Gift.objects.all()))
    assert response.status_code == 302
    assert set(Gift.objects.values_list("status", flat=True)) == {Gift.Status.SIZED}
    assert set(GiftLine.objects.filter(item__name="Jumper").values_list("size", flat=True)) == {"5-6"}


def test_it_saves_sizes_for_a_class_of_30_in_a_bounded_number_of_queries(
    client_for, pastoral_a, lead_a, school_a, pack_a
):
    make_intake(school_a, 3, year_group=0, surname="Small")
    gift_services.gifts_generate(school=school_a, academic_year=this_year(), actor=lead_a)
    make_intake(school_a, 30, year_group=0, surname="Big")
    client = client_for(pastoral_a)
    client.get(_class_url(school_a))
    small = _sizes_post(Gift.objects.all())
    with CaptureQueriesContext(connection) as few:
        client.post(_class_url(school_a), small)
        client.get(_class_url(school_a))
    gift_services.gifts_generate(school=school_a, academic_year=this_year(), actor=lead_a)
    big = _sizes_post(Gift.objects.filter(pupil__surname="Big"), "7-8")
    with CaptureQueriesContext(connection) as many:
        assert client.post(_class_url(school_a), big).status_code == 302
        client.get(_class_url(school_a))
    assert len(many) == len(few)
    assert Gift.objects.filter(status=Gift.Status.SIZED).count() == 33


def test_it_shows_a_refused_size_with_the_typed_values(client_for, pastoral_a, school_a, intake_a):
    post = _sizes_post(Gift.objects.all(), "XXL")
    response = client_for(pastoral_a).post(_class_url(school_a), post)
    assert response.status_code == 400
    assert "Jumper comes in 3-4, 5-6, 7-8" in response.content.decode()


def test_it_refuses_sizes_to_finance(client_for, finance, school_a, intake_a):
    response = client_for(finance).post(_class_url(school_a), _sizes_post(Gift.objects.all()))
    assert response.status_code == 403


def test_it_packs_and_hands_over_from_the_class_page(client_for, pastoral_a, school_a, jumper_a, intake_a):
    client = client_for(pastoral_a)
    client.post(_class_url(school_a), _sizes_post(Gift.objects.all()))
    gift = Gift.objects.order_by("pk").first()
    stock_services.stock_receive(item=jumper_a, size="5-6", quantity=1, actor=pastoral_a)
    client.post(reverse("gift_pack", args=[gift.pk]))
    response = client.post(reverse("gift_hand_over", args=[gift.pk]), follow=True)
    assert "Not enough stock" in response.content.decode()
    assert Gift.objects.get(pk=gift.pk).status == Gift.Status.PACKED
    stock_services.stock_receive(item=jumper_a, size="5-6", quantity=1, actor=pastoral_a)
    response = client.post(reverse("gift_hand_over", args=[gift.pk]), follow=True)
    assert "was handed over" in response.content.decode()
    assert Gift.objects.get(pk=gift.pk).status == Gift.Status.HANDED_OVER


def test_it_hides_another_schools_gifts(client_for, pastoral_b, school_a, intake_a):
    gift = Gift.objects.first()
    client = client_for(pastoral_b)
    assert client.post(reverse("gift_pack", args=[gift.pk])).status_code == 404
    assert client.post(reverse("gift_hand_over", args=[gift.pk])).status_code == 404
    assert client.post(_class_url(school_a), _sizes_post(Gift.objects.all())).status_code == 404
    assert not GiftLine.objects.exclude(size="").exists()


def test_it_lets_a_lead_add_an_item_and_set_the_pack(client_for, lead_a, school_a):
    client = client_for(lead_a)
    response = client.post(
        reverse("uniform_item_add", args=[school_a.pk]),
        {
            "name": "PE kit",
            "sizes": "S, M, L",
            "unit_cost": "12.50",
            "supplier": "Acme",
            "track_stock": "on",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    item = UniformItem.objects.get(name="PE kit")
    assert item.sizes == ["S", "M", "L"]
    assert item.unit_cost_pence == 12_50
    assert item.track_stock
    response = client.post(reverse("welcome_pack_edit", args=[school_a.pk, 0]), {f"qty-{item.pk}": "2"})
    assert response.status_code == 302
    assert WelcomePackItem.objects.get(item=item).quantity == 2
    bad = client.post(reverse("uniform_item_add", args=[school_a.pk]), {"name": "Tie", "unit_cost": "lots"})
    assert bad.status_code == 400
    assert "Enter an amount" in bad.content.decode()


def test_it_records_deliveries_and_adjustments_on_the_stock_page(client_for, pastoral_a, school_a, jumper_a):
    client = client_for(pastoral_a)
    url = reverse("uniform_stock", args=[school_a.pk])
    ok = client.post(
        url, {"action": "receive", "receive-item_size": f"{jumper_a.pk}|3-4", "receive-change": "6"}
    )
    assert ok.status_code == 302
    refused = client.post(
        url,
        {
            "action": "adjust",
            "adjust-item_size": f"{jumper_a.pk}|3-4",
            "adjust-change": "-9",
            "adjust-note": "count",
        },
    )
    assert refused.status_code == 400
    assert "below zero: 6 in stock" in refused.content.decode()
    assert StockLevel.objects.get(item=jumper_a, size="3-4").quantity == 6


def test_it_prints_gift_slips_with_first_name_and_class_only(client_for, pastoral_a, school_a, intake_a):
    Gift.objects.update(status=Gift.Status.SIZED)
    pupil = intake_a[0]
    response = client_for(pastoral_a).get(
        reverse("uniform_gift_slips", args=[school_a.pk]) + f"?year={this_year()}"
    )
    assert response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content)
    assert pupil.legal_forename in text
    assert "Reception, Alpha Primary Academy" in text
    assert "Able" not in text  # no surname on a slip that goes home


def test_it_prints_a_packing_list_with_a_received_by_line(client_for, pastoral_a, school_a, intake_a):
    client_for(pastoral_a).post(_class_url(school_a), _sizes_post(Gift.objects.all()))
    response = client_for(pastoral_a).get(
        reverse("uniform_packing_list", args=[school_a.pk]) + f"?year={this_year()}"
    )
    text = _pdf_text(response.content)
    assert "Received by" in text
    assert "Jumper" in text
    assert "5-6" in text
    assert text.count("Received by") == 3


def test_it_never_prints_a_size_that_was_not_recorded_on_a_slip(client_for, pastoral_a, school_a, intake_a):
    first = intake_a[0]
    jumper = GiftLine.objects.get(gift__pupil=first, item__name="Jumper")
    client_for(pastoral_a).post(_class_url(school_a), {f"size-{jumper.pk}": "Age 5-6"})
    response = client_for(pastoral_a).get(
        reverse("uniform_gift_slips", args=[school_a.pk]) + f"?year={this_year()}"
    )
    slips = [page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages]
    text = "\n".join(slips)
    # Jumpers come in sizes: one recorded (typed as "Age 5-6", kept as the item's "5-6"), two not.
    assert text.count("Jumper 5-6 2") == 1
    assert text.count("Jumper Size needed 2") == 2
    # Only the book bag, which comes in one size, says so.
    assert text.count("One size") == text.count("Book bag") == 3


def test_it_lists_pupils_without_sizes_on_the_packing_list_with_a_count(
    client_for, pastoral_a, school_a, intake_a
):
    sized, unsized = intake_a[:2], intake_a[2]
    client_for(pastoral_a).post(_class_url(school_a), _sizes_post(Gift.objects.filter(pupil__in=sized)))
    response = client_for(pastoral_a).get(
        reverse("uniform_packing_list", args=[school_a.pk]) + f"?year={this_year()}"
    )
    text = " ".join(_pdf_text(response.content).split())
    head = text.split("Totals to pick")[0]
    assert "2 packs to pick · 1 pupil: size needed" in head
    assert text.count("Received by") == 2  # only the packs that can be picked
    needed = text.split("Size needed: 1 pupil, not to pack yet")[1]
    assert f"{unsized.known_as} {unsized.surname} Reception Jumper" in needed
    assert "Jumper 5-6 4" in text.split("Totals to pick")[1]  # the totals count sized packs only
    assert "One size / not recorded" not in text


def test_it_exports_the_supplier_order_as_csv_and_pdf(client_for, pastoral_a, school_a, jumper_a, intake_a):
    client = client_for(pastoral_a)
    client.post(_class_url(school_a), _sizes_post(Gift.objects.all()))
    stock_services.stock_receive(item=jumper_a, size="5-6", quantity=2, actor=pastoral_a)
    csv_text = client.get(
        reverse("uniform_order_summary", args=[school_a.pk, "csv"]) + f"?year={this_year()}"
    )
    lines = csv_text.content.decode().splitlines()
    assert lines[0].startswith("Supplier,Item,Size,Needed,In stock,To order")
    assert "Smart Kids Ltd,Jumper,5-6,6,2,4,8.50,34.00" in lines
    assert "Smart Kids Ltd,Book bag,One size,3,not tracked,3,4.00,12.00" in lines
    pdf = client.get(reverse("uniform_order_summary", args=[school_a.pk, "pdf"]) + f"?year={this_year()}")
    assert "Jumper" in _pdf_text(pdf.content)
    assert "£46.00" in _pdf_text(pdf.content)


@pytest.mark.parametrize("status", Gift.Status.values)
def test_it_shows_the_pack_buttons_the_gift_table_allows(status, client_for, pastoral_a, school_a, intake_a):
    from uniform.transitions import GIFT_FLOW

    Gift.objects.update(status=status)
    page = client_for(pastoral_a).get(_class_url(school_a)).content.decode()
    gift = Gift.objects.order_by("pk").first()
    shown = {
        name
        for name, url in (("pack", "gift_pack"), ("hand-over", "gift_hand_over"))
        if reverse(url, args=[gift.pk]) in page
    }
    assert shown == {move.name for move in GIFT_FLOW.moves_from(status)}
