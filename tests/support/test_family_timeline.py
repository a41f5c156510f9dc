"""The family's timeline (issue 15.2): every app's entries through the core's registry, newest first,
named by person, filterable by kind, scoped, bounded, and in a flat number of queries."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from support import services
from support.models import FamilyDuplicate
from support.timeline import MOST, PAGE, family_timeline
from tests.factories import FamilyFactory, PupilFactory, consent_to
from tests.uniform.conftest import make_outdoor_item, standby_money  # noqa: F401  (autouse: money in the fund)
from tests.uniform.test_gifts_fixtures import make_item, make_pack
from tests.vouchers.test_pastoral import make_vouchers
from uniform.services import gifts as gift_services
from uniform.services.requests import request_create, request_reject
from vouchers.models import VoucherSend, VoucherType
from vouchers.services import voucher_cancel, voucher_extend, voucher_issue, voucher_redeem

pytestmark = pytest.mark.django_db


def _name(user, first: str, last: str):
    user.first_name, user.last_name = first, last
    user.save(update_fields=["first_name", "last_name"])
    return user


@pytest.fixture
def staff(pastoral_a, lead_a, pastoral_b, charity_staff):
    return {
        "pastoral_a": _name(pastoral_a, "Pat", "Pastor"),
        "lead_a": _name(lead_a, "Lee", "Leader"),
        "pastoral_b": _name(pastoral_b, "Bea", "Bourne"),
        "charity": _name(charity_staff, "Cal", "Counter"),
    }


@pytest.fixture
def food(partner_1):
    return VoucherType.objects.create(
        partner=partner_1, service="food_parcel", name="Food parcel", face_value_pence=25_00, validity_days=28
    )


def _issue(family, food, school, by):
    consent_to(family, by, food.partner)
    return voucher_issue(
        family=family, voucher_type=food, school=school, issued_by=by, referral_reason="income_drop"
    )


@pytest.fixture
def story(staff, family_a, school_a, food, partner_1):
    """Something of every kind for family A, at school A."""
    pastoral, lead = staff["pastoral_a"], staff["lead_a"]
    alfie = family_a.pupils.get()
    services.pupil_set_in_need(pupil=alfie, actor=pastoral, in_need=True, reason="Parent lost their job")
    redeemed = _issue(family_a, food, school_a, pastoral)
    VoucherSend.objects.create(
        voucher=redeemed,
        channel="email",
        address="anna@example.com",
        requested_by=pastoral,
        requested_at=timezone.now(),
        status=VoucherSend.Status.SENT,
        sent_at=timezone.now(),
    )
    voucher_redeem(voucher=redeemed, partner=partner_1, redeemed_by=staff["charity"])
    extended = _issue(family_a, food, school_a, pastoral)
    voucher_extend(
        voucher=extended,
        actor=lead,
        expires_on=timezone.localdate() + datetime.timedelta(days=60),
        reason="Half term",
    )
    cancelled = _issue(family_a, food, school_a, pastoral)
    voucher_cancel(voucher=cancelled, actor=pastoral, reason="Issued twice")
    coat = make_outdoor_item(school_a, "coat")
    request = request_create(
        pupil=alfie, kind="coat", item=coat, size="5-6", reason="Outgrown", urgency="routine", actor=pastoral
    )
    request_reject(request=request, actor=lead, reason="Given one last month")
    starter = PupilFactory(
        family=family_a, school=school_a, legal_forename="Sam", surname="Able", year_group=0
    )
    make_pack(school_a, 0, [(make_item(school_a, "Jumper"), 1)])
    gift_services.gifts_generate(school=school_a, academic_year=timezone.localdate().year, actor=lead)
    twin = FamilyFactory(lead_carer_name="Anna Able", postcode="RV1 1AA")
    PupilFactory(family=twin, school=school_a, legal_forename="Ava", surname="Able")
    low, high = sorted([family_a, twin], key=lambda f: f.pk)
    duplicate = FamilyDuplicate.objects.create(family_a=low, family_b=high, reason="Same name and postcode")
    services.family_duplicate_decide_merge(duplicate=duplicate, actor=lead, keep=family_a, note="Same family")
    return {"alfie": alfie, "starter": starter, "request": request, "voucher": redeemed}


def test_it_tells_the_familys_whole_story_newest_first_by_name(story, staff, family_a):
    timeline = family_timeline(user=staff["lead_a"], family=family_a, limit=MOST)
    titles = [entry.title for entry in timeline.entries]
    assert {entry.kind for entry in timeline.entries} == {
        "vouchers",
        "welcome_packs",
        "requests",
        "in_need",
        "consent",
        "merges",
    }
    for expected in (
        "Alfie Able marked in need",
        "Food parcel voucher issued",
        "Food parcel voucher sent by e-mail",
        "Food parcel voucher redeemed at " + story["voucher"].voucher_type.partner.name,
        "Food parcel voucher extended",
        "Food parcel voucher cancelled",
        "Coat requested for Alfie Able",
        "Coat for Alfie Able rejected",
        "Welcome pack set aside for Sam Able",
        "Another record of this household was merged into this one",
    ):
        assert expected in titles, expected
    moments = [entry.at for entry in timeline.entries]
    assert moments == sorted(moments, reverse=True)
    people = {entry.person for entry in timeline.entries}
    assert {"Pat Pastor", "Lee Leader", "Cal Counter"} <= people
    assert not {"pastoral_a", "lead_a", "charity_staff"} & people
    by_title = {entry.title: entry for entry in timeline.entries}
    assert by_title["Alfie Able marked in need"].detail == "Parent lost their job"
    assert by_title["Coat for Alfie Able rejected"].detail == "Given one last month"
    assert "Half term" in by_title["Food parcel voucher extended"].detail
    assert by_title["Welcome pack set aside for Sam Able"].person == "Lee Leader"


def test_the_family_page_shows_the_timeline_with_names_never_usernames(client_for, story, staff, family_a):
    page = client_for(staff["lead_a"]).get(reverse("family_detail", args=[family_a.pk])).content.decode()
    history = page.split('id="timeline"')[1]
    assert "by Pat Pastor" in history
    assert "Parent lost their job" in history
    assert not re.search(r"by (pastoral_a|lead_a|charity_staff)\b", history)


def test_it_leaves_out_a_sibling_at_another_school(staff, family_ab, school_b, food):
    pastoral_a, pastoral_b = staff["pastoral_a"], staff["pastoral_b"]
    caspar = family_ab.pupils.get(legal_forename="Caspar")
    services.pupil_set_in_need(pupil=caspar, actor=pastoral_b, in_need=True, reason="Private to school B")
    coat_b = make_outdoor_item(school_b, "coat")
    request_create(
        pupil=caspar, kind="coat", item=coat_b, size="5-6", reason="Torn", urgency="routine", actor=pastoral_b
    )
    at_b = _issue(family_ab, food, school_b, pastoral_b)

    seen_by_a = family_timeline(user=pastoral_a, family=family_ab, limit=MOST).entries
    assert {entry.kind for entry in seen_by_a} == {"consent"}  # the family's consent, nothing of B's
    assert not [entry for entry in seen_by_a if "Caspar" in entry.title or "Private" in entry.detail]
    assert not [entry for entry in seen_by_a if at_b.display_code in entry.detail]
    seen_by_b = {entry.title for entry in family_timeline(user=pastoral_b, family=family_ab).entries}
    assert {"Caspar Cross marked in need", "Coat requested for Caspar Cross"} <= seen_by_b


def test_it_filters_by_kind_and_ignores_an_unknown_kind(client_for, story, staff, family_a):
    lead = staff["lead_a"]
    vouchers = family_timeline(user=lead, family=family_a, kind="vouchers", limit=MOST)
    assert vouchers.chosen == "vouchers"
    assert {entry.kind for entry in vouchers.entries} == {"vouchers"}
    unknown = family_timeline(user=lead, family=family_a, kind="secrets", limit=MOST)
    assert unknown.chosen == ""
    assert len({entry.kind for entry in unknown.entries}) == 6

    url = reverse("family_detail", args=[family_a.pk])
    history = client_for(lead).get(url, {"kind": "requests"}).content.decode().split('id="timeline"')[1]
    assert "Coat for Alfie Able rejected" in history
    assert "Food parcel voucher" not in history
    assert '<option value="requests" selected>' in history


def test_it_shows_a_page_at_a_time_with_show_more(client_for, staff, family_a, school_a, food):
    pastoral = staff["pastoral_a"]
    make_vouchers(PAGE + 5, family=family_a, voucher_type=food, school=school_a, by=pastoral)
    first = family_timeline(user=pastoral, family=family_a)
    assert len(first.entries) == PAGE
    assert first.has_more
    assert first.more == 2 * PAGE

    url = reverse("family_detail", args=[family_a.pk])
    page = client_for(pastoral).get(url).content.decode()
    assert f"shown={2 * PAGE}#timeline" in page
    more = client_for(pastoral).get(url, {"shown": 2 * PAGE}).content.decode().split('id="timeline"')[1]
    assert more.count("voucher issued") == PAGE + 5
    assert "Show more" not in more
    # A bad or huge ``shown`` is bounded, never an error.
    assert client_for(pastoral).get(url, {"shown": "lots"}).status_code == 200
    assert len(family_timeline(user=pastoral, family=family_a, limit=10**9).entries) <= MOST


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_family_page_costs_the_same_queries_however_long_the_story(client_for, story, staff, family_a):
    lead, pastoral = staff["lead_a"], staff["pastoral_a"]
    school, food = story["alfie"].school, story["voucher"].voucher_type
    # Past the vouchers panel's five (from there it counts the rest: one query, however many).
    make_vouchers(3, family=family_a, voucher_type=food, school=school, by=pastoral)
    client = client_for(lead)
    url = reverse("family_detail", args=[family_a.pk])
    client.get(url)  # content types and the like, cached once
    before = _queries(client, url)
    for voucher in make_vouchers(6, family=family_a, voucher_type=food, school=school, by=pastoral):
        voucher_cancel(voucher=voucher, actor=lead, reason="Wrong type")
        services.pupil_set_in_need(pupil=story["alfie"], actor=lead, in_need=False)
        services.pupil_set_in_need(pupil=story["alfie"], actor=lead, in_need=True, reason="Again")
    assert _queries(client, url) == before
