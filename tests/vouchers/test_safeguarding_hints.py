"""Notes typed on voucher and coat-request pages carry the safeguarding guidance with the school's leads."""

import pytest
from django.urls import reverse

from tests.factories import consent_to

pytestmark = pytest.mark.django_db

LEADS = "(Dana Lead, deputy Dev Deputy)"


@pytest.fixture
def leads_a(school_a):
    school_a.safeguarding_lead = "Dana Lead"
    school_a.safeguarding_deputy = "Dev Deputy"
    school_a.save()
    return school_a


def test_it_shows_the_leads_beside_the_notes_on_the_issue_page(
    client_for, pastoral_a, family_a, food_type, leads_a
):
    consent_to(family_a, pastoral_a)
    page = client_for(pastoral_a).get(reverse("voucher_issue", args=[family_a.pk])).content.decode()
    assert page.count(LEADS) == 2  # the "other" referral reason and the note for the charity
    assert "This note is seen by the partner charity when it checks the voucher" in page
    assert "Shown to the charity when it checks the voucher: no case notes" in page


def test_it_shows_the_leads_beside_a_cancel_reason(
    client_for, pastoral_a, family_a, food_type, leads_a, issue
):
    voucher = issue(family_a, food_type)
    page = client_for(pastoral_a).get(reverse("voucher_detail", args=[voucher.pk])).content.decode()
    assert LEADS in page


def test_it_shows_the_leads_beside_a_coat_requests_reason(client_for, pastoral_a, family_a, leads_a):
    from tests.uniform.conftest import make_outdoor_item

    make_outdoor_item(leads_a, "coat")  # the form asks for a reason once the school has coats to give
    pupil = family_a.pupils.get()
    pupil.in_need = True
    pupil.save()
    page = client_for(pastoral_a).get(reverse("support_request_create", args=[pupil.pk]) + "?kind=coat")
    assert LEADS in page.content.decode()
    # Finance approves the money, not the case: the reason stays with the school.
    assert "This note is seen by staff at this school and trust admins" in page.content.decode()
