"""Request pages: ask from the pupil's card, detail with next steps, the lead's queue, the list, the drive."""

import pytest
from django.contrib.contenttypes.models import ContentType

from funds.models import LedgerEntry
from support.models import AuditEvent
from tests.factories import PupilFactory, make_user
from tests.uniform.conftest import make_outdoor_item
from uniform.models import SupportRequest, UniformItem
from uniform.services.requests import request_create

Status = SupportRequest.Status
pytestmark = pytest.mark.django_db


@pytest.fixture
def pupil_a(family_a):
    pupil = family_a.pupils.get()
    pupil.in_need = True
    pupil.save(update_fields=["in_need"])
    return pupil


def _commitment(request) -> int:
    """What the request committed in the ledger, in pence."""
    return sum(
        LedgerEntry.objects.filter(
            source_type=ContentType.objects.get_for_model(SupportRequest),
            source_id=str(request.pk),
            kind="commitment",
        ).values_list("amount_pence", flat=True)
    )


@pytest.fixture
def ask(pastoral_a, coat_a, shoes_a):
    def make(pupil, kind="coat", size="Age 7-8", **kwargs):
        return request_create(
            pupil=pupil,
            kind=kind,
            item=UniformItem.objects.get(school=pupil.school, kind=kind),
            size=size,
            reason="Needs one",
            urgency="routine",
            actor=pastoral_a,
            **kwargs,
        )

    return make


@pytest.fixture
def waiting(ask, pupil_a):
    ask(pupil_a)
    return ask(pupil_a, size="Age 8-9")  # a second coat: beyond policy


@pytest.mark.parametrize(
    ("persona", "method", "url", "expected"),
    [
        ("pastoral_a", "get", "create", 200),
        ("lead_a", "get", "create", 200),
        ("pastoral_b", "get", "create", 404),
        ("finance", "get", "create", 403),
        ("charity_staff", "get", "create", 403),
        ("pastoral_a", "get", "detail", 200),
        ("finance", "get", "detail", 200),
        ("pastoral_b", "get", "detail", 404),
        ("lead_b", "get", "detail", 404),
        ("charity_staff", "get", "detail", 403),
        ("pastoral_a", "get", "list", 200),
        ("finance", "get", "list", 200),
        ("charity_staff", "get", "list", 403),
        ("lead_a", "get", "queue", 200),
        ("pastoral_a", "get", "queue", 403),
        ("finance", "get", "queue", 403),
        ("lead_a", "get", "drive", 200),
        ("pastoral_a", "get", "drive", 403),
        ("pastoral_a", "post", "approve", 403),
        ("finance", "post", "ordered", 403),
        ("lead_b", "post", "approve", 404),
        ("pastoral_b", "post", "ordered", 404),
    ],
)
def test_it_guards_every_page(client_for, request, waiting, pupil_a, persona, method, url, expected):
    urls = {
        "create": f"/pupils/{pupil_a.pk}/requests/new/",
        "detail": f"/requests/{waiting.pk}/",
        "list": "/requests/",
        "queue": "/requests/queue/",
        "drive": "/requests/winter-drive/",
        "approve": f"/requests/{waiting.pk}/approve/",
        "ordered": f"/requests/{waiting.pk}/ordered/",
    }
    client = client_for(request.getfixturevalue(persona))
    response = getattr(client, method)(urls[url], {"reason": "Because"})
    assert response.status_code == expected
    assert SupportRequest.objects.get(pk=waiting.pk).status == Status.REQUESTED


def test_it_sends_the_anonymous_to_sign_in(client_for, pupil_a):
    response = client_for(None).get(f"/pupils/{pupil_a.pk}/requests/new/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_it_links_to_the_request_form_from_the_card_of_a_pupil_in_need(
    client_for, pastoral_a, pupil_a, family_a
):
    page = client_for(pastoral_a).get(f"/families/{family_a.pk}/").content.decode()
    assert f'href="/pupils/{pupil_a.pk}/requests/new/"' in page


def test_it_shows_what_the_pupil_has_had_on_the_form(client_for, pastoral_a, pupil_a, ask, shoes_a):
    ask(pupil_a, kind="shoes", size="Child 11½")
    page = client_for(pastoral_a).get(f"/pupils/{pupil_a.pk}/requests/new/?kind=shoes").content.decode()
    assert "Child 11½" in page
    assert "Policy: 1 pair a year" in page
    assert f'<option value="{shoes_a.pk}:Child 4½">Child 4½</option>' in page
    assert "School shoes, £24.00 each" in page


