"""The support-requests API: scoped list and detail with filters, create, and the moves."""

import pytest
from rest_framework.test import APIClient

from support.models import AuditEvent
from uniform.models import SupportRequest
from uniform.request_services import request_create

Status = SupportRequest.Status
pytestmark = pytest.mark.django_db
BASE = "/api/v1/support-requests/"


@pytest.fixture
def api_for():
    def make(user) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


def _in_need(family):
    pupil = family.pupils.get()
    pupil.in_need = True
    pupil.save(update_fields=["in_need"])
    return pupil


@pytest.fixture
def pupil_a(family_a):
    return _in_need(family_a)


@pytest.fixture
def pupil_b(family_b):
    return _in_need(family_b)


@pytest.fixture
def waiting(pupil_a, pastoral_a):
    def ask():
        return request_create(
            pupil=pupil_a,
            kind="coat",
            size="Age 7-8",
            reason="Needs one",
            urgency="routine",
            actor=pastoral_a,
        )

    ask()
    return ask()


@pytest.fixture
def at_b(pupil_b, pastoral_b):
    return request_create(
        pupil=pupil_b, kind="shoes", size="Adult 5", reason="Split", urgency="urgent", actor=pastoral_b
    )


@pytest.mark.parametrize(
    ("persona", "method", "path", "expected"),
    [
        ("pastoral_a", "get", "", 200),
        ("finance", "get", "", 200),
        ("charity_staff", "get", "", 403),
        ("no_role", "get", "", 403),
        (None, "get", "", 401),
        ("pastoral_a", "get", "{pk}/", 200),
        ("pastoral_b", "get", "{pk}/", 404),
        ("finance", "post", "{pk}/approve/", 403),
        ("pastoral_a", "post", "{pk}/approve/", 403),
        ("lead_b", "post", "{pk}/approve/", 404),
        ("pastoral_a", "post", "{pk}/handed-over/", 409),
        ("charity_staff", "post", "", 403),
        ("finance", "post", "", 403),
    ],
)
def test_it_guards_every_endpoint(api_for, request, waiting, persona, method, path, expected):
    user = request.getfixturevalue(persona) if persona else None
    url = BASE + path.format(pk=waiting.pk)
    response = getattr(api_for(user), method)(url, {"reason": "Because"}, format="json")
    assert response.status_code == expected
    assert SupportRequest.objects.get(pk=waiting.pk).status == Status.REQUESTED


def test_it_lists_only_requests_in_scope_with_filters(api_for, pastoral_a, lead_b, waiting, at_b, admin):
    ids = {row["id"] for row in api_for(pastoral_a).get(BASE).json()["results"]}
    assert waiting.pk in ids
    assert at_b.pk not in ids
    assert {row["id"] for row in api_for(lead_b).get(BASE).json()["results"]} == {at_b.pk}
    admin_api = api_for(admin)
    assert {r["id"] for r in admin_api.get(BASE, {"kind": "shoes"}).json()["results"]} == {at_b.pk}
    assert {r["id"] for r in admin_api.get(BASE, {"status": "requested"}).json()["results"]} == {waiting.pk}
    assert {r["id"] for r in admin_api.get(BASE, {"school": waiting.school_id}).json()["results"]} == {
        waiting.pk,
        waiting.pk - 1,
    }
    assert admin_api.get(BASE, {"period": waiting.period + 5}).json()["count"] == 0


def test_it_creates_a_request(api_for, pastoral_a, pupil_a):
    response = api_for(pastoral_a).post(
        BASE,
        {
            "pupil": pupil_a.pk,
            "kind": "shoes",
            "size": "Child 13½",
            "reason": "Too small",
            "urgency": "urgent",
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["size"], body["beyond_policy"]) == ("approved", "Child 13½", False)
    created = SupportRequest.objects.get(pk=body["id"])
    assert created.requested_by == pastoral_a
    assert AuditEvent.objects.filter(action="support_request.created", subject_id=str(created.pk)).exists()


def test_it_refuses_a_pupil_out_of_scope_or_a_bad_size(api_for, pastoral_a, pupil_a, pupil_b):
    api = api_for(pastoral_a)
    other = api.post(
        BASE, {"pupil": pupil_b.pk, "kind": "coat", "size": "Adult S", "reason": "x"}, format="json"
    )
    assert other.status_code == 400
    assert "pupil" in other.json()
    bad = api.post(
        BASE, {"pupil": pupil_a.pk, "kind": "coat", "size": "Adult 9", "reason": "x"}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["size"] == ["Choose a size from the list."]
    assert not SupportRequest.objects.exists()


def test_it_approves_with_a_reason_and_moves_on(api_for, lead_a, pastoral_a, waiting):
    lead = api_for(lead_a)
    refused = lead.post(f"{BASE}{waiting.pk}/approve/", {}, format="json")
    assert refused.status_code == 400
    assert refused.json()["code"] == "reason_required"
    approved = lead.post(f"{BASE}{waiting.pk}/approve/", {"reason": "Lost"}, format="json")
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    staff = api_for(pastoral_a)
    assert staff.post(f"{BASE}{waiting.pk}/ordered/").json()["status"] == "ordered"
    assert staff.post(f"{BASE}{waiting.pk}/from-stock/").status_code == 409
    assert staff.post(f"{BASE}{waiting.pk}/handed-over/").json()["status"] == "handed_over"
    assert (
        AuditEvent.objects.filter(subject_id=str(waiting.pk), action__startswith="support_request").count()
        == 4
    )


def test_it_rejects_only_with_a_reason(api_for, lead_a, waiting):
    lead = api_for(lead_a)
    assert lead.post(f"{BASE}{waiting.pk}/reject/", {"reason": ""}, format="json").status_code == 400
    response = lead.post(f"{BASE}{waiting.pk}/reject/", {"reason": "Duplicate"}, format="json")
    assert response.json()["status"] == "rejected"
    assert response.json()["decision_reason"] == "Duplicate"


def test_it_keeps_list_queries_flat(api_for, admin, pupil_a, pastoral_a, django_assert_max_num_queries):
    for size in ("Age 3-4", "Age 4-5", "Age 5-6", "Age 6-7"):
        request_create(pupil=pupil_a, kind="coat", size=size, reason="x", urgency="routine", actor=pastoral_a)
    with django_assert_max_num_queries(6):
        assert api_for(admin).get(BASE).json()["count"] == 4
