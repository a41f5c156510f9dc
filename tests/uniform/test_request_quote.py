"""``request_quote`` says what ``request_create`` will do (cost, who decides) without writing, and agrees
with it: within policy and afforded, beyond policy, above the threshold, a fund that is short."""

import datetime

import pytest
from django.utils import timezone

from funds.models import Fund
from support.errors import SupportError
from tests.uniform.conftest import make_outdoor_item
from uniform.models import ItemKind, SupportRequest
from uniform.services.requests import request_create, request_quote

pytestmark = pytest.mark.django_db

GOES_TO = {"approved": "approved", "lead": "requested", "finance": "finance"}


@pytest.fixture
def pupil_a(family_a):
    pupil = family_a.pupils.get()
    pupil.in_need = True
    pupil.save(update_fields=["in_need"])
    return pupil


def _ask(pupil, item, actor, *, create: bool):
    kwargs = {"pupil": pupil, "kind": ItemKind.COAT, "size": "9-10", "item": item, "actor": actor}
    if create:
        return request_create(reason="No coat", urgency="routine", **kwargs)
    return request_quote(today=timezone.localdate(), **kwargs)


@pytest.mark.parametrize(
    ("cost", "short_fund", "second", "goes_to"),
    [
        (22_00, False, False, "approved"),
        (22_00, False, True, "lead"),  # a second coat this season is beyond the policy
        (150_00, False, False, "finance"),  # above the approval threshold
        (22_00, True, False, "finance"),  # the school's own fund cannot afford it
    ],
)
def test_the_quote_is_what_sending_does(pupil_a, pastoral_a, school_a, cost, short_fund, second, goes_to):
    coat = make_outdoor_item(school_a, "coat", cost=cost, name="Coat")
    if short_fund:
        Fund.objects.create(name="Alpha hardship", school=school_a)  # empty
    if second:
        _ask(pupil_a, coat, pastoral_a, create=True)
    before = SupportRequest.objects.count()
    quote = _ask(pupil_a, coat, pastoral_a, create=False)
    assert SupportRequest.objects.count() == before  # the quote writes nothing
    assert (quote.cost_pence, quote.goes_to, quote.needs_finance) == (cost, goes_to, goes_to == "finance")
    created = _ask(pupil_a, coat, pastoral_a, create=True)
    assert (created.cost_pence, created.status) == (quote.cost_pence, GOES_TO[quote.goes_to])


def test_the_quote_refuses_what_sending_refuses(pupil_a, pastoral_b, school_a):
    coat = make_outdoor_item(school_a, "coat", cost=22_00, name="Coat")
    with pytest.raises(SupportError):
        _ask(pupil_a, coat, pastoral_b, create=False)  # another school's pupil


def test_the_quote_counts_the_policy_in_the_period_of_the_day_it_is_given(pupil_a, pastoral_a, school_a):
    """``today`` is passed in, not read inside: a second coat is beyond the policy this season, but
    not in the season a year on."""
    coat = make_outdoor_item(school_a, "coat", cost=22_00, name="Coat")
    _ask(pupil_a, coat, pastoral_a, create=True)
    kwargs = {"pupil": pupil_a, "kind": ItemKind.COAT, "size": "9-10", "item": coat, "actor": pastoral_a}
    today = timezone.localdate()
    assert request_quote(today=today, **kwargs).goes_to == "lead"
    next_year = request_quote(today=today + datetime.timedelta(days=366), **kwargs)
    assert (next_year.beyond_policy, next_year.goes_to) == (False, "approved")
