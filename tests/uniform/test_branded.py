"""Branded items within the law (issue 22.3): at most three required branded items, four at a secondary
school if one is a tie; PE kit and bags count. The page and API show each school's count; a welcome pack
that gives a required branded item while its school is over the limit is flagged on the check page."""

import pytest
from rest_framework.test import APIClient

from support.models import AuditEvent, Phase
from tests.uniform.test_gifts_fixtures import make_intake, make_item, make_pack, this_year
from uniform.branded import branded_count, branded_limit
from uniform.services import gifts as gift_services

pytestmark = pytest.mark.django_db


def _branded(school, *names, tie=None, required=True, active=True):
    for name in names:
        item = make_item(school, name)
        item.branded, item.required, item.is_tie, item.is_active = True, required, name == tie, active
        item.save()


def test_it_allows_three_or_four_at_a_secondary_with_a_tie():
    assert branded_limit(phase=Phase.PRIMARY, has_tie=False) == 3
    assert branded_limit(phase=Phase.PRIMARY, has_tie=True) == 3
    assert branded_limit(phase=Phase.SECONDARY, has_tie=False) == 3
    assert branded_limit(phase=Phase.SECONDARY, has_tie=True) == 4


def test_it_counts_only_required_branded_items_still_given_pe_kit_and_bags_included(school_a):
    school_a.phase = Phase.PRIMARY
    school_a.save()
    _branded(school_a, "Jumper", "PE kit", "Book bag")
    _branded(school_a, "Cap", required=False)
    _branded(school_a, "Old tie", active=False)
    make_item(school_a, "Polo")  # not branded
    count = branded_count(school_a)
    assert (count.items, count.limit, count.over) == (("Book bag", "Jumper", "PE kit"), 3, False)
    _branded(school_a, "Blazer")
    assert (branded_count(school_a).count, branded_count(school_a).over_by) == (4, 1)


def test_a_secondary_may_have_a_fourth_when_it_is_a_tie(school_b):
    school_b.phase = Phase.SECONDARY
    school_b.save()
    _branded(school_b, "Blazer", "Tie", "PE top", "Bag", tie="Tie")
    assert (branded_count(school_b).limit, branded_count(school_b).over) == (4, False)
    _branded(school_b, "PE shorts")
    assert branded_count(school_b).over


def test_the_page_is_for_leads_of_their_schools_and_shows_who_is_over(
    client_for, lead_a, lead_b, pastoral_a, finance, admin, school_a, school_b
):
    _branded(school_a, "Jumper", "PE kit", "Book bag", "Blazer")
    assert client_for(pastoral_a).get("/uniform/branded-items/").status_code == 403
    assert client_for(finance).get("/uniform/branded-items/").status_code == 403
    page = client_for(lead_a).get("/uniform/branded-items/").content.decode()
    assert "Over the limit by 1" in page
    assert school_b.name not in page
    assert school_a.name not in client_for(lead_b).get("/uniform/branded-items/").content.decode()
    everything = client_for(admin).get("/uniform/branded-items/").content.decode()
    assert school_a.name in everything
    assert school_b.name in everything


def test_the_api_lists_the_counts_for_leads(lead_a, pastoral_a, school_a):
    _branded(school_a, "Jumper", "PE kit", "Book bag", "Blazer")
    api = APIClient()
    api.force_authenticate(pastoral_a)
    assert api.get("/api/v1/branded-items/").status_code == 403
    api.force_authenticate(lead_a)
    [row] = api.get("/api/v1/branded-items/").json()
    assert (row["school"], row["count"], row["limit"], row["over"]) == (school_a.pk, 4, 3, True)


def test_it_flags_a_pack_giving_a_required_branded_item_beyond_the_limit(client_for, lead_a, school_a):
    jumper = make_item(school_a, "Jumper")
    make_pack(school_a, 0, [(jumper, 1)])
    make_intake(school_a, 2)
    url = f"/uniform/schools/{school_a.pk}/generate/?year={this_year()}"
    assert 'id="branded-flag"' not in client_for(lead_a).get(url).content.decode()
    _branded(school_a, "PE kit", "Book bag", "Blazer")
    assert 'id="branded-flag"' not in client_for(lead_a).get(url).content.decode()  # Jumper not branded
    jumper.branded = jumper.required = True
    jumper.save()
    page = client_for(lead_a).get(url).content.decode()
    assert 'id="branded-flag"' in page
    assert "Reception: Jumper" in page
    plan = gift_services.gifts_generate_preview(school=school_a, academic_year=this_year(), actor=lead_a)
    assert plan.branded_flagged


def test_a_lead_marks_an_item_branded_and_required_audited(lead_a, school_a):
    item = make_item(school_a, "Tie")
    gift_services.uniform_item_save(
        school=school_a, actor=lead_a, item=item, name="Tie", sizes=[], unit_cost_pence=5_00,
        branded=True, required=True, is_tie=True,
    )  # fmt: skip
    item.refresh_from_db()
    assert (item.branded, item.required, item.is_tie) == (True, True, True)
    assert AuditEvent.objects.filter(action="uniform_item.updated", after__branded=True).exists()
    gift_services.uniform_item_save(
        school=school_a, actor=lead_a, item=item, name="Tie", sizes=[], unit_cost_pence=5_00
    )
    item.refresh_from_db()
    assert item.branded  # not named: as it was
