"""An agency that serves only other schools is not offered on the page, and is refused at every door (the
service, so the API too): a school cannot send its family to another school's own service."""

import pytest
from rest_framework.test import APIClient

from signposting.models import Agency, Signpost
from signposting.services import signpost_record
from support.errors import SupportError
from tests.signposting.conftest import TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def b_only_agency(school_b):
    agency = Agency.objects.create(name="School B's own counsellor", helps_with="Talking things through")
    agency.schools.set([school_b])
    return agency


def test_a_signpost_to_an_agency_serving_only_other_schools_is_refused(family_a, pastoral_a, b_only_agency):
    with pytest.raises(SupportError) as refused:
        signpost_record(
            family=family_a, actor=pastoral_a, kind=Signpost.Kind.SIGNPOST, agency=b_only_agency, today=TODAY
        )
    assert refused.value.field == "agency"
    assert not Signpost.objects.exists()


def test_the_api_refuses_an_agency_serving_only_other_schools(family_a, pastoral_a, b_only_agency):
    client = APIClient()
    client.force_authenticate(pastoral_a)
    response = client.post(
        "/api/v1/signposts/",
        {"family": family_a.pk, "kind": "signpost", "agency": b_only_agency.pk},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert not Signpost.objects.exists()


def test_an_agency_serving_the_familys_school_or_every_school_is_taken(
    family_a, pastoral_a, school_a, college
):
    everywhere = signpost_record(
        family=family_a, actor=pastoral_a, kind=Signpost.Kind.SIGNPOST, agency=college, today=TODAY
    )
    college.schools.set([school_a])
    own = signpost_record(
        family=family_a, actor=pastoral_a, kind=Signpost.Kind.SIGNPOST, agency=college, today=TODAY
    )
    assert everywhere.agency == own.agency == college
