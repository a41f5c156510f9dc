"""A class's sizes: a size per item for the whole class, then exceptions per pupil (issue 15.5).

Services (``gift_sizes_apply``) and the class page: few selects, pupils with the same name told apart,
queries that do not grow with the class.
"""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from support.errors import ConflictError, SupportError
from support.models import AuditEvent
from tests.factories import PupilFactory
from tests.uniform.test_gifts_fixtures import (
    bag_a,
    jumper_a,
    make_intake,
    make_item,
    make_pack,
    pack_a,
    this_year,
)
from uniform.models import Gift, GiftLine
from uniform.services import gifts as gift_services

FIXTURES = (bag_a, jumper_a, pack_a)  # pytest finds these by name
pytestmark = pytest.mark.django_db


def _apply(actor, school, **kwargs) -> int:
    kwargs.setdefault("defaults", {})
    return gift_services.gift_sizes_apply(
        school=school, academic_year=this_year(), year_group=0, actor=actor, **kwargs
    )


def _jumper_sizes() -> dict[str, str]:
    return dict(
        GiftLine.objects.filter(item__name="Jumper").values_list("gift__pupil__legal_forename", "size")
    )


@pytest.fixture
def intake_a(lead_a, school_a, pack_a):
    pupils = make_intake(school_a, 3, surname="Able")
    gift_services.gifts_generate(school=school_a, academic_year=this_year(), actor=lead_a)
    return pupils


def _line(forename: str, item: str = "Jumper") -> GiftLine:
    return GiftLine.objects.get(gift__pupil__legal_forename=forename, item__name=item)


# --- The service -------------------------------------------------------------------------------------


def test_it_applies_the_class_size_only_to_lines_without_one(pastoral_a, school_a, jumper_a, intake_a):
    gift_services.gift_sizes_record(school=school_a, sizes={_line("Kid01").pk: "7-8"}, actor=pastoral_a)
    assert _apply(pastoral_a, school_a, defaults={jumper_a.pk: "5-6"}) == 2
    assert _jumper_sizes() == {"Kid00": "5-6", "Kid01": "7-8", "Kid02": "5-6"}
    assert set(Gift.objects.values_list("status", flat=True)) == {Gift.Status.SIZED}
    # Audited per gift, as sizes recorded one by one are.
    event = AuditEvent.objects.get(action="gift.sized", subject_id=str(_line("Kid00").gift_id))
    assert (event.before, event.after) == ({"Jumper": ""}, {"Jumper": "5-6"})


def test_it_overwrites_recorded_sizes_only_when_asked(pastoral_a, school_a, jumper_a, intake_a):
    gift_services.gift_sizes_record(school=school_a, sizes={_line("Kid01").pk: "7-8"}, actor=pastoral_a)
    assert _apply(pastoral_a, school_a, defaults={jumper_a.pk: "5-6"}, overwrite=True) == 3
    assert set(_jumper_sizes().values()) == {"5-6"}


def test_it_lets_an_exception_win_over_the_class_size(pastoral_a, school_a, jumper_a, intake_a):
    changed = _apply(
        pastoral_a,
        school_a,
        defaults={jumper_a.pk: "5-6"},
        exceptions={_line("Kid02").pk: "Age 7-8"},
        overwrite=True,
    )
    assert changed == 3
    assert _jumper_sizes() == {"Kid00": "5-6", "Kid01": "5-6", "Kid02": "7-8"}


def test_it_refuses_a_class_size_the_item_does_not_come_in(pastoral_a, school_a, jumper_a, intake_a):
    # Refused even when every line already has a size and the default would touch none.
    _apply(pastoral_a, school_a, defaults={jumper_a.pk: "5-6"})
    with pytest.raises(SupportError, match="comes in 3-4, 5-6, 7-8"):
        _apply(pastoral_a, school_a, defaults={jumper_a.pk: "XXL"})
    assert set(_jumper_sizes().values()) == {"5-6"}


def test_it_leaves_packed_packs_alone_but_refuses_an_exception_for_one(
    pastoral_a, school_a, jumper_a, intake_a
):
    _apply(pastoral_a, school_a, defaults={jumper_a.pk: "5-6"})
    gift_services.gift_pack(gift=_line("Kid00").gift, actor=pastoral_a)
    assert _apply(pastoral_a, school_a, defaults={jumper_a.pk: "3-4"}, overwrite=True) == 2
    assert _jumper_sizes() == {"Kid00": "5-6", "Kid01": "3-4", "Kid02": "3-4"}
    with pytest.raises(ConflictError, match="cannot change"):
        _apply(pastoral_a, school_a, exceptions={_line("Kid00").pk: "7-8"})


