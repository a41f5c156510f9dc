"""Issue 22's "Done when", second-hand and branded parts: a school takes in donated blazers and a request
is met from them at £0; the branded-items page shows a school over the limit."""

import pytest

from funds.selectors.positions import fund_position
from tests.e2e.browser import follow, sign_in
from tests.factories import FamilyFactory, PupilFactory
from tests.uniform.test_gifts_fixtures import make_item
from uniform.models import StockLevel, SupportRequest, UniformItem

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def approved_blazer(funded, school_a, pastoral_a):
    """A £30 blazer in 11-12 for a pupil in need: within policy and the threshold, approved at once."""
    from uniform.services import requests as request_services

    blazer = make_item(school_a, "Blazer", sizes=("9-10", "11-12"), cost=30_00, track=False)
    pupil = PupilFactory(
        family=FamilyFactory(lead_carer_name="Dee Dale"), school=school_a, legal_forename="Dan", in_need=True
    )
    request = request_services.request_create(
        pupil=pupil, kind="uniform", item=blazer, size="11-12", reason="Outgrown", urgency="routine",
        actor=pastoral_a,
    )  # fmt: skip
    assert request.status == SupportRequest.Status.APPROVED
    return request


def test_a_school_takes_in_donated_blazers_and_meets_a_request_from_them_at_no_cost(
    page, check_page, funded, school_a, pastoral_a, approved_blazer
):
    committed = fund_position(fund=funded).committed_pence
    sign_in(page, pastoral_a, next_path=f"/uniform/schools/{school_a.pk}/stock/")
    assert page.get_by_role("heading", level=1).inner_text() == "Uniform stock"
    page.locator("#id_donate-item_size").select_option(label="Blazer 11-12")
    page.locator("#id_donate-condition").select_option("good")
    page.locator("#id_donate-quantity").fill("3")
    page.locator("#id_donate-note").fill("Summer fair")
    follow(page.get_by_role("button", name="Take into stock"))
    assert page.get_by_text("Donated second-hand Blazer 11-12 recorded.").is_visible()
    assert StockLevel.objects.get(item__name="Blazer", size="11-12", condition="good").quantity == 3
    assert fund_position(fund=funded).committed_pence == committed  # donations cost the fund nothing
    check_page(page, "stock-with-donations")

    page.goto(f"/requests/{approved_blazer.pk}/")
    assert page.locator("#secondhand-offer").is_visible()
    check_page(page, "request-offered-second-hand")
    follow(page.get_by_role("button", name="Give second-hand: good (3 in stock)"))
    assert page.get_by_text("Request met second-hand, at no cost to the fund.").is_visible()
    assert page.get_by_text("£0.00: Met from second-hand stock (good): no cost to the fund.").is_visible()
    approved_blazer.refresh_from_db()
    assert (approved_blazer.status, approved_blazer.cost_pence) == (SupportRequest.Status.FROM_STOCK, 0)
    assert fund_position(fund=funded).committed_pence == committed - 30_00  # the £30 went back
    follow(page.get_by_role("button", name="Mark as handed over"))
    assert fund_position(fund=funded).spent_pence == 0  # £0 charged
    check_page(page, "request-handed-over-second-hand")

    page.goto("/uniform/second-hand/")
    row = page.locator("#secondhand-schools tbody tr", has_text=school_a.name)
    assert row.locator("td").all_inner_texts() == ["2", "1", "£30.00"]
    check_page(page, "second-hand-per-school")


def test_the_branded_items_page_shows_a_school_over_the_limit(page, check_page, school_a, lead_a):
    for name in ("Sweatshirt", "PE kit", "Book bag"):
        UniformItem.objects.filter(pk=make_item(school_a, name).pk).update(branded=True, required=True)
    polo = make_item(school_a, "Polo shirt")
    sign_in(page, lead_a, next_path="/uniform/branded-items/")
    row = page.locator(f"#branded-{school_a.pk}")
    assert row.get_by_text("Within the limit").is_visible()

    # The lead marks the polo shirt branded and required: four, where a primary may require three.
    page.goto(f"/uniform/schools/{school_a.pk}/items/{polo.pk}/")
    page.get_by_label("Branded (the school's logo, or sold only through the school)").check()
    page.get_by_label("Required (pupils must have it)").check()
    follow(page.get_by_role("button", name="Save"))
    page.goto("/uniform/branded-items/")
    assert row.get_by_text("Over the limit by 1").is_visible()
    assert row.locator("td").nth(1).inner_text() == "4"
    check_page(page, "branded-over-the-limit")
