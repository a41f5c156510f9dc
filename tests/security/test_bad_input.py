"""Bad input is refused, never a 500 (issue 13, item 6). Generated from the code, so a route, filter,
form or serializer field added later is covered without anyone remembering to add it:

- every URL pattern, with a huge id (or a long string) in each of its parameters, GET and POST;
- every API filter set's filters, and every web page's GET form fields, with huge numbers and far dates;
- every write endpoint of the API, with deeply nested JSON and huge numbers;
- every serializer's writable fields: dates in support.bounds' window, numbers and text bounded;
- every form of the site bounds its ids, numbers and dates (support.bounds.BoundedFormMixin).
"""

import datetime
import html.parser
import json
import uuid

import pytest
from django import forms
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework import serializers
from rest_framework.test import APIRequestFactory, force_authenticate

from support.api.filters import BoundedFilterBackend
from support.bounds import DATE_MAX, ID_MAX, BoundedFormMixin, date_in_window
from tests.factories import FamilyFactory, PartnerFactory, PupilFactory, SchoolFactory, consent_to

HUGE = "99999999999999999999999"
BAD_VALUES = (HUGE, f"-{HUGE}", "9999-12-31", "0001-01-01", "10000-01-01", "1e400", "NaN")
PROJECT_APPS = ("support", "vouchers", "uniform", "config")