def test_it_refuses_another_schools_gift_and_another_classs_line(
    pastoral_a, pastoral_b, lead_a, lead_b, school_a, school_b, jumper_a, intake_a
):
    other_item = make_item(school_b, "Jumper")
    make_pack(school_b, 0, [(other_item, 1)])
    make_intake(school_b, 1, surname="Bee")
    gift_services.gifts_generate(school=school_b, academic_year=this_year(), actor=lead_b)
    theirs = GiftLine.objects.get(gift__school=school_b)
    with pytest.raises(SupportError, match="not on this class"):
        _apply(pastoral_a, school_a, exceptions={theirs.pk: "5-6"})
    with pytest.raises(SupportError, match="not in this class"):
        _apply(pastoral_a, school_a, defaults={other_item.pk: "5-6"})
    # Nor may another school's staff size this school's class.
    with pytest.raises(SupportError):
        _apply(pastoral_b, school_a, defaults={jumper_a.pk: "5-6"})
    year_7 = make_intake(school_a, 1, year_group=7, surname="Seven")[0]
    make_pack(school_a, 7, [(jumper_a, 1)])
    gift_services.gifts_generate(school=school_a, academic_year=this_year(), actor=lead_a)
    with pytest.raises(SupportError, match="not on this class"):
        _apply(pastoral_a, school_a, exceptions={GiftLine.objects.get(gift__pupil=year_7).pk: "5-6"})
    assert not GiftLine.objects.exclude(size="").exists()


def test_it_sizes_a_class_of_30_in_as_many_queries_as_a_class_of_3(
    pastoral_a, lead_a, school_a, jumper_a, pack_a
):
    make_intake(school_a, 3, surname="Small")
    gift_services.gifts_generate(school=school_a, academic_year=this_year(), actor=lead_a)
    _apply(pastoral_a, school_a)  # warms the scope cache
    with CaptureQueriesContext(connection) as few:
        assert _apply(pastoral_a, school_a, defaults={jumper_a.pk: "3-4"}) == 3
    make_intake(school_a, 30, surname="Big")
    gift_services.gifts_generate(school=school_a, academic_year=this_year(), actor=lead_a)
    exception = GiftLine.objects.filter(gift__pupil__surname="Big", item=jumper_a).first()
    with CaptureQueriesContext(connection) as many:
        assert (
            _apply(pastoral_a, school_a, defaults={jumper_a.pk: "5-6"}, exceptions={exception.pk: "7-8"})
            == 30
        )
    assert len(many) == len(few) <= 12


# --- The page ----------------------------------------------------------------------------------------


def _class_url(school, *changing) -> str:
    url = reverse("uniform_class", args=[school.pk, 0]) + f"?year={this_year()}"
    return url + "".join(f"&change={gift.pk}" for gift in changing)


def _class_of_30(lead, school):
    shirt = make_item(school, "Polo shirt")
    cap = make_item(school, "Cap", sizes=("S", "M", "L"))
    bag = make_item(school, "Book bag", sizes=(), track=False)
    make_pack(school, 0, [(make_item(school, "Jumper"), 2), (shirt, 2), (cap, 1), (bag, 1)])
    make_intake(school, 30, surname="Class")
    gift_services.gifts_generate(school=school, academic_year=this_year(), actor=lead)


def test_it_shows_a_class_of_30_with_one_select_per_item_until_a_pupil_is_opened(
    client_for, pastoral_a, lead_a, school_a
):
    _class_of_30(lead_a, school_a)
    client = client_for(pastoral_a)
    page = client.get(_class_url(school_a)).content.decode()
    assert page.count("<select") == 3  # the class's row: jumper, polo shirt, cap; the bag is one size
    assert "Also in every pack, in one size: 1 × Book bag." in page
    assert page.count("Size needed") == 90
    opened = Gift.objects.order_by("pk")[4]
    page = client.get(_class_url(school_a, opened)).content.decode()
    assert page.count("<select") == 3 + 3
    assert f'<input type="hidden" name="change" value="{opened.pk}">' in page


def test_it_sets_a_class_size_and_one_exception_from_the_page(
    client_for, pastoral_a, school_a, jumper_a, intake_a
):
    client = client_for(pastoral_a)
    kid02 = _line("Kid02")
    response = client.post(
        _class_url(school_a),
        {f"default-{jumper_a.pk}": "5-6", f"size-{kid02.pk}": "7-8", "change": kid02.gift_id},
        follow=True,
    )
    assert "Sizes saved for 3 pupils." in response.content.decode()
    assert _jumper_sizes() == {"Kid00": "5-6", "Kid01": "5-6", "Kid02": "7-8"}
    # Again without "replace": nothing changes, and the page says so.
    response = client.post(_class_url(school_a), {f"default-{jumper_a.pk}": "3-4"}, follow=True)
    assert "No sizes changed" in response.content.decode()
    client.post(_class_url(school_a), {f"default-{jumper_a.pk}": "3-4", "overwrite": "yes"})
    assert set(_jumper_sizes().values()) == {"3-4"}


