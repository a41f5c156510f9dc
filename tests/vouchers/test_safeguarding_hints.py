"""Notes typed on voucher and coat-request pages carry the safeguarding guidance with the school's leads."""

import pytest
from django.urls import reverse

from support.services import family_record_consent

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
    family_record_consent(family=family_a, actor=pastoral_a, given=True)
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
    from uniform.models import ItemKind, UniformItem
    from uniform.sizes import CLOTHES_SIZES

    # A coat is requested from the school's own items (the request form needs one set up).
    UniformItem.objects.create(
        school=leads_a, kind=ItemKind.COAT, name="Winter coat", sizes=CLOTHES_SIZES, unit_cost_pence=22_00
    )
    pupil = family_a.pupils.get()
    pupil.in_need = True
    pupil.save()
    page = client_for(pastoral_a).get(reverse("support_request_create", args=[pupil.pk]) + "?kind=coat")
    assert LEADS in page.content.decode()
    # Finance approves the money, not the case: the reason stays with the school.
    assert "This note is seen by staff at this school and trust admins" in page.content.decode()
