"""Generating welcome packs is checked first: the check page says how many packs, for whom and what they
commit from which fund, and writes nothing; confirming commits exactly those figures once."""

import pytest
from django.urls import reverse

from funds.models import LedgerEntry
from funds.selectors.positions import fund_position
from funds.services.ledger import standby_fund
from support.models import AuditEvent
from tests.uniform.test_gifts_fixtures import bag_a, jumper_a, make_intake, pack_a, this_year
from uniform.models import Gift
from uniform.services import gifts as gift_services

FIXTURES = (bag_a, jumper_a, pack_a)  # pytest finds these by name
pytestmark = pytest.mark.django_db


@pytest.fixture
def funded_pack(pack_a):
    pack_a.fund = standby_fund()
    pack_a.save(update_fields=["fund"])
    return pack_a


def _url(school):
    return reverse("uniform_generate", args=[school.pk]) + f"?year={this_year()}"


def test_the_check_page_shows_packs_pupils_and_the_cost_from_the_fund_and_writes_nothing(
    client_for, lead_a, school_a, funded_pack
):
    make_intake(school_a, 3, surname="Okafor")
    entries = LedgerEntry.objects.count()
    response = client_for(lead_a).get(_url(school_a))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Check before you generate welcome packs" in page
    assert "3 welcome packs" in page
    assert "Okafor, Kid00" in page  # a small intake is listed by name
    assert "£21.00 a pack, £63.00 from" in page  # 2 jumpers at £8.50 and a £4.00 bag, three times
    assert f"£63.00 from {standby_fund().name}" in page
    assert 'name="expected" value="3:6300"' in page
    assert not Gift.objects.exists()
    assert LedgerEntry.objects.count() == entries


def test_a_large_intake_is_counted_not_listed(client_for, lead_a, school_a, funded_pack):
    make_intake(school_a, 16, surname="Many")
    page = client_for(lead_a).get(_url(school_a)).content.decode()
    assert "16 pupils without a pack this year" in page
    assert "Many, Kid00" not in page


def test_confirming_commits_what_the_check_page_showed_once_and_says_so(
    client_for, lead_a, school_a, funded_pack
):
    make_intake(school_a, 3)
    client = client_for(lead_a)
    preview = gift_services.gifts_generate_preview(school=school_a, academic_year=this_year(), actor=lead_a)
    response = client.post(_url(school_a), {"academic_year": this_year(), "expected": preview.signature})
    assert response.status_code == 302
    assert Gift.objects.count() == preview.count == 3
    assert fund_position(fund=standby_fund()).committed_pence == preview.total_pence == 63_00
    done = client.get(response["Location"]).content.decode()
    assert "govuk-panel--confirmation" in done
    assert "3 welcome packs generated" in done
    assert f"£63.00 committed from {standby_fund().name}" in done
    # The result is shown once; sending the same confirmation again makes nothing more.
    assert client.get(response["Location"]).status_code == 302
    again = client.post(_url(school_a), {"academic_year": this_year(), "expected": preview.signature})
    assert again.status_code == 409
    assert Gift.objects.count() == 3
    assert AuditEvent.objects.filter(action="gifts.generated").count() == 1


def test_a_confirmation_made_stale_by_a_newcomer_changes_nothing_and_shows_the_new_figures(
    client_for, lead_a, school_a, funded_pack
):
    make_intake(school_a, 2)
    shown = gift_services.gifts_generate_preview(school=school_a, academic_year=this_year(), actor=lead_a)
    make_intake(school_a, 1, surname="Late")
    entries = LedgerEntry.objects.count()
    response = client_for(lead_a).post(
        _url(school_a), {"academic_year": this_year(), "expected": shown.signature}
    )
    page = response.content.decode()
    assert response.status_code == 409
    assert "changed since you checked" in page
    assert "3 welcome packs" in page
    assert not Gift.objects.exists()
    assert LedgerEntry.objects.count() == entries


def test_a_post_without_the_check_goes_to_the_check_page(client_for, lead_a, school_a, pack_a):
    make_intake(school_a, 2)
    response = client_for(lead_a).post(_url(school_a), {"academic_year": this_year()})
    assert response.status_code == 302
    assert response["Location"] == _url(school_a)
    assert not Gift.objects.exists()


def test_nothing_to_generate_offers_no_button(client_for, lead_a, school_a, pack_a):
    page = client_for(lead_a).get(_url(school_a)).content.decode()
    assert "Nothing to generate" in page
    assert 'name="expected"' not in page


def test_the_preview_and_the_commit_agree_for_two_intakes_and_no_fund(lead_a, school_a, pack_a):
    make_intake(school_a, 2)
    preview = gift_services.gifts_generate_preview(school=school_a, academic_year=this_year(), actor=lead_a)
    assert (preview.count, preview.total_pence, preview.by_fund()) == (2, 0, [])
    done = gift_services.gifts_generate(
        school=school_a, academic_year=this_year(), actor=lead_a, expected=preview.signature
    )
    assert (done.count, done.total_pence) == (preview.count, preview.total_pence)