def test_it_keeps_the_opened_rows_and_the_choices_when_a_size_is_refused(
    client_for, pastoral_a, school_a, jumper_a, intake_a
):
    kid01 = _line("Kid01")
    response = client_for(pastoral_a).post(
        _class_url(school_a),
        {f"default-{jumper_a.pk}": "7-8", f"size-{kid01.pk}": "XXL", "change": kid01.gift_id},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Jumper comes in 3-4, 5-6, 7-8" in page
    assert f'id="size-{kid01.pk}"' in page
    assert re.search(rf'id="default-{jumper_a.pk}".*?<option value="7-8" selected>', page, re.S)
    assert not GiftLine.objects.exclude(size="").exists()


def test_it_tells_apart_pupils_with_the_same_name(client_for, pastoral_a, finance, lead_a, school_a, pack_a):
    PupilFactory(
        school=school_a,
        year_group=0,
        surname="Ali",
        legal_forename="Adam",
        date_of_birth=datetime.date(2021, 3, 3),
    )
    PupilFactory(
        school=school_a,
        year_group=0,
        surname="Ali",
        legal_forename="Adam",
        date_of_birth=datetime.date(2020, 11, 9),
    )
    PupilFactory(school=school_a, year_group=0, surname="Bell", legal_forename="Cara")
    gift_services.gifts_generate(school=school_a, academic_year=this_year(), actor=lead_a)
    page = client_for(pastoral_a).get(_class_url(school_a)).content.decode()
    assert "born 3 Mar 2021" in page
    assert "born 9 Nov 2020" in page
    assert page.count('class="app-sizes-table__hint"') == 2  # only where names collide
    assert "UPN ending" not in page  # the dates differ: they are enough
    # Finance sees no names, so nothing to tell apart, and no dates of birth.
    page = client_for(finance).get(_class_url(school_a)).content.decode()
    assert "born " not in page
    assert "Ali" not in page


def test_it_tells_apart_same_name_pupils_born_the_same_day_by_the_end_of_the_upn(
    client_for, pastoral_a, lead_a, school_a, pack_a
):
    born = datetime.date(2021, 3, 3)
    twins = [
        PupilFactory(school=school_a, year_group=0, surname="Ali", legal_forename="Adam", date_of_birth=born)
        for _ in range(2)
    ]
    gift_services.gifts_generate(school=school_a, academic_year=this_year(), actor=lead_a)
    page = client_for(pastoral_a).get(_class_url(school_a)).content.decode()
    for twin in twins:
        assert f"born 3 Mar 2021, UPN ending {twin.upn[-4:]}" in page


def test_it_shows_the_class_page_in_as_many_queries_for_30_pupils_as_for_3(
    client_for, pastoral_a, lead_a, school_a, pack_a
):
    make_intake(school_a, 3, surname="Small")
    gift_services.gifts_generate(school=school_a, academic_year=this_year(), actor=lead_a)
    client = client_for(pastoral_a)
    client.get(_class_url(school_a))
    first = Gift.objects.order_by("pk").first()
    with CaptureQueriesContext(connection) as few:
        client.get(_class_url(school_a, first))
    make_intake(school_a, 27, surname="More")
    gift_services.gifts_generate(school=school_a, academic_year=this_year(), actor=lead_a)
    with CaptureQueriesContext(connection) as many:
        client.get(_class_url(school_a, first))
    assert len(many) == len(few)


def test_a_pupils_size_can_be_cleared_from_the_class_page(
    client_for, pastoral_a, school_a, jumper_a, intake_a
):
    """A size recorded by mistake is cleared ("No size yet"), and the pack waits for sizes again."""
    client = client_for(pastoral_a)
    client.post(_class_url(school_a), {f"default-{jumper_a.pk}": "5-6"})
    kid01 = _line("Kid01")
    page = client.get(_class_url(school_a, kid01.gift)).content.decode()
    assert re.search(rf'id="size-{kid01.pk}".*?<option value="__clear__">No size yet', page, re.S)
    jumper_sized = Gift.objects.get(pk=kid01.gift_id).status
    response = client.post(
        _class_url(school_a), {f"size-{kid01.pk}": "__clear__", "change": kid01.gift_id}, follow=True
    )
    assert "Sizes saved for 1 pupil." in response.content.decode()
    assert _jumper_sizes() == {"Kid00": "5-6", "Kid01": "", "Kid02": "5-6"}
    kid01.gift.refresh_from_db()
    assert (jumper_sized, kid01.gift.status) == (Gift.Status.SIZED, Gift.Status.AWAITING_SIZES)
    event = AuditEvent.objects.filter(action="gift.sized").latest("pk")
    assert (event.before, event.after) == ({"Jumper": "5-6"}, {"Jumper": ""})
    # "As the class" (an empty choice) still leaves a size alone: only "No size yet" clears it.
    client.post(_class_url(school_a), {f"size-{_line('Kid02').pk}": "", "change": kid01.gift_id})
    assert _jumper_sizes()["Kid02"] == "5-6"
