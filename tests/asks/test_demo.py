import pytest

from asks.demo import asks_demo_seed
from asks.models import Ask, AskLink
from support.demo import SCHOOLS
from tests.factories import PupilFactory, SchoolFactory

pytestmark = pytest.mark.django_db


def test_it_gives_each_demo_school_a_link_and_the_leads_some_asks_once():
    schools = [SchoolFactory(name=name, urn=urn, phase=phase) for name, urn, phase in SCHOOLS[:3]]
    PupilFactory(school=schools[0], in_need=True, legal_forename="Kacper", year_group=3)
    asks_demo_seed()
    assert AskLink.objects.count() == 3
    assert Ask.objects.filter(school=schools[0]).count() == 2
    assert Ask.objects.filter(school=schools[0], kind="coat", language="pl", child_name="Kacper").exists()
    asks_demo_seed()
    assert Ask.objects.count() == 3
