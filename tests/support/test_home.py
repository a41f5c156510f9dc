"""Each home page shows the work waiting (issue 15.3).

The core's counts (possible duplicates, imports ready to apply) count only the lead's schools, with
another school's work present, and link to their queue filtered to what they counted. Home's slots come
from ``support.registry``; and whatever the work waiting, home makes the same number of queries for each
role.
"""

import dataclasses
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from support import registry
from support.dates import academic_year_start_for
from support.models import FamilyDuplicate, PupilImport
from tests.factories import FamilyFactory, PupilFactory
from tests.http import work_on_home

pytestmark = pytest.mark.django_db

DUPLICATES = "Possible duplicate families"
IMPORTS = "Pupil imports ready to apply"


def _family_at(school):
    family = FamilyFactory()
    PupilFactory(family=family, school=school)
    return family


def _duplicate(school_1, school_2, status=FamilyDuplicate.Status.OPEN) -> FamilyDuplicate:
    low, high = sorted([_family_at(school_1), _family_at(school_2)], key=lambda f: f.pk)
    return FamilyDuplicate.objects.create(family_a=low, family_b=high, reason="Same phone", status=status)


def _upload(school, by, status=PupilImport.Status.PREVIEWED) -> PupilImport:
    return PupilImport.objects.create(
        school=school, uploaded_by=by, filename=f"{school.urn}.csv", content=b"UPN\n", status=status
    )


# --- Possible duplicates -----------------------------------------------------------------------


@pytest.fixture
def duplicates(school_a, school_b):
    return {
        "a": [_duplicate(school_a, school_a), _duplicate(school_a, school_b)],
        "b": [_duplicate(school_b, school_b)],
        "decided": [
            _duplicate(school_a, school_a, FamilyDuplicate.Status.KEPT_APART),
            _duplicate(school_b, school_b, FamilyDuplicate.Status.MERGED),
        ],
    }


def test_it_counts_the_possible_duplicates_at_the_leads_schools_only(
    client_for, lead_a, lead_b, admin, duplicates
):
    # The pair across both schools is each lead's to look at; a decided pair is nobody's.
    for user, expected in ((lead_a, 2), (lead_b, 2), (admin, 3)):
        client = client_for(user)
        count, url = work_on_home(client)[DUPLICATES]
        assert count == expected, user
        assert url == reverse("duplicate_list")
        assert client.get(url).context["page"].paginator.count == expected


def test_pastoral_staff_get_no_lead_counts(client_for, pastoral_a, duplicates):
    work = work_on_home(client_for(pastoral_a))
    assert DUPLICATES not in work
    assert IMPORTS not in work


# --- Imports ready to apply --------------------------------------------------------------------


def test_it_counts_the_imports_ready_to_apply_at_the_leads_schools_only(
    client_for, lead_a, lead_b, school_a, school_b
):
    ready_a = _upload(school_a, lead_a)
    _upload(school_a, lead_a, PupilImport.Status.APPLIED)
    _upload(school_a, lead_a, PupilImport.Status.REJECTED)
    ready_b = [_upload(school_b, lead_b), _upload(school_b, lead_b)]
    for user, ready in ((lead_a, [ready_a]), (lead_b, ready_b)):
        client = client_for(user)
        count, url = work_on_home(client)[IMPORTS]
        assert count == len(ready)
        assert url == "/imports/?status=previewed"
        page = client.get(url).content.decode()
        assert {int(pk) for pk in re.findall(r'href="/imports/(\d+)/"', page)} == {u.pk for u in ready}
        assert "Ready to apply" in page


def test_the_import_list_without_a_status_shows_every_recent_upload(client_for, lead_a, school_a):
    uploads = [_upload(school_a, lead_a), _upload(school_a, lead_a, PupilImport.Status.APPLIED)]
    for query in ("", "?status=nonsense"):
        page = client_for(lead_a).get(f"/imports/{query}").content.decode()
        assert {int(pk) for pk in re.findall(r'href="/imports/(\d+)/"', page)} == {u.pk for u in uploads}
        assert "Recent uploads" in page


