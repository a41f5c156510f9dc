"""The scope matrix: every role × families in and out of its scope × every door that shows families.

The expected answers are written here, from the design (staff see a family when one of its pupils
is at one of their schools; finance and charity staff see no families; admins see all), not
computed from the code under test.
"""

import pytest

from tests.conftest import PASSWORD  # noqa: F401  (personas share it)

FAMILIES = ("family_a", "family_b", "family_ab")
SCHOOL_ROLES = {
    "pastoral_a": {"family_a", "family_ab"},
    "lead_a": {"family_a", "family_ab"},
    "pastoral_b": {"family_b", "family_ab"},
    "admin": {"family_a", "family_b", "family_ab"},
}
NO_FAMILY_ROLES = ("finance", "charity_staff", "no_role")
CARER = {"family_a": "Anna Able", "family_b": "Bella Brook", "family_ab": "Cara Cross"}


@pytest.fixture
def world(request, family_a, family_b, family_ab):
    return {"family_a": family_a, "family_b": family_b, "family_ab": family_ab}


def _user(request, persona):
    return None if persona == "anonymous" else request.getfixturevalue(persona)


# --- Detail: 200 in scope, 404 out of scope (never 403, never the data) ------------------------

DETAIL_CASES = [
    (persona, family, 200 if family in visible else 404)
    for persona, visible in SCHOOL_ROLES.items()
    for family in FAMILIES
] + [(persona, family, 403) for persona in NO_FAMILY_ROLES for family in FAMILIES]


@pytest.mark.parametrize(("persona", "family", "expected"), DETAIL_CASES)
def test_it_scopes_the_family_page(request, world, client_for, persona, family, expected):
    client = client_for(_user(request, persona))
    response = client.get(f"/families/{world[family].pk}/")
    assert response.status_code == expected
    if expected != 200:
        assert CARER[family] not in response.content.decode()


@pytest.mark.parametrize(("persona", "family", "expected"), DETAIL_CASES)
def test_it_scopes_the_family_api_detail(request, world, client_for, persona, family, expected):
    client = client_for(_user(request, persona))
    response = client.get(f"/api/v1/families/{world[family].pk}/")
    assert response.status_code == expected
    if expected != 200:
        assert CARER[family] not in response.content.decode()


@pytest.mark.parametrize(("persona", "family", "expected"), DETAIL_CASES)
def test_it_scopes_the_family_edit_page(request, world, client_for, persona, family, expected):
    client = client_for(_user(request, persona))
    assert client.get(f"/families/{world[family].pk}/edit/").status_code == expected
    response = client.post(
        f"/families/{world[family].pk}/edit/", {"lead_carer_name": "Hijacked", "adults": 1, "children": 1}
    )
    assert response.status_code in ((302,) if expected == 200 else (expected,))
    world[family].refresh_from_db()
    assert (world[family].lead_carer_name == "Hijacked") == (expected == 200)


def test_it_sends_anonymous_users_to_sign_in(world, client):
    for url in ("/", "/families/", f"/families/{world['family_a'].pk}/", "/families/export.csv", "/imports/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/")
    api = client.get(f"/api/v1/families/{world['family_a'].pk}/")
    assert api.status_code == 401
    assert "Anna Able" not in api.content.decode()


# --- Lists, search and export: exactly the families in scope ----------------------------------

LIST_DOORS = {
    "web list": lambda c, q: c.get("/families/"),
    "web search": lambda c, q: c.get("/families/", {"q": q}),
    "csv export": lambda c, q: c.get("/families/export.csv"),
    "csv export of a search": lambda c, q: c.get("/families/export.csv", {"q": q}),
    "api list": lambda c, q: c.get("/api/v1/families/"),
    "api search": lambda c, q: c.get("/api/v1/families/", {"q": q}),
}


def _body(response) -> str:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.mark.parametrize("door", LIST_DOORS)
@pytest.mark.parametrize("persona", SCHOOL_ROLES)
def test_it_lists_only_families_in_scope(request, world, client_for, persona, door):
    client = client_for(_user(request, persona))
    everything = _body(LIST_DOORS[door](client, ""))
    for family in FAMILIES:
        searched = _body(LIST_DOORS[door](client, CARER[family].split()[1]))
        expected = family in SCHOOL_ROLES[persona]
        assert (CARER[family] in everything) == expected, (family, "unfiltered")
        assert (CARER[family] in searched) == expected, (family, "searched")


