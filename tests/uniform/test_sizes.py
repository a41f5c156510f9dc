"""One size vocabulary (uniform.sizes): one spelling for items, gifts, stock, requests and the drive."""

import pytest

from support.errors import SupportError
from uniform.models import ItemKind
from uniform.services import gifts as gift_services
from uniform.services import stock as stock_services
from uniform.sizes import (
    AGE_SIZES,
    LETTER_SIZES,
    ONE_SIZE,
    SHOE_SIZES,
    SIZE_NEEDED,
    check_size,
    normalise_size,
    normalise_sizes,
    size_label,
)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("Age 11-12", "11-12"),
        ("age 11 - 12", "11-12"),
        ("11–12 years", "11-12"),
        ("Ages 3/4", "3-4"),
        ("11-12 yrs", "11-12"),
        ("Adult M", "M"),
        ("adult xl", "XL"),
        ("Medium", "M"),
        ("s", "S"),
        ("child 10.5", "Child 10½"),
        ("Child 11½", "Child 11½"),
        ("kids 12 1/2", "Child 12½"),
        ("Adult 5", "Adult 5"),
        ("One size", ""),
        ("  ", ""),
        ("Chest 32in", "Chest 32in"),  # a school's own size is kept as typed
    ],
)
def test_it_reads_every_spelling_of_a_size_as_one(typed, kept):
    assert normalise_size(typed) == kept


def test_it_keeps_the_standard_lists_in_their_own_spelling():
    for size in AGE_SIZES + LETTER_SIZES + SHOE_SIZES:
        assert normalise_size(size) == size
    assert "Age 11-12" not in AGE_SIZES


def test_it_refuses_an_item_with_the_same_size_twice_in_two_spellings():
    assert normalise_sizes(["Age 3-4", "5 - 6", "Adult S"]) == ["3-4", "5-6", "S"]
    with pytest.raises(SupportError, match="each size once"):
        normalise_sizes(["11-12", "Age 11-12"])


def test_it_matches_a_size_to_the_items_own_spelling():
    assert check_size(name="Coat", sizes=["11-12", "M"], value="Age 11-12") == "11-12"
    assert (
        check_size(name="Coat", sizes=["Age 11-12"], value="11-12") == "Age 11-12"
    )  # an item not yet re-saved
    assert check_size(name="Tie", sizes=[], value="One size") == ""
    with pytest.raises(SupportError, match="Coat comes in 11-12, M"):
        check_size(name="Coat", sizes=["11-12", "M"], value="Age 13-14")
    with pytest.raises(SupportError, match="Choose a size of Coat"):
        check_size(name="Coat", sizes=["11-12"], value="")
    with pytest.raises(SupportError, match="Tie comes in one size"):
        check_size(name="Tie", sizes=[], value="M")


def test_it_never_shows_a_size_that_was_not_recorded():
    assert size_label(["3-4"], "3-4") == "3-4"
    assert size_label(["3-4"], "") == SIZE_NEEDED
    assert size_label([], "") == ONE_SIZE


def test_it_saves_an_items_sizes_in_their_one_spelling_and_its_kind(lead_a, school_a):
    coat = gift_services.uniform_item_save(
        school=school_a,
        actor=lead_a,
        name="Winter coat",
        kind=ItemKind.COAT,
        sizes=["Age 9-10", "Age 11-12", "Adult S"],
        unit_cost_pence=22_00,
    )
    coat.refresh_from_db()
    assert (coat.kind, coat.sizes) == (ItemKind.COAT, ["9-10", "11-12", "S"])


def test_it_records_a_gift_size_and_stock_in_the_items_spelling(lead_a, pastoral_a, school_a):
    from uniform.models import StockLevel

    jumper = gift_services.uniform_item_save(
        school=school_a, actor=lead_a, name="Jumper", sizes=["3-4", "5-6"], unit_cost_pence=8_00
    )
    stock_services.stock_receive(item=jumper, size="Age 5-6", quantity=4, actor=pastoral_a)
    assert StockLevel.objects.get(item=jumper).size == "5-6"


def test_it_lets_a_lead_add_a_coat_on_the_items_page(client_for, lead_a, school_a):
    from django.urls import reverse

    from uniform.models import UniformItem

    client = client_for(lead_a)
    response = client.post(
        reverse("uniform_item_add", args=[school_a.pk]),
        {"name": "Winter coat", "kind": "coat", "sizes": "Age 7-8, Age 9-10", "unit_cost": "22.00"},
    )
    assert response.status_code == 302
    coat = UniformItem.objects.get(name="Winter coat")
    assert (coat.kind, coat.sizes, coat.unit_cost_pence) == ("coat", ["7-8", "9-10"], 22_00)
    page = client.get(reverse("uniform_items", args=[school_a.pk])).content.decode()
    assert "Winter coat" in page
    assert "Coat" in page


def test_it_keeps_sizes_typed_in_the_admin_in_their_one_spelling(client_for, admin, school_a):
    from django.urls import reverse

    from uniform.models import UniformItem

    response = client_for(admin).post(
        reverse("admin:uniform_uniformitem_add"),
        {
            "school": school_a.pk,
            "name": "Winter coat",
            "kind": "coat",
            "sizes": '["Age 9-10", "Adult M"]',
            "unit_cost_pence": 2200,
            "supplier": "",
            "track_stock": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert UniformItem.objects.get(name="Winter coat").sizes == ["9-10", "M"]
