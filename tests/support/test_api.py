import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from support.models import AuditEvent


@pytest.fixture
def api_for():
    def make(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def test_it_authenticates_with_a_token(pastoral_a, family_a):
    token = Token.objects.create(user=pastoral_a)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.get("/api/v1/families/")
    assert response.status_code == 200
    assert [row["lead_carer_name"] for row in response.json()["results"]] == ["Anna Able"]


def test_it_answers_401_to_a_bad_token(family_a):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/v1/families/").status_code == 401


def test_it_updates_a_family_through_the_service(api_for, pastoral_a, family_a):
    response = api_for(pastoral_a).patch(
        f"/api/v1/families/{family_a.pk}/", {"postcode": "rv1 7xx", "adults": 2}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["postcode"] == "RV1 7XX"
    assert response.json()["household_size"] == 3
    assert AuditEvent.objects.get(action="family.updated").actor == pastoral_a


def test_it_answers_400_with_the_field_for_a_business_rule(api_for, pastoral_a, family_a):
    response = api_for(pastoral_a).patch(
        f"/api/v1/families/{family_a.pk}/", {"postcode": "nowhere"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["postcode"] == ["Enter a UK postcode, like SW1A 1AA."]
    family_a.refresh_from_db()
    assert family_a.postcode == "RV1 1AA"


def test_it_answers_400_for_a_malformed_value(api_for, pastoral_a, family_a):
    response = api_for(pastoral_a).patch(
        f"/api/v1/families/{family_a.pk}/", {"adults": "many"}, format="json"
    )
    assert response.status_code == 400
    assert "adults" in response.json()


def test_it_does_not_let_consent_be_set_by_patch(api_for, pastoral_a, family_a, partner_1):
    api_for(pastoral_a).patch(
        f"/api/v1/families/{family_a.pk}/", {"consents": [{"partner": partner_1.pk}]}, format="json"
    )
    assert not family_a.consents.exists()


def test_it_records_consent_through_the_api(api_for, pastoral_a, family_a, partner_1):
    response = api_for(pastoral_a).post(
        f"/api/v1/families/{family_a.pk}/consent/",
        {"partner": partner_1.pk, "given": True, "method": "phone", "date": "2026-10-01"},
        format="json",
    )
    assert response.status_code == 200
    [consent] = response.json()["consents"]
    assert (consent["partner"], consent["method"]) == (partner_1.pk, "phone")
    assert consent["given_on"] == "2026-10-01"
    assert consent["is_current"] is True


def test_it_flags_a_pupil_in_need_through_the_api(api_for, pastoral_a, family_a):
    pupil = family_a.pupils.get()
    refused = api_for(pastoral_a).post(
        f"/api/v1/pupils/{pupil.pk}/in-need/", {"in_need": True}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["reason"] == ["Say briefly why the pupil is in need."]
    done = api_for(pastoral_a).post(
        f"/api/v1/pupils/{pupil.pk}/in-need/", {"in_need": True, "reason": "No coat"}, format="json"
    )
    assert done.status_code == 200
    assert done.json()["in_need"] is True


def test_it_refuses_writes_out_of_scope_with_404(api_for, pastoral_b, family_a):
    response = api_for(pastoral_b).patch(
        f"/api/v1/families/{family_a.pk}/", {"postcode": "RV9 9ZZ"}, format="json"
    )
    assert response.status_code == 404
    family_a.refresh_from_db()
    assert family_a.postcode == "RV1 1AA"


def test_it_filters_pupils(api_for, admin, family_a, family_b, school_b):
    response = api_for(admin).get("/api/v1/pupils/", {"school": school_b.pk, "year_group": 8})
    assert [row["legal_forename"] for row in response.json()["results"]] == ["Bobby"]


def test_it_serves_the_openapi_schema_and_docs_offline(client_for, pastoral_a):
    client = client_for(pastoral_a)
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/families/{id}/consent/" in paths
    assert "/api/v1/pupils/" in paths
    docs = client.get("/api/v1/docs/").content.decode()
    assert "swagger-ui" in docs
    assert "//cdn" not in docs
    assert "https://" not in docs.split("<body")[0]


def test_it_keeps_list_queries_flat(api_for, admin, school_a, django_assert_max_num_queries):
    from tests.factories import FamilyFactory, PupilFactory

    for _ in range(30):
        PupilFactory(school=school_a, family=FamilyFactory())
    client = api_for(admin)
    with django_assert_max_num_queries(8):
        assert client.get("/api/v1/families/").status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get("/api/v1/pupils/").status_code == 200


def test_it_keeps_the_family_page_queries_flat(
    client_for, pastoral_a, school_a, django_assert_max_num_queries
):
    from tests.factories import FamilyFactory, PupilFactory

    for _ in range(30):
        PupilFactory(school=school_a, family=FamilyFactory(lead_carer_name="Flat Query"))
    client = client_for(pastoral_a)
    with django_assert_max_num_queries(12):
        response = client.get("/families/", {"q": "Flat"})
    assert response.content.decode().count("Flat Query") == 25


def test_its_family_list_shows_each_family_as_its_detail_does(api_for, pastoral_a, family_ab, partner_1):
    from support import consents

    consents.family_consent_record(family=family_ab, partner=partner_1, actor=pastoral_a, method="phone")
    client = api_for(pastoral_a)
    [listed] = client.get("/api/v1/families/", {"q": "Cross"}).json()["results"]
    assert listed == client.get(f"/api/v1/families/{family_ab.pk}/").json()
    assert [p["legal_forename"] for p in listed["pupils"]] == ["Cleo"]  # never school B's Caspar
    assert [c["partner"] for c in listed["consents"]] == [partner_1.pk]
    [unfiltered] = client.get("/api/v1/families/").json()["results"]
    assert unfiltered == listed


def test_its_family_list_runs_as_many_queries_for_a_full_page_as_for_one(
    api_for, pastoral_a, school_a, partner_1
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from support import consents
    from tests.factories import FamilyFactory, PupilFactory

    client = api_for(pastoral_a)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/families/", {"q": "Flat"}).status_code == 200
        return len(captured.captured_queries)

    family = FamilyFactory(lead_carer_name="Flat Query")
    PupilFactory(school=school_a, family=family)
    consents.family_consent_record(family=family, partner=partner_1, actor=pastoral_a, method="phone")
    queries()
    one = queries()
    for _ in range(30):
        family = FamilyFactory(lead_carer_name="Flat Query")
        PupilFactory(school=school_a, family=family)
        PupilFactory(school=school_a, family=family)
        consents.family_consent_record(family=family, partner=partner_1, actor=pastoral_a, method="phone")
    assert queries() == one


def test_its_searched_family_list_pages_by_the_web_lists_size(api_for, pastoral_a, school_a):
    from support.paging import SEARCH_PAGE_SIZE
    from tests.factories import FamilyFactory, PupilFactory

    for _ in range(SEARCH_PAGE_SIZE + 5):
        PupilFactory(school=school_a, family=FamilyFactory(lead_carer_name="Paged Smith"))
    client = api_for(pastoral_a)
    searched = client.get("/api/v1/families/", {"q": "Smith"}).json()
    assert (searched["count"], len(searched["results"])) == (SEARCH_PAGE_SIZE + 5, SEARCH_PAGE_SIZE)
    assert len(client.get(searched["next"]).json()["results"]) == 5
    assert len(client.get("/api/v1/families/").json()["results"]) == SEARCH_PAGE_SIZE + 5  # 50 a page


def test_its_family_serializers_build_their_fields_once_and_still_hide_per_user(
    api_for, admin, finance, family_a
):
    from support.api.serializers import FamilySerializer

    assert FamilySerializer.build_fields_once
    seen = api_for(admin).get("/api/v1/families/").json()["results"][0]
    again = api_for(admin).get("/api/v1/families/").json()["results"][0]
    assert seen == again
    assert "_built_fields" in FamilySerializer.__dict__
    # Built once for the class, but which fields a user sees is still decided for each serializer.
    from rest_framework.test import APIRequestFactory

    def fields_for(user) -> set[str]:
        request = APIRequestFactory().get("/")
        request.user = user
        return set(FamilySerializer(context={"request": request}).fields)

    assert "lead_carer_name" in fields_for(admin)
    assert fields_for(finance) == set()  # finance counts money, not people
    assert "lead_carer_name" in fields_for(admin)