@pytest.mark.parametrize("door", LIST_DOORS)
@pytest.mark.parametrize("persona", NO_FAMILY_ROLES)
def test_it_refuses_family_lists_to_roles_without_families(request, world, client_for, persona, door):
    response = LIST_DOORS[door](client_for(_user(request, persona)), "Able")
    assert response.status_code == 403
    assert "Anna Able" not in _body(response)


def test_it_shows_only_the_pupils_at_my_schools_in_a_shared_family(world, client_for, pastoral_a, pastoral_b):
    for user, shown, hidden in ((pastoral_a, "Cleo", "Caspar"), (pastoral_b, "Caspar", "Cleo")):
        client = client_for(user)
        family = world["family_ab"]
        for body in (
            client.get(f"/families/{family.pk}/").content.decode(),
            client.get("/families/", {"q": "Cross"}).content.decode(),
            _body(client.get("/families/export.csv")),
            client.get(f"/api/v1/families/{family.pk}/").content.decode(),
            client.get("/api/v1/pupils/").content.decode(),
        ):
            assert shown in body
            assert hidden not in body


def test_it_does_not_reveal_out_of_scope_pupils_through_search(world, client_for, pastoral_a):
    # Caspar Cross is at school B: searching his name must not find family_ab through him...
    client = client_for(pastoral_a)
    assert "Cara Cross" not in client.get("/families/", {"q": "Caspar"}).content.decode()
    assert "Cara Cross" not in client.get("/api/v1/families/", {"q": "Caspar"}).content.decode()
    # ...while Cleo, at school A, finds it.
    assert "Cara Cross" in client.get("/families/", {"q": "Cleo"}).content.decode()


# --- Pupils through the API ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "expected_names"),
    [
        ("pastoral_a", {"Alfie", "Cleo"}),
        ("lead_a", {"Alfie", "Cleo"}),
        ("pastoral_b", {"Bobby", "Caspar"}),
        ("admin", {"Alfie", "Bobby", "Cleo", "Caspar"}),
    ],
)
def test_it_scopes_the_pupil_api(request, world, client_for, persona, expected_names):
    client = client_for(_user(request, persona))
    results = client.get("/api/v1/pupils/").json()["results"]
    assert {row["legal_forename"] for row in results} == expected_names
    from support.models import Pupil

    for pupil in Pupil.objects.all():
        status = client.get(f"/api/v1/pupils/{pupil.pk}/").status_code
        assert status == (200 if pupil.legal_forename in expected_names else 404)


@pytest.mark.parametrize("persona", ["finance", "charity_staff", "no_role"])
def test_it_refuses_the_pupil_api_to_roles_without_pupils(request, world, client_for, persona):
    assert client_for(_user(request, persona)).get("/api/v1/pupils/").status_code == 403


# --- Admin: trust admins only, and their lists come from the same selectors -------------------


@pytest.mark.parametrize("persona", ["pastoral_a", "lead_a", "finance", "charity_staff", "no_role"])
def test_it_keeps_everyone_but_trust_admins_out_of_the_admin(request, world, client_for, persona):
    client = client_for(_user(request, persona))
    for url in ("/admin/", "/admin/support/family/", f"/admin/support/family/{world['family_a'].pk}/change/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "Anna Able" not in response.content.decode()


def test_it_lets_trust_admins_search_families_in_the_admin(world, client_for, admin):
    body = client_for(admin).get("/admin/support/family/", {"q": "Brook"}).content.decode()
    assert "Bella Brook" in body
    assert "Anna Able" not in body


# --- Schools and partners ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("pastoral_a", {"Alpha Primary Academy"}),
        ("pastoral_b", {"Beta Secondary Academy"}),
        ("finance", {"Alpha Primary Academy", "Beta Secondary Academy"}),
        ("admin", {"Alpha Primary Academy", "Beta Secondary Academy"}),
    ],
)
def test_it_scopes_schools(request, world, client_for, persona, expected):
    results = client_for(_user(request, persona)).get("/api/v1/schools/").json()["results"]
    assert {row["name"] for row in results} == expected


def test_it_shows_charity_staff_only_their_own_partner(
    client_for, charity_staff, other_charity_staff, partner_1, partner_2
):
    results = client_for(charity_staff).get("/api/v1/partners/").json()["results"]
    assert [row["name"] for row in results] == ["First Food Bank"]
    assert client_for(charity_staff).get(f"/api/v1/partners/{partner_2.pk}/").status_code == 404
