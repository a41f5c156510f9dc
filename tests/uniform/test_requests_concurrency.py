"""Requests under real concurrency (CI's PostgreSQL pass): one decision wins, one first coat per season."""

import pytest

from support.errors import ConflictError
from tests.concurrency import storm
from tests.factories import PupilFactory, SchoolFactory, make_user
from tests.uniform.conftest import make_outdoor_item
from uniform.models import SupportRequest
from uniform.services.requests import request_approve, request_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_it_lets_only_one_of_ten_concurrent_approvals_win():
    school = SchoolFactory()
    pupil = PupilFactory(school=school, in_need=True)
    pastoral = make_user("pastoral_race", "pastoral", schools=[school])
    leads = [make_user(f"lead_race_{n}", "lead", schools=[school]) for n in range(10)]
    coat = make_outdoor_item(school, "coat")
    ask = {
        "pupil": pupil,
        "kind": "coat",
        "item": coat,
        "size": "Adult M",
        "reason": "x",
        "urgency": "routine",
    }
    request_create(actor=pastoral, **ask)
    waiting = request_create(actor=pastoral, **ask)

    def approve(i: int) -> str:
        copy = SupportRequest.objects.get(pk=waiting.pk)
        try:
            request_approve(request=copy, actor=leads[i], reason=f"lead {i}")
        except ConflictError:
            return "conflict"
        return "approved"

    results = storm(10, approve)
    assert sorted(results) == ["approved"] + ["conflict"] * 9


def test_it_counts_only_one_first_coat_when_two_staff_ask_at_once():
    school = SchoolFactory()
    pupil = PupilFactory(school=school, in_need=True)
    staff = [make_user(f"pastoral_race_{n}", "pastoral", schools=[school]) for n in range(5)]
    coat = make_outdoor_item(school, "coat")

    def ask(i: int) -> bool:
        made = request_create(
            pupil=pupil, kind="coat", item=coat, size="Adult M", reason="x", urgency="routine", actor=staff[i]
        )
        return made.beyond_policy

    assert sorted(storm(5, ask)) == [False] + [True] * 4
