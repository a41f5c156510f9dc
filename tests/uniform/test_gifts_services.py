"""Welcome-pack gifts: generating the intake's gifts, sizes, packing, hand-over (services)."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from support.errors import ConflictError, SupportError
from support.models import AuditEvent
from tests.factories import PupilFactory, SchoolFactory
from tests.uniform.test_gifts_fixtures import (
    bag_a,
    jumper_a,
    make_intake,
    make_item,
    make_pack,
    pack_a,
    this_year,
)
from uniform.models import Gift, GiftLine, StockLevel, StockMovement, UniformItem, WelcomePack
from uniform.services import gifts as gift_services
from uniform.services import stock as stock_services

FIXTURES = (bag_a, jumper_a, pack_a)  # pytest finds these by name
pytestmark = pytest.mark.django_db


def _generate(lead, school, year=None) -> int:
    return gift_services.gifts_generate(school=school, academic_year=year or this_year(), actor=lead).count


def _size_all(gift_qs, actor, school, size="5-6") -> None:
    lines = GiftLine.objects.filter(gift__in=gift_qs).select_related("item")
    gift_services.gift_sizes_record(
        school=school, sizes={line.pk: size if line.item.sizes else "" for line in lines}, actor=actor
    )


def test_it_generates_one_gift_per_intake_pupil_with_the_pack_lines(lead_a, school_a, pack_a):
    intake = make_intake(school_a, 3)
    PupilFactory(school=school_a, year_group=4)  # not in the intake
    assert _generate(lead_a, school_a) == 3
    gifts = Gift.objects.filter(school=school_a)
    assert sorted(g.pupil_id for g in gifts) == sorted(p.pk for p in intake)
    assert {g.status for g in gifts} == {Gift.Status.AWAITING_SIZES}
    assert GiftLine.objects.filter(gift__in=gifts).count() == 6
    jumper_line = GiftLine.objects.filter(gift=gifts[0], item__name="Jumper").get()
    assert jumper_line.quantity == 2
    assert jumper_line.size == ""
    assert AuditEvent.objects.filter(action="gift.created").count() == 3
    assert AuditEvent.objects.filter(action="gifts.generated", after__count=3).exists()


def test_it_adds_only_pupils_who_joined_since_when_run_again(lead_a, school_a, pack_a):
    make_intake(school_a, 2)
    assert _generate(lead_a, school_a) == 2
    assert _generate(lead_a, school_a) == 0
    newcomer = PupilFactory(school=school_a, year_group=0)
    assert _generate(lead_a, school_a) == 1
    assert Gift.objects.filter(pupil=newcomer).count() == 1
    assert Gift.objects.count() == 3


def test_it_gives_year_7_the_year_7_pack_and_skips_year_groups_without_a_pack(lead_b, school_b):
    blazer = make_item(school_b, "Blazer", sizes=("S", "M"), cost=25_00)
    make_pack(school_b, 7, [(blazer, 1)])
    year7 = make_intake(school_b, 2, year_group=7)
    make_intake(school_b, 2, year_group=0)  # no Reception pack at B
    assert _generate(lead_b, school_b) == 2
    assert set(Gift.objects.values_list("pupil_id", flat=True)) == {p.pk for p in year7}
    assert set(Gift.objects.values_list("year_group", flat=True)) == {7}


def test_it_refuses_a_second_gift_for_the_same_pupil_and_year_in_the_database(lead_a, school_a, pack_a):
    pupil = make_intake(school_a, 1)[0]
    _generate(lead_a, school_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        Gift.objects.create(pupil=pupil, school=school_a, academic_year=this_year(), year_group=0)
    # Another year is another entitlement.
    Gift.objects.create(pupil=pupil, school=school_a, academic_year=this_year() + 1, year_group=0)


def test_it_never_gives_a_pupil_who_moved_school_a_second_pack_that_year(lead_a, lead_b, school_a, school_b):
    make_pack(school_b, 0, [(make_item(school_b, "Polo"), 1)])
    make_pack(school_a, 0, [(make_item(school_a, "Polo"), 1)])
    mover = make_intake(school_a, 1)[0]
    _generate(lead_a, school_a)
    mover.school = school_b
    mover.save()
    assert _generate(lead_b, school_b) == 0
    assert Gift.objects.filter(pupil=mover).count() == 1


def test_it_refuses_to_generate_without_a_pack_or_for_a_far_year(lead_a, school_a, jumper_a):
    make_intake(school_a, 1)
    with pytest.raises(SupportError, match="no welcome pack"):
        _generate(lead_a, school_a)
    make_pack(school_a, 0, [(jumper_a, 1)])
    with pytest.raises(SupportError) as refused:
        _generate(lead_a, school_a, this_year() - 3)
    assert refused.value.field == "academic_year"
    assert not Gift.objects.exists()


def test_it_lets_only_a_lead_of_the_school_generate(pastoral_a, lead_b, school_a, pack_a):
    make_intake(school_a, 1)
    for user in (pastoral_a, lead_b):
        with pytest.raises(SupportError, match="pastoral lead"):
            _generate(user, school_a)
    assert not Gift.objects.exists()


def test_it_generates_with_a_bounded_number_of_queries(lead_a, school_a, pack_a):
    make_intake(school_a, 1)
    _generate(lead_a, school_a)  # warms the scope and content-type caches
    make_intake(school_a, 5, surname="Some")
    with CaptureQueriesContext(connection) as few:
        assert _generate(lead_a, school_a) == 5
    make_intake(school_a, 60, surname="Later")
    with CaptureQueriesContext(connection) as many:
        assert _generate(lead_a, school_a) == 60
    assert len(many) == len(few)
    assert len(many) <= 12


def test_it_generates_for_every_school_of_a_trust_in_queries_per_school_not_per_pupil(admin):
    schools = [SchoolFactory() for _ in range(3)]
    for school in schools:
        make_pack(school, 0, [(make_item(school, "Jumper"), 1)])
        make_intake(school, 10)
    with CaptureQueriesContext(connection) as queries:
        total = sum(_generate(admin, school) for school in schools)
    assert total == 30
    assert len(queries) <= 3 * 14


def test_it_records_sizes_for_a_class_and_moves_complete_gifts_to_sized(pastoral_a, lead_a, school_a, pack_a):
    make_intake(school_a, 3)
    _generate(lead_a, school_a)
    gifts = list(Gift.objects.order_by("pk"))
    jumper_lines = {
        line.gift_id: line for line in GiftLine.objects.filter(item__name="Jumper").order_by("gift_id")
    }
    changed = gift_services.gift_sizes_record(
        school=school_a,
        sizes={jumper_lines[gifts[0].pk].pk: "5-6", jumper_lines[gifts[1].pk].pk: "7-8"},
        actor=pastoral_a,
    )
    assert changed == 2
    statuses = dict(Gift.objects.values_list("pk", "status"))
    # The book bag is one size, so a gift with its jumper size is complete.
    assert statuses == {
        gifts[0].pk: Gift.Status.SIZED,
        gifts[1].pk: Gift.Status.SIZED,
        gifts[2].pk: Gift.Status.AWAITING_SIZES,
    }
    assert GiftLine.objects.get(pk=jumper_lines[gifts[1].pk].pk).size == "7-8"
    event = AuditEvent.objects.get(action="gift.sized", subject_id=str(gifts[0].pk))
    assert event.before == {"Jumper": ""}
    assert event.after == {"Jumper": "5-6"}
    # Clearing a size puts the gift back to waiting.
    gift_services.gift_sizes_record(
        school=school_a, sizes={jumper_lines[gifts[0].pk].pk: ""}, actor=pastoral_a
    )
    assert Gift.objects.get(pk=gifts[0].pk).status == Gift.Status.AWAITING_SIZES


def test_it_refuses_a_size_the_item_does_not_come_in(pastoral_a, lead_a, school_a, pack_a):
    make_intake(school_a, 1)
    _generate(lead_a, school_a)
    line = GiftLine.objects.get(item__name="Jumper")
    with pytest.raises(SupportError, match="comes in 3-4, 5-6, 7-8"):
        gift_services.gift_sizes_record(school=school_a, sizes={line.pk: "XXL"}, actor=pastoral_a)
    assert GiftLine.objects.get(pk=line.pk).size == ""


def test_it_records_sizes_for_a_class_of_30_in_a_bounded_number_of_queries(
    pastoral_a, lead_a, school_a, pack_a
):
    make_intake(school_a, 3, surname="Small")
    make_intake(school_a, 30, surname="Big")
    _generate(lead_a, school_a)
    small = Gift.objects.filter(pupil__surname="Small")
    big = Gift.objects.filter(pupil__surname="Big")
    small_sizes = {line.pk: "3-4" for line in GiftLine.objects.filter(gift__in=small, item__name="Jumper")}
    big_sizes = {line.pk: "3-4" for line in GiftLine.objects.filter(gift__in=big, item__name="Jumper")}
    gift_services.gift_sizes_record(school=school_a, sizes={}, actor=pastoral_a)  # warms the scope cache
    with CaptureQueriesContext(connection) as few:
        gift_services.gift_sizes_record(school=school_a, sizes=small_sizes, actor=pastoral_a)
    with CaptureQueriesContext(connection) as many:
        assert gift_services.gift_sizes_record(school=school_a, sizes=big_sizes, actor=pastoral_a) == 30
    assert len(many) == len(few) <= 12
    assert big.filter(status=Gift.Status.SIZED).count() == 30


def test_it_refuses_sizes_for_another_schools_gifts(pastoral_b, lead_a, school_a, school_b, pack_a):
    make_intake(school_a, 1)
    _generate(lead_a, school_a)
    line = GiftLine.objects.get(item__name="Jumper")
    with pytest.raises(SupportError):
        gift_services.gift_sizes_record(school=school_a, sizes={line.pk: "5-6"}, actor=pastoral_b)
    with pytest.raises(SupportError, match="not on this school"):
        gift_services.gift_sizes_record(school=school_b, sizes={line.pk: "5-6"}, actor=pastoral_b)
    assert GiftLine.objects.get(pk=line.pk).size == ""


def test_it_packs_only_a_sized_gift_and_only_once(pastoral_a, lead_a, school_a, pack_a):
    make_intake(school_a, 1)
    _generate(lead_a, school_a)
    gift = Gift.objects.get()
    with pytest.raises(ConflictError, match="Record every size"):
        gift_services.gift_pack(gift=gift, actor=pastoral_a)
    _size_all(Gift.objects.all(), pastoral_a, school_a)
    gift = gift_services.gift_pack(gift=gift, actor=pastoral_a)
    assert gift.status == Gift.Status.PACKED
    assert gift.packed_by == pastoral_a
    assert gift.packed_at
    with pytest.raises(ConflictError, match="already packed"):
        gift_services.gift_pack(gift=gift, actor=pastoral_a)
    line = GiftLine.objects.get(gift=gift, item__name="Jumper")
    with pytest.raises(ConflictError, match="cannot change"):
        gift_services.gift_sizes_record(school=school_a, sizes={line.pk: "7-8"}, actor=pastoral_a)


def _packed_gift(pastoral, lead, school, size="5-6") -> Gift:
    make_intake(school, 1)
    _generate(lead, school)
    gift = Gift.objects.get()
    _size_all(Gift.objects.all(), pastoral, school, size)
    return gift_services.gift_pack(gift=gift, actor=pastoral)


def test_it_hands_over_taking_stock_and_keeping_the_cost(pastoral_a, lead_a, school_a, jumper_a, pack_a):
    stock_services.stock_receive(item=jumper_a, size="5-6", quantity=5, actor=pastoral_a)
    gift = gift_services.gift_hand_over(gift=_packed_gift(pastoral_a, lead_a, school_a), actor=pastoral_a)
    assert gift.status == Gift.Status.HANDED_OVER
    assert gift.handed_over_by == pastoral_a
    assert gift.handed_over_at
    assert gift.cost_pence == 2 * 8_50 + 4_00
    assert StockLevel.objects.get(item=jumper_a, size="5-6").quantity == 3
    movement = StockMovement.objects.get(kind=StockMovement.Kind.HANDOVER)
    assert (movement.item, movement.size, movement.change, movement.gift) == (jumper_a, "5-6", -2, gift)
    # The book bag's stock is not tracked: no movement, no level.
    assert not StockLevel.objects.filter(item__name="Book bag").exists()
    assert AuditEvent.objects.filter(action="gift.handed_over", after__cost_pence=2100).exists()
    with pytest.raises(ConflictError, match="already handed over"):
        gift_services.gift_hand_over(gift=gift, actor=pastoral_a)
    assert StockLevel.objects.get(item=jumper_a, size="5-6").quantity == 3


def test_it_refuses_a_hand_over_that_would_take_stock_below_zero(
    pastoral_a, lead_a, school_a, jumper_a, pack_a
):
    stock_services.stock_receive(item=jumper_a, size="5-6", quantity=1, actor=pastoral_a)
    gift = _packed_gift(pastoral_a, lead_a, school_a)
    with pytest.raises(ConflictError) as refused:
        gift_services.gift_hand_over(gift=gift, actor=pastoral_a)
    assert "Jumper size 5-6 (needs 2, 1 in stock)" in refused.value.message
    gift.refresh_from_db()
    assert gift.status == Gift.Status.PACKED
    assert gift.cost_pence == 0
    assert StockLevel.objects.get(item=jumper_a, size="5-6").quantity == 1
    assert not StockMovement.objects.filter(kind=StockMovement.Kind.HANDOVER).exists()


def test_it_refuses_a_hand_over_when_a_size_was_never_stocked(pastoral_a, lead_a, school_a, jumper_a, pack_a):
    stock_services.stock_receive(item=jumper_a, size="3-4", quantity=10, actor=pastoral_a)
    gift = _packed_gift(pastoral_a, lead_a, school_a, size="7-8")
    with pytest.raises(ConflictError, match="size 7-8 \\(needs 2, 0 in stock\\)"):
        gift_services.gift_hand_over(gift=gift, actor=pastoral_a)


def test_it_hands_over_untracked_items_without_stock(pastoral_a, lead_a, school_a, jumper_a, pack_a):
    UniformItem.objects.filter(pk=jumper_a.pk).update(track_stock=False)
    gift = gift_services.gift_hand_over(gift=_packed_gift(pastoral_a, lead_a, school_a), actor=pastoral_a)
    assert gift.status == Gift.Status.HANDED_OVER
    assert gift.cost_pence == 21_00
    assert not StockMovement.objects.exists()


def test_it_refuses_a_hand_over_before_packing(pastoral_a, lead_a, school_a, pack_a):
    make_intake(school_a, 1)
    _generate(lead_a, school_a)
    _size_all(Gift.objects.all(), pastoral_a, school_a)
    with pytest.raises(ConflictError, match="packed before handing"):
        gift_services.gift_hand_over(gift=Gift.objects.get(), actor=pastoral_a)


def test_it_lets_only_staff_of_the_school_pack_and_hand_over(
    pastoral_a, pastoral_b, lead_a, school_a, pack_a
):
    gift = _packed_gift(pastoral_a, lead_a, school_a)
    with pytest.raises(SupportError, match="Only staff"):
        gift_services.gift_hand_over(gift=gift, actor=pastoral_b)
    gift.refresh_from_db()
    assert gift.status == Gift.Status.PACKED


def test_it_lets_a_lead_set_items_and_the_pack_with_audit(lead_a, pastoral_a, school_a):
    polo = gift_services.uniform_item_save(
        school=school_a, actor=lead_a, name=" Polo ", sizes=["S", "M"], unit_cost_pence=5_00, supplier="Acme"
    )
    assert polo.name == "Polo"
    assert polo.sizes == ["S", "M"]
    gift_services.uniform_item_save(
        school=school_a, actor=lead_a, item=polo, name="Polo", sizes=["S", "M", "L"], unit_cost_pence=5_50
    )
    polo.refresh_from_db()
    assert polo.unit_cost_pence == 5_50
    assert polo.supplier == ""
    updated = AuditEvent.objects.get(action="uniform_item.updated")
    assert updated.before["unit_cost_pence"] == 500
    assert updated.after["sizes"] == ["S", "M", "L"]
    with pytest.raises(SupportError, match="already has an item"):
        gift_services.uniform_item_save(
            school=school_a, actor=lead_a, name="polo", sizes=[], unit_cost_pence=1
        )
    with pytest.raises(SupportError, match="pastoral lead"):
        gift_services.uniform_item_save(
            school=school_a, actor=pastoral_a, name="Tie", sizes=[], unit_cost_pence=1
        )
    pack = gift_services.welcome_pack_set(school=school_a, year_group=0, contents={polo.pk: 3}, actor=lead_a)
    assert list(pack.items.values_list("item_id", "quantity")) == [(polo.pk, 3)]
    gift_services.welcome_pack_set(school=school_a, year_group=0, contents={polo.pk: 0}, actor=lead_a)
    assert not pack.items.exists()
    assert AuditEvent.objects.filter(action="welcome_pack.updated").count() == 2
    with pytest.raises(SupportError, match="Reception or Year 7"):
        gift_services.welcome_pack_set(school=school_a, year_group=3, contents={}, actor=lead_a)
    assert WelcomePack.objects.count() == 1


def test_it_refuses_another_schools_item_in_a_pack(lead_a, school_a, school_b):
    other = make_item(school_b, "Blazer")
    with pytest.raises(SupportError, match="this school only"):
        gift_services.welcome_pack_set(school=school_a, year_group=0, contents={other.pk: 1}, actor=lead_a)
