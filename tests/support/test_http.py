import pytest
from django.test import RequestFactory

from support.http import client_ip, client_limit_address, limit_address, sign_in_address


@pytest.mark.parametrize(
    ("address", "counted"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2::1", "2001:db8:1:2::"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::"),
        ("2001:DB8:1:3::1", "2001:db8:1:3::"),
        ("::ffff:203.0.113.7", "203.0.113.7"),  # IPv4 mapped into IPv6: the IPv4 address
        ("", ""),
        ("not an address", "not an address"),
    ],
)
def test_it_counts_an_ipv6_address_by_its_64(address, counted):
    assert limit_address(address) == counted


def test_it_reads_the_caller_through_the_trusted_proxies_only(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="2001:db8:9:9::5")
    settings.NUM_PROXIES = 0  # no proxy: a forged header is ignored
    assert client_limit_address(request) == "10.0.0.1"
    settings.NUM_PROXIES = 1
    assert client_limit_address(request) == "2001:db8:9:9::"


def test_the_apis_throttle_counts_a_caller_not_signed_in_by_its_address(settings):
    from django.contrib.auth.models import AnonymousUser
    from rest_framework.request import Request

    from support.api.throttles import RateThrottle

    settings.NUM_PROXIES = 0
    seen = []
    throttle = RateThrottle()
    throttle._window = lambda scope, ident: seen.append(ident)  # type: ignore[method-assign]
    forged = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2::7", HTTP_X_FORWARDED_FOR="1.2.3.4")
    request = Request(forged)
    request.user = AnonymousUser()
    throttle.allow_request(request, view=object())
    assert seen == ["ip:2001:db8:1:2::"]


@pytest.mark.parametrize(
    ("forwarded", "read"),
    [
        ("203.0.113.5:4711", "203.0.113.5"),
        ("[2001:db8::5]:443", "2001:db8::5"),
        (" 2001:db8::7 ", "2001:db8::7"),
        ("unknown", "10.0.0.1"),  # not an address: the connection's own
        ("1.2.3.4, 203.0.113.9", "203.0.113.9"),  # the client cannot forge what the proxy appended
    ],
)
def test_it_reads_an_address_a_proxy_wrote_with_a_port_or_falls_back(settings, forwarded, read):
    settings.NUM_PROXIES = 1
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == read


def test_sign_in_counts_an_ipv6_line_by_its_56(settings):
    settings.NUM_PROXIES = 0
    assert sign_in_address(RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2ff::9")) == "2001:db8:1:200::"
    assert sign_in_address(RequestFactory().get("/", REMOTE_ADDR="203.0.113.7")) == "203.0.113.7"
    assert sign_in_address(RequestFactory().get("/", REMOTE_ADDR="")) is None
