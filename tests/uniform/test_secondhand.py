"""Second-hand uniform first (issue 22.2): donated stock costs the fund nothing, is offered before new,
is never given in a pack the trust promises new, and what it saved is counted per school."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from funds.models import LedgerEntry
from funds.selectors.positions import fund_position
from funds.services.ledger import fund_for_school, standby_fund
from support.errors import ConflictError, SupportError
from support.models import AuditEvent
from support.services import pupil_set_in_need
from tests.factories import FamilyFactory, PupilFactory
from tests.uniform.test_gifts_fixtures import make_intake, make_item, make_pack, this_year
from uniform.models import Gift, GiftLine, StockLevel, StockMovement, SupportRequest
from uniform.selectors import secondhand_by_school, secondhand_savings
from uniform.services import gifts as gift_services
from uniform.services import requests as request_services
from uniform.services import stock as stock_services

Status = SupportRequest.Status
Kind = LedgerEntry.Kind
pytestmark = pytest.mark.django_db


@pytest.fixture
def blazer_a(school_a):
    return make_item(school_a, "Blazer", sizes=("7-8", "9-10"), cost=30_00, track=False)


@pytest.fixture
def approved_blazer(school_a, pastoral_a, blazer_a):
    """An approved request for one blazer in 9-10 at school A: £30 committed from the standby fund."""
    pupil = PupilFactory(school=school_a, family=FamilyFactory())
    pupil_set_in_need(pupil=pupil, actor=pastoral_a, in_need=True, reason="Joined mid-year")
    made = request_services.request_create(
        pupil=pupil, kind="uniform", item=blazer_a, size="9-10", reason="Outgrown", urgency="routine",
        actor=pastoral_a,
    )  # fmt: skip
    assert (made.status, made.cost_pence) == (Status.APPROVED, 30_00)
    return made


def _donate(item, size, quantity, actor, condition="good"):
    return stock_services.stock_donation_receive(
        item=item, size=size, quantity=quantity, condition=condition, actor=actor, note="Summer fair"
    )


# --- Taking donations in -----------------------------------------------------------------------------


def test_it_takes_donations_into_second_hand_stock_at_no_cost(pastoral_a, blazer_a):
    before = LedgerEntry.objects.count()
    _donate(blazer_a, "9-10", 3, pastoral_a)
    _donate(blazer_a, "9-10", 1, pastoral_a, condition="as_new")
    assert stock_services.secondhand_in_stock(item=blazer_a, size="9-10") == {"as_new": 1, "good": 3}
    assert LedgerEntry.objects.count() == before  # nothing to the fund
    movement = StockMovement.objects.filter(kind=StockMovement.Kind.DONATION).first()
    assert (movement.condition, movement.saved_pence) in {("good", 0), ("as_new", 0)}
    assert AuditEvent.objects.filter(action="stock.donation", after__condition="good").exists()


def test_it_refuses_a_donation_as_new_stock_a_size_it_lacks_or_from_another_school(
    pastoral_a, pastoral_b, blazer_a
):
    with pytest.raises(SupportError, match="condition"):
        _donate(blazer_a, "9-10", 1, pastoral_a, condition="new")
    with pytest.raises(SupportError, match="comes in"):
        _donate(blazer_a, "XL", 1, pastoral_a)
    with pytest.raises(SupportError, match="Only staff"):
        _donate(blazer_a, "9-10", 1, pastoral_b)
    assert not StockLevel.objects.exists()


def test_it_keeps_new_and_second_hand_stock_apart(pastoral_a, school_a):
    jumper = make_item(school_a, "Jumper")
    stock_services.stock_receive(item=jumper, size="5-6", quantity=2, actor=pastoral_a)
    _donate(jumper, "5-6", 4, pastoral_a)
    levels = dict(StockLevel.objects.filter(item=jumper).values_list("condition", "quantity"))
    assert levels == {"new": 2, "good": 4}
    with pytest.raises(ConflictError, match=r"second-hand, good\) below zero: 4 in stock"):
        stock_services.stock_adjust(
            item=jumper, size="5-6", change=-5, actor=pastoral_a, note="Lost", condition="good"
        )


# --- A request met second-hand -------------------------------------------------------------------------


def test_it_meets_a_request_from_second_hand_at_no_cost_to_the_fund(pastoral_a, blazer_a, approved_blazer):
    fund = fund_for_school(approved_blazer.school)
    committed = fund_position(fund=fund).committed_pence
    _donate(blazer_a, "9-10", 2, pastoral_a)
    assert request_services.request_secondhand_offer(request=approved_blazer) == {"good": 2}

    met = request_services.request_mark_from_secondhand(request=approved_blazer, actor=pastoral_a)
    assert (met.status, met.cost_pence) == (Status.FROM_STOCK, 0)
    assert "second-hand" in met.no_cost_reason
    assert fund_position(fund=fund).committed_pence == committed - 30_00  # the commitment is given back
    taken = StockMovement.objects.get(request=met)
    assert (taken.change, taken.condition, taken.saved_pence) == (-1, "good", 30_00)
    assert stock_services.secondhand_in_stock(item=blazer_a, size="9-10") == {"good": 1}

    spent_before = fund_position(fund=fund).spent_pence
    request_services.request_hand_over(request=met, actor=pastoral_a)
    assert fund_position(fund=fund).spent_pence == spent_before  # £0 charged for second-hand
    assert AuditEvent.objects.filter(
        action="support_request.from_secondhand", after__saved_pence=30_00
    ).exists()


def test_it_refuses_second_hand_without_enough_in_the_size_and_changes_nothing(
    pastoral_a, blazer_a, approved_blazer
):
    _donate(blazer_a, "7-8", 5, pastoral_a)  # the wrong size
    assert request_services.request_secondhand_offer(request=approved_blazer) == {}
    with pytest.raises(SupportError, match="not enough second-hand Blazer"):
        request_services.request_mark_from_secondhand(request=approved_blazer, actor=pastoral_a)
    approved_blazer.refresh_from_db()
    assert (approved_blazer.status, approved_blazer.cost_pence) == (Status.APPROVED, 30_00)


def test_it_offers_second_hand_only_while_a_request_can_be_met_from_stock(
    pastoral_a, blazer_a, approved_blazer
):
    _donate(blazer_a, "9-10", 1, pastoral_a)
    request_services.request_mark_ordered(request=approved_blazer, actor=pastoral_a)
    assert request_services.request_secondhand_offer(request=approved_blazer) == {}
    with pytest.raises(ConflictError):
        request_services.request_mark_from_secondhand(request=approved_blazer, actor=pastoral_a)


def test_it_shows_the_offer_first_on_the_page_and_staff_choose_it(
    client_for, pastoral_a, blazer_a, approved_blazer
):
    _donate(blazer_a, "9-10", 2, pastoral_a)
    client = client_for(pastoral_a)
    page = client.get(f"/requests/{approved_blazer.pk}/").content.decode()
    assert page.index("Give second-hand: good (2 in stock)") < page.index("Take from stock")
    answer = client.post(f"/requests/{approved_blazer.pk}/from-secondhand/", {"condition": "good"})
    assert answer.status_code == 302
    approved_blazer.refresh_from_db()
    assert (approved_blazer.status, approved_blazer.cost_pence) == (Status.FROM_STOCK, 0)


def test_the_api_meets_a_request_second_hand(pastoral_a, pastoral_b, blazer_a, approved_blazer):
    _donate(blazer_a, "9-10", 1, pastoral_a, condition="fair")
    api = APIClient()
    api.force_authenticate(pastoral_b)
    url = f"/api/v1/support-requests/{approved_blazer.pk}/from-secondhand/"
    assert api.post(url, {}).status_code == 404  # another school's
    api.force_authenticate(pastoral_a)
    assert api.post(url, {"condition": "good"}, format="json").status_code == 409  # none in good
    answer = api.post(url, {}, format="json")
    assert answer.status_code == 200, answer.content
    assert (answer.json()["status"], answer.json()["cost_pence"]) == ("from_stock", 0)


# --- Welcome packs ------------------------------------------------------------------------------------


@pytest.fixture
def packed_gift(school_a, lead_a, pastoral_a, blazer_a):
    """A packed Reception gift of a jumper (new, tracked, 5 in stock) and a blazer, from the standby fund."""
    jumper = make_item(school_a, "Jumper", sizes=("7-8", "9-10"), cost=10_00)
    pack = make_pack(school_a, 0, [(jumper, 1), (blazer_a, 1)])
    pack.fund = standby_fund()
    pack.save()
    make_intake(school_a, 1)
    gift_services.gifts_generate(school=school_a, academic_year=this_year(), actor=lead_a)
    gift = Gift.objects.get()
    gift_services.gift_sizes_record(
        school=school_a, sizes={line.pk: "9-10" for line in gift.lines.all()}, actor=pastoral_a
    )
    stock_services.stock_receive(item=jumper, size="9-10", quantity=5, actor=pastoral_a)
    gift_services.gift_pack(gift=gift, actor=pastoral_a)
    gift.refresh_from_db()
    return gift


def _allow_secondhand(gift):
    from uniform.models import WelcomePack

    WelcomePack.objects.filter(school=gift.school, year_group=gift.year_group).update(promise_new=False)


def test_it_never_offers_second_hand_in_a_pack_the_trust_promises_new(pastoral_a, blazer_a, packed_gift):
    _donate(blazer_a, "9-10", 3, pastoral_a)
    assert gift_services.gift_secondhand_offer(gift=packed_gift) == {}
    line = packed_gift.lines.get(item=blazer_a)
    with pytest.raises(SupportError, match="promises this welcome pack new"):
        gift_services.gift_secondhand_choose(gift=packed_gift, conditions={line.pk: "good"}, actor=pastoral_a)
    assert GiftLine.objects.get(pk=line.pk).condition == "new"


def test_it_charges_a_pack_only_for_what_is_given_new(pastoral_a, blazer_a, packed_gift):
    _allow_secondhand(packed_gift)
    _donate(blazer_a, "9-10", 3, pastoral_a)
    line = packed_gift.lines.get(item=blazer_a)
    assert gift_services.gift_secondhand_offer(gift=packed_gift)[line.pk] == {"good": 3}
    gift_services.gift_secondhand_choose(gift=packed_gift, conditions={line.pk: "good"}, actor=pastoral_a)
    fund = standby_fund()
    before = fund_position(fund=fund)

    handed = gift_services.gift_hand_over(gift=packed_gift, actor=pastoral_a)
    after = fund_position(fund=fund)
    assert handed.cost_pence == 10_00  # the jumper, new; the blazer second-hand at £0
    assert after.spent_pence - before.spent_pence == 10_00
    assert before.committed_pence - after.committed_pence == 40_00  # all of the pack's commitment closed
    assert stock_services.secondhand_in_stock(item=blazer_a, size="9-10") == {"good": 2}
    saved = StockMovement.objects.get(gift=handed, item=blazer_a)
    assert (saved.condition, saved.saved_pence) == ("good", 30_00)
    assert AuditEvent.objects.filter(action="gift.handed_over", after__secondhand_saved_pence=30_00).exists()


def test_it_refuses_a_hand_over_when_the_second_hand_chosen_has_gone(pastoral_a, blazer_a, packed_gift):
    _allow_secondhand(packed_gift)
    _donate(blazer_a, "9-10", 1, pastoral_a)
    line = packed_gift.lines.get(item=blazer_a)
    gift_services.gift_secondhand_choose(gift=packed_gift, conditions={line.pk: "good"}, actor=pastoral_a)
    stock_services.stock_adjust(
        item=blazer_a, size="9-10", change=-1, actor=pastoral_a, note="Stained", condition="good"
    )
    with pytest.raises(ConflictError, match="Blazer size 9-10 second-hand, good"):
        gift_services.gift_hand_over(gift=packed_gift, actor=pastoral_a)
    packed_gift.refresh_from_db()
    assert packed_gift.status == Gift.Status.PACKED


def test_the_gift_page_saves_the_choice(client_for, pastoral_a, pastoral_b, blazer_a, packed_gift):
    _allow_secondhand(packed_gift)
    _donate(blazer_a, "9-10", 2, pastoral_a)
    line = packed_gift.lines.get(item=blazer_a)
    assert client_for(pastoral_b).get(f"/uniform/gifts/{packed_gift.pk}/second-hand/").status_code == 404
    client = client_for(pastoral_a)
    assert (
        "Second-hand, good (2 in stock)"
        in client.get(f"/uniform/gifts/{packed_gift.pk}/second-hand/").content.decode()
    )
    client.post(f"/uniform/gifts/{packed_gift.pk}/second-hand/", {f"condition-{line.pk}": "good"})
    assert GiftLine.objects.get(pk=line.pk).condition == "good"


# --- What second-hand saved -----------------------------------------------------------------------------


def test_it_counts_what_second_hand_saved_per_school_between_two_days(
    pastoral_a, pastoral_b, finance, school_a, school_b, blazer_a, approved_blazer
):
    _donate(blazer_a, "9-10", 2, pastoral_a)
    request_services.request_mark_from_secondhand(request=approved_blazer, actor=pastoral_a)
    today = timezone.localdate()
    assert secondhand_savings(today, today) == {school_a.pk: 30_00}
    assert secondhand_savings(today - datetime.timedelta(days=9), today - datetime.timedelta(days=1)) == {}
    rows = {row.school.pk: row for row in secondhand_by_school(finance, start=today, end=today)}
    assert (rows[school_a.pk].in_stock, rows[school_a.pk].given, rows[school_a.pk].saved_pence) == (
        1,
        1,
        30_00,
    )
    assert rows[school_b.pk].saved_pence == 0
    assert [row.school.pk for row in secondhand_by_school(pastoral_b, start=today, end=today)] == [
        school_b.pk
    ]


def test_the_api_takes_donations_in_for_the_callers_schools_only(pastoral_a, pastoral_b, finance, blazer_a):
    api = APIClient()
    body = {"item": blazer_a.pk, "size": "9-10", "condition": "as_new", "quantity": 2, "note": "Fair"}
    api.force_authenticate(finance)
    assert api.post("/api/v1/stock-donations/", body, format="json").status_code == 403
    api.force_authenticate(pastoral_b)
    answer = api.post("/api/v1/stock-donations/", body, format="json")
    assert answer.status_code == 400  # another school's item "does not exist"
    assert not StockLevel.objects.exists()
    api.force_authenticate(pastoral_a)
    answer = api.post("/api/v1/stock-donations/", body, format="json")
    assert answer.status_code == 201, answer.content
    assert (answer.json()["condition"], answer.json()["change"]) == ("as_new", 2)
    assert stock_services.secondhand_in_stock(item=blazer_a, size="9-10") == {"as_new": 2}


def test_the_api_chooses_second_hand_for_a_pack(pastoral_a, blazer_a, packed_gift):
    api = APIClient()
    api.force_authenticate(pastoral_a)
    url = f"/api/v1/gifts/{packed_gift.pk}/second-hand/"
    body = {"lines": [{"item": blazer_a.pk, "condition": "good"}]}
    assert api.post(url, body, format="json").status_code == 400  # the pack promises new
    _allow_secondhand(packed_gift)
    answer = api.post(url, body, format="json")
    assert answer.status_code == 200, answer.content
    conditions = {line["item"]: line["condition"] for line in answer.json()["lines"]}
    assert conditions[blazer_a.pk] == "good"


def test_a_lead_lets_a_pack_be_given_second_hand_on_its_page(client_for, lead_a, school_a, blazer_a):
    from uniform.models import WelcomePack

    page = f"/uniform/schools/{school_a.pk}/packs/0/"
    assert (
        'name="promise_new" type="checkbox" value="yes" checked'
        in client_for(lead_a).get(page).content.decode()
    )
    client_for(lead_a).post(page, {f"qty-{blazer_a.pk}": "1"})
    pack = WelcomePack.objects.get(school=school_a, year_group=0)
    assert not pack.promise_new  # the box left unticked
    assert AuditEvent.objects.filter(
        action="welcome_pack.promise_new_changed", after__promise_new=False
    ).exists()
    client_for(lead_a).post(page, {f"qty-{blazer_a.pk}": "1", "promise_new": "yes"})
    pack.refresh_from_db()
    assert pack.promise_new