def test_it_offers_only_the_schools_own_coats_and_their_sizes(
    client_for, pastoral_a, pupil_a, coat_a, coat_b
):
    page = client_for(pastoral_a).get(f"/pupils/{pupil_a.pk}/requests/new/?kind=coat").content.decode()
    assert f'<option value="{coat_a.pk}:11-12">11-12</option>' in page
    assert f'value="{coat_b.pk}:' not in page
    assert "Age 11-12" not in page


def test_it_says_when_the_school_has_no_coats_to_ask_for(client_for, pastoral_a, pupil_a):
    page = client_for(pastoral_a).get(f"/pupils/{pupil_a.pk}/requests/new/?kind=coat").content.decode()
    assert "has no coats set up yet" in page
    assert "<select" not in page.split("has no coats set up yet")[1]


def test_it_shows_the_cost_and_who_decides_before_sending_and_writes_nothing(
    client_for, pastoral_a, pupil_a, coat_a
):
    asked = {"kind": "coat", "size": f"{coat_a.pk}:11-12", "reason": "No coat at all", "urgency": "urgent"}
    client = client_for(pastoral_a)
    response = client.post(f"/pupils/{pupil_a.pk}/requests/new/", asked)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Check the request before you send it" in page
    assert '<dd class="govuk-summary-list__value" id="request-cost">£22.00</dd>' in page
    assert "Approved when sent" in page
    assert "No coat at all" in page
    assert 'name="confirm" value="yes"' in page
    assert not SupportRequest.objects.exists()
    assert not AuditEvent.objects.filter(action="support_request.created").exists()
    # "Change the request" brings the form back, filled in, still writing nothing.
    again = client.post(f"/pupils/{pupil_a.pk}/requests/new/", {**asked, "change": "yes"}).content.decode()
    assert "No coat at all</textarea>" in again
    assert not SupportRequest.objects.exists()


def test_the_check_says_when_finance_must_approve(client_for, pastoral_a, pupil_a, school_a):
    dear = make_outdoor_item(school_a, "coat", cost=150_00, name="Parka")
    page = (
        client_for(pastoral_a)
        .post(
            f"/pupils/{pupil_a.pk}/requests/new/",
            {"kind": "coat", "size": f"{dear.pk}:9-10", "reason": "No coat", "urgency": "routine"},
        )
        .content.decode()
    )
    assert "£150.00" in page
    assert "Needs finance approval" in page
    assert not SupportRequest.objects.exists()
    client_for(pastoral_a).post(
        f"/pupils/{pupil_a.pk}/requests/new/",
        {
            "kind": "coat",
            "size": f"{dear.pk}:9-10",
            "reason": "No coat",
            "urgency": "routine",
            "confirm": "yes",
        },
    )
    created = SupportRequest.objects.get()
    assert (created.cost_pence, created.status) == (150_00, Status.AWAITING_FINANCE)


def test_it_requests_a_coat_from_the_form_priced_and_committed(client_for, pastoral_a, pupil_a, coat_a):
    response = client_for(pastoral_a).post(
        f"/pupils/{pupil_a.pk}/requests/new/",
        {
            "kind": "coat",
            "size": f"{coat_a.pk}:11-12",
            "reason": "No coat at all",
            "urgency": "urgent",
            "confirm": "yes",
        },
    )
    created = SupportRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/requests/{created.pk}/"
    assert (
        created.kind,
        created.item,
        created.size,
        created.urgency,
        created.status,
        created.cost_pence,
    ) == (
        "coat",
        coat_a,
        "11-12",
        "urgent",
        "approved",
        22_00,
    )
    assert _commitment(created) == 22_00
    assert AuditEvent.objects.filter(action="support_request.created", subject_id=str(created.pk)).exists()
    assert "£22.00" in client_for(pastoral_a).get(f"/requests/{created.pk}/").content.decode()


def test_it_asks_a_lead_why_a_request_costs_nothing_on_the_page(
    client_for, pastoral_a, lead_a, pupil_a, school_a
):
    donated = make_outdoor_item(school_a, "coat", cost=0, name="Donated coat")
    client_for(pastoral_a).post(
        f"/pupils/{pupil_a.pk}/requests/new/",
        {
            "kind": "coat",
            "size": f"{donated.pk}:9-10",
            "reason": "No coat",
            "urgency": "routine",
            "confirm": "yes",
        },
    )
    created = SupportRequest.objects.get()
    assert created.status == Status.REQUESTED
    client = client_for(lead_a)
    assert "Why it costs nothing" in client.get(f"/requests/{created.pk}/").content.decode()
    refused = client.post(f"/requests/{created.pk}/approve/", {"reason": ""})
    assert refused.status_code == 400
    assert "record why it costs nothing" in refused.content.decode()
    client.post(f"/requests/{created.pk}/approve/", {"no_cost_reason": "From the coat bank"})
    created.refresh_from_db()
    assert (created.status, created.no_cost_reason) == (Status.APPROVED, "From the coat bank")


