"""The counter's limits through the API (issue 16): the throttles and the lookup lockout cost one Redis
round trip per check, no more than the limit passes when requests race, and they keep counting (in
the database) while Redis is unreachable."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from support.api.throttles import RateThrottle
from tests.concurrency import storm
from vouchers.codes import generate_code

pytestmark = pytest.mark.django_db

RATES = {"user": "100000/hour", "voucher_lookup": "120/minute"}


@pytest.fixture
def rates(monkeypatch):
    def use(rates: dict[str, str]) -> None:
        monkeypatch.setattr(RateThrottle, "THROTTLE_RATES", rates)

    return use


def _token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.mark.redis
def test_a_check_makes_one_redis_round_trip_after_the_first(voucher, charity_staff, count_redis_round_trips):
    """Two throttles (the user's rate and the lookup rate) and the two lockout flags (user, address):
    one pipeline. The first request also opens the connection (its handshake is not counted here)."""
    client = _token_client(charity_staff)
    assert client.get(f"/api/v1/redeem/{voucher.code}/").status_code == 200
    for _ in range(3):
        with count_redis_round_trips() as trips:
            response = client.get(f"/api/v1/redeem/{voucher.code}/")
        assert response.status_code == 200
        assert trips == [1]


@pytest.mark.redis
def test_a_redeem_makes_one_redis_round_trip(voucher, charity_staff, count_redis_round_trips):
    client = _token_client(charity_staff)
    client.get(f"/api/v1/redeem/{voucher.code}/")
    with count_redis_round_trips() as trips:
        response = client.post(f"/api/v1/redeem/{voucher.code}/redeem/", {}, format="json")
    assert response.status_code == 201
    assert trips == [1]


def test_it_answers_retry_after_with_the_time_left_in_the_window(voucher, charity_staff, rates):
    rates({"user": "1000/hour", "voucher_lookup": "2/minute"})
    client = _token_client(charity_staff)
    statuses = [client.get(f"/api/v1/redeem/{voucher.code}/").status_code for _ in range(2)]
    refused = client.get(f"/api/v1/redeem/{voucher.code}/")
    assert statuses == [200, 200]
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60


def test_the_user_rate_applies_to_every_api_call(pastoral_a, rates):
    rates({"user": "3/hour"})
    client = _token_client(pastoral_a)
    statuses = [client.get("/api/v1/families/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_no_more_than_the_limit_passes_when_200_requests_race(voucher, charity_staff, rates):
    """The issue's attack: 200 concurrent lookups against 120 a minute (126 passed with DRF's own
    throttles). 20 threads, each its own database connection, 10 requests each, all released together."""
    rates(RATES)
    token = Token.objects.create(user=charity_staff).key

    def ten(i: int) -> list[int]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return [client.get(f"/api/v1/redeem/{voucher.code}/").status_code for _ in range(10)]

    statuses = [status for batch in storm(20, ten) for status in batch]
    assert len(statuses) == 200
    assert statuses.count(200) == 120
    assert statuses.count(429) == 80


# --- Redis unreachable: the limits still hold, counted in the database -----------------------------


def test_the_throttle_still_limits_while_redis_is_unreachable(voucher, charity_staff, rates, redis_down):
    rates({"user": "1000/hour", "voucher_lookup": "3/minute"})
    client = _token_client(charity_staff)
    statuses = [client.get(f"/api/v1/redeem/{voucher.code}/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_the_lookup_lockout_still_holds_while_redis_is_unreachable(charity_staff, redis_down, settings):
    settings.VOUCHER_LOOKUP_USER_MISSES = 3
    client = _token_client(charity_staff)
    statuses = [client.get(f"/api/v1/redeem/{generate_code()}/").status_code for _ in range(5)]
    assert statuses == [404, 404, 404, 429, 429]


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_limits_are_shared_by_two_web_nodes(voucher, charity_staff, tmp_path):
    """Two gunicorn instances (two nodes, two worker processes each) on one PostgreSQL and one Redis,
    200 lookups spread over both by 20 clients at once: exactly the limit of 120 passes, as with one."""
    import urllib.error
    import urllib.request

    from tests.servers import free_port, gunicorn

    token = Token.objects.create(user=charity_staff).key
    ports = [free_port(), free_port()]
    env = {"API_USER_RATE": "100000/hour", "API_VOUCHER_LOOKUP_RATE": "120/minute"}

    def ten(i: int) -> list[int]:
        statuses = []
        for n in range(10):
            port = ports[(i + n) % 2]
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/redeem/{voucher.code}/",
                headers={"Authorization": f"Token {token}"},
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    statuses.append(answer.status)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
        return statuses

    with (
        gunicorn(port=ports[0], log=tmp_path / "a.log", env=env, workers=2),
        gunicorn(port=ports[1], log=tmp_path / "b.log", env=env, workers=2),
    ):
        statuses = [status for batch in storm(20, ten) for status in batch]
    assert len(statuses) == 200
    assert statuses.count(200) == 120, statuses
    assert statuses.count(429) == 80


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_lookup_lockout_is_shared_by_two_web_nodes(charity_staff, tmp_path):
    """Wrong codes sent to two nodes in turn: the 20 misses are counted together, and once locked,
    both nodes refuse."""
    import urllib.error
    import urllib.request

    from tests.servers import free_port, gunicorn

    token = Token.objects.create(user=charity_staff).key
    ports = [free_port(), free_port()]

    def lookup(port: int) -> int:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/redeem/{generate_code()}/",
            headers={"Authorization": f"Token {token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code

    with (
        gunicorn(port=ports[0], log=tmp_path / "a.log", env={}),
        gunicorn(port=ports[1], log=tmp_path / "b.log", env={}),
    ):
        statuses = [lookup(ports[n % 2]) for n in range(24)]
    assert statuses == [404] * 20 + [429] * 4
