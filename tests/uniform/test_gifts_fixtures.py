"""Shared set-up for the welcome-uniform tests (no tests here): items, packs and an intake at school A."""

import pytest
from django.utils import timezone

from support.dates import academic_year_start_for
from tests.factories import PupilFactory
from tests.uniform.factories import UniformItemFactory
from uniform.models import UniformItem, WelcomePack, WelcomePackItem


def this_year() -> int:
    return academic_year_start_for(timezone.localdate())


def make_item(school, name: str, *, sizes=("3-4", "5-6", "7-8"), cost: int = 8_50, track: bool = True):
    return UniformItemFactory(
        school=school, name=name, sizes=list(sizes), unit_cost_pence=cost, track_stock=track
    )


def make_pack(school, year_group: int, contents: list[tuple[UniformItem, int]]) -> WelcomePack:
    pack = WelcomePack.objects.create(school=school, year_group=year_group)
    for item, quantity in contents:
        WelcomePackItem.objects.create(pack=pack, item=item, quantity=quantity)
    return pack


def make_intake(school, count: int, *, year_group: int = 0, surname: str = "Intake"):
    return [
        PupilFactory(school=school, year_group=year_group, surname=surname, legal_forename=f"Kid{n:02d}")
        for n in range(count)
    ]


@pytest.fixture
def jumper_a(school_a):
    return make_item(school_a, "Jumper", cost=8_50)


@pytest.fixture
def bag_a(school_a):
    return make_item(school_a, "Book bag", sizes=(), cost=4_00, track=False)


@pytest.fixture
def pack_a(school_a, jumper_a, bag_a):
    return make_pack(school_a, 0, [(jumper_a, 2), (bag_a, 1)])