def test_it_requests_uniform_by_item_and_size(client_for, pastoral_a, pupil_a, school_a):
    polo = UniformItem.objects.create(
        school=school_a, name="Polo", sizes=["5-6", "7-8"], unit_cost_pence=6_00
    )
    client = client_for(pastoral_a)
    assert "Polo" in client.get(f"/pupils/{pupil_a.pk}/requests/new/?kind=uniform").content.decode()
    client.post(
        f"/pupils/{pupil_a.pk}/requests/new/",
        {
            "kind": "uniform",
            "size": f"{polo.pk}:7-8",
            "quantity": 3,
            "reason": "Joined in March",
            "urgency": "routine",
            "confirm": "yes",
        },
    )
    created = SupportRequest.objects.get()
    assert (created.item, created.size, created.quantity, created.cost_pence) == (polo, "7-8", 3, 18_00)


def test_it_shows_form_errors_and_creates_nothing(client_for, pastoral_a, pupil_a, coat_a):
    response = client_for(pastoral_a).post(
        f"/pupils/{pupil_a.pk}/requests/new/",
        {"kind": "coat", "size": "", "reason": "", "urgency": "routine"},
    )
    assert response.status_code == 400
    assert "Choose a size" in response.content.decode()
    assert not SupportRequest.objects.exists()


def test_it_explains_a_pupil_not_in_need_cannot_be_asked_for(client_for, pastoral_a, family_a, coat_a):
    pupil = family_a.pupils.get()
    response = client_for(pastoral_a).post(
        f"/pupils/{pupil.pk}/requests/new/",
        {"kind": "coat", "size": f"{coat_a.pk}:S", "reason": "x", "urgency": "routine"},
    )
    assert "is not marked in need" in response.content.decode()
    assert not SupportRequest.objects.exists()


def test_it_shows_a_lead_the_queue_of_their_schools(
    client_for, lead_a, waiting, pupil_a, school_b, ask, coat_b
):
    other = PupilFactory(school=school_b, in_need=True, surname="Elsewhere")
    pastoral = make_user("pastoral_other", "pastoral", schools=[school_b])
    for _ in range(2):
        request_create(
            pupil=other, kind="coat", item=coat_b, size="M", reason="x", urgency="routine", actor=pastoral
        )
    page = client_for(lead_a).get("/requests/queue/").content.decode()
    assert f"/requests/{waiting.pk}/" in page
    assert "Beyond policy" in page
    assert "Elsewhere" not in page
    assert "1 request in your schools" in page


def test_it_approves_from_the_detail_page_with_a_reason(client_for, lead_a, waiting):
    client = client_for(lead_a)
    page = client.get(f"/requests/{waiting.pk}/").content.decode()
    assert "Approve" in page
    assert "Reject" in page
    refused = client.post(f"/requests/{waiting.pk}/approve/", {"reason": ""})
    assert refused.status_code == 400
    assert "give a reason for approving" in refused.content.decode()
    response = client.post(f"/requests/{waiting.pk}/approve/", {"reason": "Lost on the bus"})
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert (waiting.status, waiting.decision_reason) == (Status.APPROVED, "Lost on the bus")


def test_it_shows_pastoral_staff_no_decision_buttons(client_for, pastoral_a, waiting):
    page = client_for(pastoral_a).get(f"/requests/{waiting.pk}/").content.decode()
    assert "Approve" not in page
    assert "Mark as ordered" not in page


def test_it_moves_an_approved_request_on_and_refuses_a_repeat(client_for, pastoral_a, pupil_a, ask):
    approved = ask(pupil_a)
    client = client_for(pastoral_a)
    assert "Take from stock" in client.get(f"/requests/{approved.pk}/").content.decode()
    assert client.post(f"/requests/{approved.pk}/from-stock/").status_code == 302
    repeat = client.post(f"/requests/{approved.pk}/ordered/")
    assert repeat.status_code == 409
    assert "taken from stock, so it cannot be ordered" in repeat.content.decode()
    assert client.post(f"/requests/{approved.pk}/handed-over/").status_code == 302
    approved.refresh_from_db()
    assert (approved.status, approved.handed_over_by) == (Status.HANDED_OVER, pastoral_a)


def test_it_needs_a_reason_to_reject_on_the_page(client_for, lead_a, waiting):
    client = client_for(lead_a)
    assert client.post(f"/requests/{waiting.pk}/reject/", {"reason": " "}).status_code == 400
    client.post(f"/requests/{waiting.pk}/reject/", {"reason": "Had one last week", "confirm": "yes"})
    waiting.refresh_from_db()
    assert (waiting.status, waiting.decision_reason) == (Status.REJECTED, "Had one last week")


