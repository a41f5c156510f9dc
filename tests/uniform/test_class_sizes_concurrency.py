"""A class's sizes under real concurrency (CI's PostgreSQL pass): a size one person records for a pupil
is never overwritten by the whole class's size someone else saves at the same moment."""

import pytest

from tests.concurrency import storm
from tests.factories import SchoolFactory, make_user
from tests.uniform.test_gifts_fixtures import make_intake, make_item, make_pack, this_year
from uniform.models import Gift, GiftLine
from uniform.services.gifts import gift_sizes_apply, gift_sizes_record, gifts_generate

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_it_keeps_a_pupils_size_recorded_while_the_class_size_is_saved():
    school = SchoolFactory()
    lead = make_user("lead_sizes_race", "lead", schools=[school])
    staff = [make_user(f"pastoral_sizes_race_{n}", "pastoral", schools=[school]) for n in range(2)]
    jumper = make_item(school, "Jumper")
    make_pack(school, 0, [(jumper, 1)])
    make_intake(school, 10, surname="Race")
    gifts_generate(school=school, academic_year=this_year(), actor=lead)
    pupils_line = GiftLine.objects.order_by("pk").last()

    def save(i: int) -> int:
        if i == 0:
            return gift_sizes_apply(
                school=school,
                academic_year=this_year(),
                year_group=0,
                defaults={jumper.pk: "5-6"},
                actor=staff[0],
            )
        return gift_sizes_record(school=school, sizes={pupils_line.pk: "7-8"}, actor=staff[1])

    for _ in range(5):
        GiftLine.objects.update(size="")
        Gift.objects.update(status=Gift.Status.AWAITING_SIZES)
        storm(2, save)
        sizes = dict(GiftLine.objects.values_list("pk", "size"))
        assert sizes.pop(pupils_line.pk) == "7-8"
        assert set(sizes.values()) == {"5-6"}