# --- The registry's slots ----------------------------------------------------------------------


def test_a_home_panel_needs_a_known_slot():
    with pytest.raises(ValueError, match="Unknown home slot"):
        registry.register_home_panel("nowhere", context=lambda request: [], slot="footer")


def test_a_work_panel_with_nothing_for_the_user_adds_nothing(monkeypatch, client_for, finance):
    monkeypatch.setattr(registry, "_HOME", dict(registry._HOME))
    registry.register_home_panel("probe", context=lambda request: [], slot="work")
    # Registered from a test module, it would count only while an app called "tests" is installed.
    registry._HOME["probe"] = dataclasses.replace(registry._HOME["probe"], app="support")
    page = client_for(finance).get(reverse("home")).content.decode()
    assert "Waiting for you" not in page


def test_the_work_waiting_shows_as_one_task_list_each_item_linking_to_its_queue(
    client_for, lead_a, duplicates
):
    page = client_for(lead_a).get(reverse("home")).content.decode()
    work = page[page.index('id="work-waiting"') :]
    work = work[: work.index("</ul>")]
    # Asks for help, requests to decide and sent back, vouchers expiring, packs waiting, signposting
    # follow-ups due, duplicates, imports.
    assert work.count('<li class="govuk-task-list__item') == 8
    assert 'href="/duplicates/"' in work
    assert "2 waiting" in work
    # Each link is described by its hint and its count, for a screen reader.
    assert (
        'aria-describedby="work-possible-duplicate-families-hint work-possible-duplicate-families-status"'
        in work
    )


# --- Query count -------------------------------------------------------------------------------


def _pile_of_work(n: int, *, school_a, school_b, lead_a, lead_b, partner) -> None:
    """``n`` of each thing a home page counts, at both schools."""
    import datetime

    from django.utils import timezone

    from tests.uniform.factories import GiftFactory, UniformItemFactory
    from tests.vouchers.factories import VoucherFactory, VoucherTypeFactory
    from uniform.models import ItemKind
    from uniform.services.requests import request_create
    from vouchers.models import Voucher, VoucherType

    food = VoucherType.objects.filter(partner=partner).first() or VoucherTypeFactory(partner=partner)
    year = academic_year_start_for(timezone.localdate())
    for school, lead in ((school_a, lead_a), (school_b, lead_b)):
        for _ in range(n):
            _duplicate(school, school)
            _upload(school, lead)
            GiftFactory(school=school, academic_year=year)
            voucher = VoucherFactory(school=school, voucher_type=food)
            Voucher.objects.filter(pk=voucher.pk).update(
                expires_on=timezone.localdate() + datetime.timedelta(days=2)
            )
            item = UniformItemFactory(school=school, kind=ItemKind.COAT, sizes=["7-8"], unit_cost_pence=0)
            request_create(
                pupil=PupilFactory(school=school, in_need=True),
                kind=ItemKind.COAT,
                item=item,
                size="7-8",
                reason="Outgrown",
                urgency="routine",
                actor=lead,
            )


@pytest.mark.parametrize("persona", ["pastoral_a", "lead_a", "finance", "charity_staff", "admin", "no_role"])
def test_home_makes_as_many_queries_with_much_work_waiting_as_with_little(
    request, client_for, persona, school_a, school_b, lead_a, lead_b, partner_1
):
    user = request.getfixturevalue(persona)
    client = client_for(user)
    pile = {
        "school_a": school_a,
        "school_b": school_b,
        "lead_a": lead_a,
        "lead_b": lead_b,
        "partner": partner_1,
    }
    _pile_of_work(1, **pile)
    client.get(reverse("home"))  # the first request fills per-process caches (content types, policy)
    with CaptureQueriesContext(connection) as little:
        assert client.get(reverse("home")).status_code == 200
    _pile_of_work(4, **pile)
    with CaptureQueriesContext(connection) as much:
        assert client.get(reverse("home")).status_code == 200
    assert len(much) == len(little), "\n".join(q["sql"] for q in much.captured_queries)
