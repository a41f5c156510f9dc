"""Welcome packs follow the school's current roll: a pupil who left it gets none."""

import pytest
from django.utils import timezone

from support.rolls import pupil_roll_leave
from tests.uniform.test_gifts_fixtures import jumper_a, make_intake, make_pack, this_year
from uniform.services import gifts as gift_services

FIXTURES = (jumper_a,)  # pytest finds these by name
pytestmark = pytest.mark.django_db


def test_it_gives_no_welcome_pack_to_a_pupil_who_left_the_roll(lead_a, school_a, jumper_a):
    make_pack(school_a, 0, [(jumper_a, 1)])
    staying, leaver = make_intake(school_a, 2)
    pupil_roll_leave(pupil=leaver, school=school_a, actor=lead_a, left_on=timezone.localdate())

    made = gift_services.gifts_generate(school=school_a, academic_year=this_year(), actor=lead_a).count

    assert made == 1
    assert list(staying.gifts.values_list("pupil", flat=True)) == [staying.pk]
    assert not leaver.gifts.exists()