def test_it_asks_before_rejecting_and_changes_nothing_until_confirmed(client_for, lead_a, waiting):
    client = client_for(lead_a)
    detail = client.get(f"/requests/{waiting.pk}/").content.decode()
    assert "data-confirm" not in detail
    response = client.post(f"/requests/{waiting.pk}/reject/", {"reason": "Had one last week"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Are you sure you want to reject this request?" in page
    assert "Had one last week" in page
    assert 'name="confirm" value="yes"' in page
    assert "Yes, reject the request" in page
    assert f'href="/requests/{waiting.pk}/"' in page
    waiting.refresh_from_db()
    assert waiting.status == Status.REQUESTED
    client.post(f"/requests/{waiting.pk}/reject/", {"reason": "Had one last week", "confirm": "yes"})
    waiting.refresh_from_db()
    assert waiting.status == Status.REJECTED


def test_it_filters_the_list(client_for, pastoral_a, pupil_a, ask, waiting):
    shoes = ask(pupil_a, kind="shoes", size="Child 10")
    client = client_for(pastoral_a)
    page = client.get("/requests/", {"kind": "shoes"}).content.decode()
    assert f"/requests/{shoes.pk}/" in page
    assert f"/requests/{waiting.pk}/" not in page
    page = client.get("/requests/", {"status": "requested"}).content.decode()
    assert f"/requests/{waiting.pk}/" in page
    assert f"/requests/{shoes.pk}/" not in page


def test_it_hides_pupils_and_reasons_from_finance(client_for, finance, waiting):
    page = client_for(finance).get(f"/requests/{waiting.pk}/").content.decode()
    assert "Alfie" not in page
    assert "Needs one" not in page


def test_it_runs_the_winter_drive_from_the_page(client_for, lead_a, school_a, school_b, coat_a):
    chosen = PupilFactory(school=school_a, in_need=True, surname="Chosen")
    PupilFactory(school=school_a, in_need=True, surname="Skipped")
    PupilFactory(school=school_b, in_need=True, surname="Elsewhere")
    client = client_for(lead_a)
    page = client.get("/requests/winter-drive/").content.decode()
    assert "Chosen" in page
    assert "Skipped" in page
    assert "Elsewhere" not in page
    assert f'<option value="{coat_a.pk}:9-10">9-10</option>' in page
    assert "Winter coat, £22.00 each" in page
    missing = client.post("/requests/winter-drive/", {"pupil": [chosen.pk], "reason": "Drive"})
    assert missing.status_code == 400
    assert "Choose a coat and size" in missing.content.decode()
    response = client.post(
        "/requests/winter-drive/",
        {"pupil": [chosen.pk], f"coat-{chosen.pk}": f"{coat_a.pk}:9-10", "reason": "Drive"},
    )
    assert response.status_code == 302
    created = SupportRequest.objects.get()
    assert (created.pupil, created.item, created.size, created.status, created.cost_pence) == (
        chosen,
        coat_a,
        "9-10",
        "approved",
        22_00,
    )
    assert _commitment(created) == 22_00
    page = client.get("/requests/winter-drive/").content.decode()
    assert "Chosen" not in page
    assert "Skipped" in page


def test_it_refuses_a_drive_coat_whose_id_no_item_can_have(client_for, lead_a, school_a, coat_a):
    chosen = PupilFactory(school=school_a, in_need=True)
    response = client_for(lead_a).post(
        "/requests/winter-drive/",
        {"pupil": [chosen.pk], f"coat-{chosen.pk}": "99999999999999999999:9-10", "reason": "Drive"},
    )
    assert response.status_code == 400
    assert "Choose a coat and size" in response.content.decode()
    assert not SupportRequest.objects.exists()


def test_it_refuses_a_drive_for_a_pupil_not_listed(client_for, lead_a, school_b, coat_b):
    other = PupilFactory(school=school_b, in_need=True)
    response = client_for(lead_a).post(
        "/requests/winter-drive/",
        {"pupil": [other.pk], f"coat-{other.pk}": f"{coat_b.pk}:S", "reason": "Drive"},
    )
    assert response.status_code == 400
    assert not SupportRequest.objects.exists()


def test_it_shows_requests_in_the_nav(client_for, pastoral_a, charity_staff):
    assert 'href="/requests/"' in client_for(pastoral_a).get("/requests/").content.decode()
    assert 'href="/requests/"' not in client_for(charity_staff).get("/").content.decode()
