"""The welcome-uniform API: scoped lists, filters, and the sizes / packed / handed-over actions."""

import pytest
from rest_framework.test import APIClient

from tests.uniform.test_gifts_fixtures import (
    bag_a,
    jumper_a,
    make_intake,
    make_item,
    make_pack,
    pack_a,
    this_year,
)
from uniform.models import Gift
from uniform.services import gifts as gift_services
from uniform.services import stock as stock_services

FIXTURES = (bag_a, jumper_a, pack_a)  # pytest finds these by name
pytestmark = pytest.mark.django_db


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def gifts(lead_a, lead_b, school_a, school_b, pack_a):
    make_intake(school_a, 2)
    make_pack(school_b, 7, [(make_item(school_b, "Blazer", sizes=("S", "M")), 1)])
    make_intake(school_b, 1, year_group=7)
    gift_services.gifts_generate(school=school_a, academic_year=this_year(), actor=lead_a)
    gift_services.gifts_generate(school=school_b, academic_year=this_year(), actor=lead_b)
    return Gift.objects.all()


@pytest.mark.parametrize(
    ("persona", "method", "path", "expected"),
    [
        ("pastoral_a", "get", "/api/v1/gifts/", 200),
        ("finance", "get", "/api/v1/gifts/", 200),
        ("charity_staff", "get", "/api/v1/gifts/", 403),
        (None, "get", "/api/v1/gifts/", 401),
        ("pastoral_a", "get", "/api/v1/uniform-items/", 200),
        ("pastoral_a", "get", "/api/v1/welcome-packs/", 200),
        ("charity_staff", "get", "/api/v1/welcome-packs/", 403),
        ("finance", "post", "/api/v1/gifts/{a}/packed/", 403),
        ("pastoral_b", "post", "/api/v1/gifts/{a}/packed/", 404),
        ("pastoral_b", "post", "/api/v1/gifts/{a}/handed-over/", 404),
        ("pastoral_b", "get", "/api/v1/gifts/{a}/", 404),
        ("pastoral_a", "post", "/api/v1/gifts/{a}/packed/", 409),
        ("pastoral_a", "put", "/api/v1/gifts/{a}/", 403),  # no such action: refused
    ],
)
def test_it_answers_each_role_as_the_table_says(request, gifts, school_a, persona, method, path, expected):
    user = request.getfixturevalue(persona) if persona else None
    client = _api(user) if user else APIClient()
    gift_a = gifts.filter(school=school_a).first()
    response = getattr(client, method)(path.format(a=gift_a.pk), format="json")
    assert response.status_code == expected


def test_it_lists_only_gifts_in_scope_with_filters(gifts, pastoral_a, finance, school_a, school_b):
    mine = _api(pastoral_a).get("/api/v1/gifts/").json()
    assert mine["count"] == 2
    assert {g["school"] for g in mine["results"]} == {school_a.pk}
    everyone = _api(finance).get("/api/v1/gifts/", {"year_group": 7}).json()
    assert everyone["count"] == 1
    assert everyone["results"][0]["school"] == school_b.pk
    waiting = _api(finance).get("/api/v1/gifts/", {"status": "sized", "academic_year": this_year()}).json()
    assert waiting["count"] == 0


def test_it_records_sizes_packs_and_hands_over_through_the_api(gifts, pastoral_a, school_a, jumper_a):
    gift = gifts.filter(school=school_a).first()
    client = _api(pastoral_a)
    response = client.post(
        f"/api/v1/gifts/{gift.pk}/sizes/", {"sizes": [{"item": jumper_a.pk, "size": "7-8"}]}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "sized"
    assert {line["item_name"]: line["size"] for line in response.json()["lines"]} == {
        "Book bag": "",
        "Jumper": "7-8",
    }
    assert client.post(f"/api/v1/gifts/{gift.pk}/packed/").json()["status"] == "packed"
    refused = client.post(f"/api/v1/gifts/{gift.pk}/handed-over/")
    assert refused.status_code == 409
    assert "Not enough stock" in refused.json()["detail"]
    stock_services.stock_receive(item=jumper_a, size="7-8", quantity=2, actor=pastoral_a)
    done = client.post(f"/api/v1/gifts/{gift.pk}/handed-over/").json()
    assert done["status"] == "handed_over"
    assert done["cost_pence"] == 21_00


def test_it_refuses_a_size_the_item_does_not_come_in(gifts, pastoral_a, school_a, jumper_a, bag_a):
    gift = gifts.filter(school=school_a).first()
    client = _api(pastoral_a)
    bad = client.post(
        f"/api/v1/gifts/{gift.pk}/sizes/", {"sizes": [{"item": jumper_a.pk, "size": "XL"}]}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["size"] == ["Jumper comes in 3-4, 5-6, 7-8."]
    other = client.post(
        f"/api/v1/gifts/{gift.pk}/sizes/", {"sizes": [{"item": 999999, "size": "S"}]}, format="json"
    )
    assert other.status_code == 400


def test_it_shows_welcome_packs_with_their_items(gifts, pastoral_a, school_a):
    packs = _api(pastoral_a).get("/api/v1/welcome-packs/").json()["results"]
    assert len(packs) == 1
    assert packs[0]["school"] == school_a.pk
    assert {i["item_name"]: i["quantity"] for i in packs[0]["items"]} == {"Jumper": 2, "Book bag": 1}