def _patterns(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    """(route text, reversible name, {parameter: converter class name}) for every named URL pattern."""
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _patterns(pattern, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            converters = dict(getattr(pattern.pattern, "converters", {}))
            regex = pattern.pattern.regex
            params = {
                name: type(converters[name]).__name__ if name in converters else "regex"
                for name in regex.groupindex
            }
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield prefix + str(pattern.pattern), name, params, pattern


def _huge_urls() -> list[str]:
    urls = set()
    for _route, name, params, _pattern in _patterns(get_resolver()):
        if not params:
            continue
        kwargs = {}
        for param, converter in params.items():
            if param == "format":
                kwargs[param] = "json"
            elif converter == "UUIDConverter":
                kwargs[param] = str(uuid.uuid4())
            else:
                kwargs[param] = HUGE
        try:
            urls.add(reverse(name, kwargs=kwargs))
        except Exception:
            kwargs = {k: ("x" * 400 if v == HUGE else v) for k, v in kwargs.items()}
            try:
                urls.add(reverse(name, kwargs=kwargs))
            except Exception:
                continue
    return sorted(urls)


@pytest.fixture
def world(db, admin, finance, school_a, partner_1):
    family = FamilyFactory()
    PupilFactory(family=family, school=school_a)
    consent_to(family, admin, given_on=datetime.date(2024, 1, 1))
    PartnerFactory()
    SchoolFactory()
    return family


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _no_5xx(failures: list[str], method: str, url: str, response) -> None:
    if response.status_code >= 500:
        failures.append(f"{method} {url} -> {response.status_code}")


def test_it_covers_the_routes_it_says_it_covers():
    urls = _huge_urls()
    assert any(url.startswith("/api/v1/families/") for url in urls)
    assert any(url.startswith("/families/") for url in urls)
    assert len(urls) > 50


def test_it_answers_no_5xx_to_a_huge_id_in_any_path(world, admin):
    client, failures = _client(admin), []
    for url in _huge_urls():
        _no_5xx(failures, "GET", url, client.get(url))
        _no_5xx(failures, "POST", url, client.post(url, {}))
    assert not failures, failures


# --- API filter sets ------------------------------------------------------------------------------


def _list_routes():
    """(url, view class) for every API list route with a filter set."""
    factory, backend = APIRequestFactory(), BoundedFilterBackend()
    for _route, name, params, pattern in _patterns(get_resolver()):
        view_class = getattr(pattern.callback, "cls", None)
        actions = getattr(pattern.callback, "actions", None) or {}
        if view_class is None or params or actions.get("get") != "list":
            continue
        yield reverse(name), view_class, factory, backend


def _filter_names(admin) -> dict[str, list[str]]:
    names = {}
    for url, view_class, factory, backend in _list_routes():
        request = factory.get(url)
        force_authenticate(request, user=admin)
        view = view_class(action="list", action_map={"get": "list"}, format_kwarg=None, kwargs={}, args=())
        view.request = view.initialize_request(request)
        view.request.user = admin
        filterset_class = backend.get_filterset_class(view, view.get_queryset())
        if filterset_class is not None:
            names[url] = list(filterset_class.base_filters)
    return names


def test_it_finds_the_filter_sets(world, admin):
    names = _filter_names(admin)
    assert "fund" in names["/api/v1/ledger-entries/"]
    assert "school" in names["/api/v1/families/"]


@pytest.mark.parametrize("role", ["admin", "finance"])
def test_it_answers_no_5xx_to_huge_numbers_and_far_dates_in_any_filter(world, admin, finance, role):
    user = {"admin": admin, "finance": finance}[role]
    client, failures = _client(user), []
    for url, filters in _filter_names(admin).items():
        for name in filters:
            for value in BAD_VALUES:
                _no_5xx(failures, "GET", f"{url}?{name}={value}", client.get(url, {name: value}))
    assert not failures, failures


def test_it_refuses_the_reported_filters_with_a_message(world, admin, finance):
    for user, url in [
        (admin, f"/api/v1/families/?school={HUGE}"),
        (finance, f"/api/v1/ledger-entries/?fund={HUGE}"),
        (finance, "/api/v1/ledger-entries/?date_to=9999-12-31"),
        (admin, f"/api/v1/vouchers/?family={HUGE}"),
    ]:
        response = _client(user).get(url)
        assert response.status_code == 400, url
        name = url.split("?")[1].split("=")[0]
        assert response.json()[name], url


# --- web pages' GET forms -------------------------------------------------------------------------


class _GetFormFields(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self._in_get_form = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._in_get_form = (attrs.get("method") or "get").lower() == "get"
        elif tag in ("input", "select") and self._in_get_form and attrs.get("name"):
            self.names.add(attrs["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_get_form = False


def test_it_answers_no_5xx_to_huge_numbers_and_far_dates_in_any_web_page_filter(world, admin, finance):
    failures, checked = [], 0
    for _route, name, params, pattern in _patterns(get_resolver()):
        if params or getattr(pattern.callback, "cls", None) or name.startswith("admin:"):
            continue
        url = reverse(name)
        if url.startswith("/api/") or url.startswith("/accounts/logout"):
            continue
        for user in (admin, finance):
            client = _client(user)
            page = client.get(url)
            if page.status_code != 200 or "html" not in page.get("Content-Type", ""):
                continue
            parser = _GetFormFields()
            parser.feed(page.content.decode())
            names = parser.names | {"family", "page"}
            for field in names:
                for value in BAD_VALUES:
                    checked += 1
                    _no_5xx(failures, "GET", f"{url}?{field}={value}", client.get(url, {field: value}))
    assert checked > 100
    assert not failures, failures


def test_it_refuses_a_huge_family_or_a_far_date_in_the_voucher_list_with_a_message(world, admin):
    response = _client(admin).get(f"/vouchers/?family={HUGE}")
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    far = _client(admin).get("/vouchers/?issued_to=9999-12-31")
    assert far.status_code == 400
    assert "Enter a date between 1900 and 2199" in far.content.decode()


def test_every_form_of_the_site_bounds_its_ids_numbers_and_dates():
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = {c for c in subclasses(forms.BaseForm) if c.__module__.split(".")[0] in PROJECT_APPS}
    assert len(ours) > 10
    unbounded = sorted(c.__qualname__ for c in ours if not issubclass(c, BoundedFormMixin))
    assert not unbounded, f"forms without BoundedFormMixin (or GovukErrorsMixin): {unbounded}"


# --- the API's bodies -----------------------------------------------------------------------------


def _write_urls() -> list[tuple[str, str]]:
    found = set()
    for _route, name, params, pattern in _patterns(get_resolver()):
        view_class = getattr(pattern.callback, "cls", None)
        if view_class is None or "format" in params:
            continue
        actions = getattr(pattern.callback, "actions", None)
        methods = set(actions) if actions else {m for m in ("post", "put", "patch") if hasattr(view_class, m)}
        kwargs = dict.fromkeys(params, "1")
        try:
            url = reverse(name, kwargs=kwargs)
        except Exception:
            continue
        found |= {(method, url) for method in methods & {"post", "put", "patch"}}
    return sorted(found)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "nests more than"),
        ('{"a": ' * 40 + "1" + "}" * 40, "nests more than"),
        ('{"adults": ' + HUGE + ', "value_pence": ' + HUGE + ', "amount_pence": ' + HUGE + "}", "too large"),
        ('{"amount_pence": NaN}', "not a number"),
    ],
    ids=["deep-list", "deep-object", "huge-number", "nan"],
)
def test_it_answers_every_api_write_with_json_400_to_a_hostile_body(world, admin, body, message):
    client, failures = _client(admin), []
    urls = _write_urls()
    assert len(urls) > 10
    for method, url in urls:
        response = getattr(client, method)(url, body, content_type="application/json")
        if response.status_code in (403, 404, 405, 429):
            continue  # refused before the body is read (a rule of its own, tested elsewhere)
        if response.status_code != 400 or message not in response.json().get("detail", ""):
            failures.append(f"{method.upper()} {url} -> {response.status_code} {response.content[:120]!r}")
    assert not failures, failures


def test_it_refuses_a_body_over_the_limit(world, admin, settings):
    body = json.dumps({"address": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)})
    response = _client(admin).patch(f"/api/v1/families/{world.pk}/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_it_refuses_a_request_bigger_than_any_upload(world, admin, settings):
    client = _client(admin)
    body = b"x" * (settings.MAX_REQUEST_BYTES + 1)
    response = client.generic("POST", "/api/v1/vouchers/", body, content_type="application/octet-stream")
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert response.json()["request_id"] == response.headers["X-Request-ID"]


def _request_serializers() -> dict[str, serializers.Serializer]:
    """Every serializer the API reads a body with, by its OpenAPI component name (from the schema)."""
    from drf_spectacular.generators import SchemaGenerator

    generator = SchemaGenerator()
    schema = generator.get_schema(request=None, public=True)
    components = schema["components"]["schemas"]

    def refs(node) -> set[str]:
        if isinstance(node, dict):
            found = {node["$ref"].rsplit("/", 1)[1]} if "$ref" in node else set()
            return found.union(*(refs(v) for v in node.values()))
        if isinstance(node, list):
            return set().union(*(refs(v) for v in node))
        return set()

    todo = set()
    for operations in schema["paths"].values():
        for operation in operations.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                todo |= refs(operation["requestBody"])
    names = set()
    while todo:
        name = todo.pop()
        if name not in names:
            names.add(name)
            todo |= refs(components.get(name, {}))
    found = {}
    for component in generator.registry._components.values():
        if component.name in names and isinstance(component.object, serializers.BaseSerializer):
            found[component.name] = component.object
    return found


def test_every_writable_field_the_api_reads_is_bounded(world):
    problems, walked = [], 0
    request_serializers = _request_serializers()
    assert {"Family", "VoucherIssue", "DonationCreate"} & set(request_serializers)
    for component, serializer in request_serializers.items():
        serializer = getattr(serializer, "child", serializer)
        for name, field in serializer.fields.items():
            if field.read_only:
                continue
            walked += 1
            where = f"{type(serializer).__module__}.{type(serializer).__qualname__}.{name} ({component})"
            if isinstance(field, serializers.DateField | serializers.DateTimeField):
                if date_in_window not in field.validators:
                    problems.append(f"{where}: a date without support.bounds' window (use BoundedDateField)")
            elif isinstance(field, serializers.IntegerField):
                if field.max_value is None or field.max_value > ID_MAX:
                    problems.append(f"{where}: a number without max_value")
            elif (
                isinstance(field, serializers.CharField)
                and not isinstance(field, serializers.ChoiceField)
                and field.max_length is None
            ):
                problems.append(f"{where}: text without max_length")
    assert walked > 20
    assert not problems, "\n".join(sorted(problems))


# --- the reported cases, by hand ------------------------------------------------------------------


def test_it_refuses_a_household_of_thirty_thousand_and_a_megabyte_address(world, admin):
    client, url = _client(admin), f"/api/v1/families/{world.pk}/"
    big = client.patch(url, {"adults": 32767, "children": 32767}, content_type="application/json")
    assert big.status_code == 400
    assert set(big.json()) >= {"adults", "children"}
    long = client.patch(url, {"address": "x" * 600}, content_type="application/json")
    assert long.status_code == 400
    assert "address" in long.json()
    world.refresh_from_db()
    assert (world.adults, world.children, world.address) != (32767, 32767, "x" * 600)


def test_it_checks_a_family_phone_through_the_same_service_as_the_web_form(world, admin):
    from support.errors import SupportError
    from support.services import family_update

    with pytest.raises(SupportError) as refused:
        family_update(family=world, actor=admin, phone="not a phone")
    assert refused.value.field == "phone"
    response = _client(admin).patch(
        f"/api/v1/families/{world.pk}/", {"phone": "12345"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "UK phone number" in response.json()["detail"]
    ok = _client(admin).patch(
        f"/api/v1/families/{world.pk}/", {"phone": "07911 123456"}, content_type="application/json"
    )
    assert ok.status_code == 200
    assert ok.json()["phone"] == "+447911123456"


def test_it_refuses_a_pledge_due_in_9999(world, finance):
    from funds.services.ledger import standby_fund
    from funds.services.pledges import pledge_create
    from support.errors import SupportError

    with pytest.raises(SupportError) as refused:
        pledge_create(
            fund=standby_fund(),
            donor="Rotary",
            amount_pence=10_00,
            frequency="monthly",
            next_due=datetime.date(9999, 1, 1),
            gift_aid=False,
            actor=finance,
        )
    assert refused.value.field == "next_due"
    assert DATE_MAX.year < 9999


def test_it_refuses_an_idempotency_key_on_a_path_too_long_to_store(world, admin, charity_staff):
    client = _client(charity_staff)
    response = client.post(
        f"/api/v1/redeem/{'A' * 400}/redeem/",
        {},
        content_type="application/json",
        headers={"Idempotency-Key": "k-1"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_invalid"


def test_it_prints_a_huge_voucher_id_as_not_found(world, admin):
    response = _client(admin).post("/vouchers/print/", {"voucher": HUGE})
    assert response.status_code == 404
