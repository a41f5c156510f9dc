import pytest
from django.conf import settings

from tests.conftest import PASSWORD


def test_it_serves_the_sign_in_page(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<label class="govuk-label" for="id_username">Username</label>' in body
    assert 'autocomplete="current-password"' in body


@pytest.mark.parametrize(
    ("persona", "expected_text"),
    [
        ("pastoral_a", "Find a family"),
        ("lead_a", "Possible duplicate families"),
        ("finance", "The trust's schools"),
        ("charity_staff", "Your charity"),
        ("admin", "Recent activity"),
        ("no_role", "Your account has no role yet"),
    ],
)
def test_it_signs_each_role_in_to_its_home_page(request, client, persona, expected_text):
    user = request.getfixturevalue(persona)
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert expected_text in response.content.decode()


def test_it_hides_other_roles_work_from_the_home_page(client_for, finance, charity_staff):
    assert "Find a family" not in client_for(finance).get("/").content.decode()
    charity_home = client_for(charity_staff).get("/").content.decode()
    assert "Find a family" not in charity_home
    assert "The trust's schools" not in charity_home


def test_it_shows_navigation_for_the_role(client_for, pastoral_a, lead_a, admin):
    pastoral = client_for(pastoral_a).get("/").content.decode()
    assert ">Families</a>" in pastoral
    assert "Pupil import" not in pastoral
    assert "Pupil import" in client_for(lead_a).get("/").content.decode()
    assert ">Admin</a>" in client_for(admin).get("/").content.decode()


def test_it_refuses_a_wrong_password_with_a_clear_message(client, pastoral_a):
    response = client.post("/accounts/login/", {"username": "pastoral_a", "password": "wrong"})
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_locks_sign_in_after_repeated_wrong_passwords(client, pastoral_a):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "pastoral_a", "password": "guess"})
    # Now even the right password is refused for a while.
    response = client.post("/accounts/login/", {"username": "pastoral_a", "password": PASSWORD})
    assert response.status_code == 429
    assert "Sign-in is paused" in response.content.decode()
    assert f"Wait {settings.AXES_COOLOFF_TIME.seconds // 60} minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_does_not_lock_out_a_user_for_another_users_failures(client, pastoral_a, pastoral_b):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "pastoral_b", "password": "guess"})
    response = client.post("/accounts/login/", {"username": "pastoral_a", "password": PASSWORD})
    assert response.status_code == 302


def test_it_signs_out_with_a_post(client_for, pastoral_a):
    client = client_for(pastoral_a)
    assert client.get("/").status_code == 200
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_it_expires_idle_sessions(client, pastoral_a):
    client.post("/accounts/login/", {"username": "pastoral_a", "password": PASSWORD})
    assert settings.SESSION_SAVE_EVERY_REQUEST
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert 0 < client.session.get_expiry_age() <= 60 * 60
    client.session.set_expiry(-1)  # as if the idle time had run out
    session = client.session
    session.set_expiry(-1)
    session.save()
    assert client.get("/").status_code == 302


def test_it_sends_security_headers(client):
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_it_has_no_inline_scripts_or_styles_in_pages(client_for, admin, family_a):
    client = client_for(admin)
    for url in (
        "/",
        "/families/",
        f"/families/{family_a.pk}/",
        "/imports/",
        "/duplicates/",
        "/accounts/login/",
    ):
        body = client.get(url).content.decode()
        assert "<script>" not in body, url
        assert '<script type="text/javascript">' not in body, url
        assert " style=" not in body, url
        assert "onclick=" not in body, url


def test_it_answers_unknown_pages_with_404(client_for, pastoral_a):
    response = client_for(pastoral_a).get("/no-such-page/")
    assert response.status_code == 404


def test_an_ipv6_caller_cannot_slip_the_sign_in_lockout_by_changing_address(pastoral_a):
    from django.test import Client

    # A home line holds a /56 (256 /64s): counted per address or per /64, it could try
    # AXES_FAILURE_LIMIT passwords from each of its addresses.
    for n in range(settings.AXES_FAILURE_LIMIT):
        Client(REMOTE_ADDR=f"2001:db8:5:6{n:02x}::{n + 1:x}").post(
            "/accounts/login/", {"username": "pastoral_a", "password": "guess"}
        )
    response = Client(REMOTE_ADDR="2001:db8:5:6ff::1").post(
        "/accounts/login/", {"username": "pastoral_a", "password": PASSWORD}
    )
    assert response.status_code == 429
    # The user is not locked out from another line.
    response = Client(REMOTE_ADDR="2001:db8:5:700::1").post(
        "/accounts/login/", {"username": "pastoral_a", "password": PASSWORD}
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    "forwarded",
    [
        "203.0.113.5:4711",  # some proxies add the port
        "[2001:db8:1:2::5]:443",
        "unknown",  # what a proxy writes when it does not know
    ],
)
def test_it_signs_in_behind_a_proxy_that_writes_a_port_or_no_address(settings, pastoral_a, forwarded):
    from django.test import Client

    # django-axes keeps the address in an inet column on PostgreSQL: anything else would be a 500.
    settings.NUM_PROXIES = 1

    def post(password: str) -> int:
        client = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded, raise_request_exception=False)
        return client.post("/accounts/login/", {"username": "pastoral_a", "password": password}).status_code

    assert post("guess") == 200  # the form again
    assert post(PASSWORD) == 302
