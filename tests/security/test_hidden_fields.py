"""Hidden fields beside the doors, found by the second attack on issue 13.

The API's filters were closed, but ``/vouchers/?family=<id>`` as finance still narrowed the list (and
its CSV export) to one household's vouchers: finance could group vouchers by family, a field the table
hides from them. Every page filter form is found from the code; each either reads the table
(``support.forms.VisibleFilterForm``) or is on a page only one kind of role reaches, said below.
Then every page finance and a charity can open is asked with each hidden field as a query parameter,
a real value against a made-up one, and must answer the same. And no list, in the API or on the
class page, is sorted by default by a field the caller cannot see (gifts were in pupils' surname order).
"""

import re
from urllib.parse import quote, quote_plus

import pytest
from django import forms
from django.test import RequestFactory
from django.urls import get_resolver

from support.filters import FamilyFilterSet, page_filterset
from support.forms import VisibleFilterForm
from support.models import Role
from support.visibility import can_see, lookup_path, order_visible
from tests.security.test_access_matrix import body_text, client_as
from tests.security.test_visibility import (
    _list_url,
    _Someone,
    _subclasses,
    _view,
    _walk,
    api_views,
    list_views,
)
from uniform.models import Gift
from vouchers.filters import VoucherFilterSet

pytestmark = pytest.mark.django_db

# Filter forms on pages that only roles seeing every field they filter by can open (reviewed).
ONE_ROLE_FILTER_FORMS: dict[str, str] = {}

# The forms of filter sets shared by a page and the API: the table narrows the filter set before its form
# is built (support.filters.page_filterset, as the API's VisibleFilterBackend does), tested below.
FILTER_SET_FORMS = {"FamilyFilterForm": FamilyFilterSet, "VoucherFilterForm": VoucherFilterSet}


def project_filter_forms() -> list[type[forms.Form]]:
    api_views()  # importing the URL conf imports every page module
    return sorted(
        (
            c
            for c in _subclasses(forms.Form) - {VisibleFilterForm}
            if c.__module__.split(".")[0] in {"support", "funds", "vouchers", "uniform"}
            and c.__name__.endswith("FilterForm")
        ),
        key=lambda c: c.__name__,
    )


def test_it_finds_the_filter_forms():
    names = {c.__name__ for c in project_filter_forms()}
    assert {"VoucherFilterForm"} <= names


def test_a_page_filter_set_drops_what_the_role_cannot_see(rf):
    """A page that filters with a ``ScopedFilterSet`` (the requests list) reads the table as its API does."""
    from uniform.filters import SupportRequestFilter

    for role, sees_pupil in ((Role.FINANCE, False), (Role.PASTORAL, True)):
        request = rf.get("/requests/", {"pupil": "1"})
        request.user = _Someone(role)
        assert ("pupil" in SupportRequestFilter(request.GET, request=request).filters) is sees_pupil


@pytest.mark.parametrize("form_class", project_filter_forms(), ids=lambda c: c.__name__)
def test_every_page_filter_form_reads_the_table(form_class):
    if form_class.__name__ in ONE_ROLE_FILTER_FORMS:
        return
    if form_class.__name__ in FILTER_SET_FORMS:
        assert FILTER_SET_FORMS[form_class.__name__]._meta.form is form_class
        return
    assert issubclass(form_class, VisibleFilterForm), (
        f"{form_class.__name__} filters a page without the visibility table: make it a VisibleFilterForm "
        "(or, if only roles that see every field reach its page, add it to ONE_ROLE_FILTER_FORMS)"
    )
    assert form_class.visibility_model is not None, form_class.__name__


def _narrowed_filters(filterset_class, role) -> set[str]:
    request = RequestFactory().get("/")
    request.user = _Someone(role)
    return set(
        page_filterset(filterset_class, request, queryset=filterset_class._meta.model.objects.none()).filters
    )


def test_finance_filters_vouchers_by_nothing_it_cannot_see():
    assert "family" not in _narrowed_filters(VoucherFilterSet, Role.FINANCE)
    assert "family" in _narrowed_filters(VoucherFilterSet, Role.PASTORAL)
    # Finance searches vouchers by code (the name is judged again inside: vouchers.selectors.voucher_search).
    assert "q" in _narrowed_filters(VoucherFilterSet, Role.FINANCE)
    assert not {"q", "school", "postcode"} & _narrowed_filters(FamilyFilterSet, Role.FINANCE)


# --- Every page, with each hidden field in the query string ---------------------------------------

_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
_CLOCK = re.compile(r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?")  # "produced at 10:45:03" in an export


def _pages() -> list[str]:
    """Every page that takes no argument in its path (lists, exports, dashboards), not the API."""
    found = []
    for route, pattern in _walk(get_resolver()):
        if "<" in route or "(?P" in route or route.startswith(("api/", "admin/", "accounts/")):
            continue
        if getattr(pattern.callback, "cls", None) is not None:
            continue
        found.append("/" + route.replace("^", "").replace("$", ""))
    return sorted(set(found))


def _hidden_params(world) -> list[tuple[str, str, str]]:
    """(parameter, a real value from school B's objects, a made-up value): names and case details
    neither finance nor a charity may filter by, as a page might call them."""
    side = world.b
    real = {
        "family": str(side.family.pk),
        "pupil": str(side.pupil.pk),
        "lead_carer_name": side.family.lead_carer_name,
        "surname": side.pupil.surname,
        "q": side.pupil.surname,
        "search": side.pupil.surname,
        "postcode": side.family.postcode,
        "referral_reason": side.voucher.referral_reason,
        "reason": side.request.reason,
    }
    return [(name, value, "987654321" if value.isdigit() else "Zzyzxquorble") for name, value in real.items()]


def _echoed_input(name: str, value: str) -> re.Pattern[str]:
    """The ``value`` attribute holding ``value`` of an input named ``name`` (in either order)."""
    return re.compile(rf'(<input\b(?=[^>]*\bname="{re.escape(name)}")[^>]*\bvalue="){re.escape(value)}(")')


@pytest.mark.parametrize("role", ["finance", "charity_1"])
def test_no_page_answers_differently_to_a_field_the_role_cannot_see(world, client, role):
    client = client_as(world, client, role)
    problems, tried = [], 0
    for page in _pages():
        if client.get(page).status_code != 200:
            continue
        for name, real, made_up in _hidden_params(world):
            texts = []
            # Made-up, real, made-up: a page that changes between the two made-up answers (a PDF's
            # timestamp, a statement a worker finishes meanwhile) has nothing to compare.
            for value in (made_up, real, made_up):
                response = client.get(page, {name: value})
                text = _CLOCK.sub("", _TOKEN.sub("", body_text(response)))
                for echoed in {value, quote_plus(value), quote(value)}:
                    # A page may echo its query string in links and in its own input of that name; only
                    # those are masked (an id elsewhere on the page, say an option's, may equal it).
                    text = text.replace(f"{name}={echoed}", f"{name}=VALUE")
                    text = _echoed_input(name, echoed).sub(r"\g<1>VALUE\g<2>", text)
                texts.append((response.status_code, text))
            if texts[0] != texts[2]:
                continue  # the page differs each time: nothing to compare
            tried += 1
            if texts[1] != texts[0]:
                problems.append(f"{role}: {page}?{name}=<real> answers differently from a made-up {name}")
    assert tried, "no page was tried"
    assert not problems, "\n".join(problems)


# --- The order of a list --------------------------------------------------------------------------


def _ordering_terms(queryset) -> list[str]:
    query = queryset.query
    terms = list(query.order_by) or (list(queryset.model._meta.ordering) if query.default_ordering else [])
    return [term for term in terms if isinstance(term, str)]


@pytest.mark.parametrize("role", ["finance", "charity_1", "pastoral_a"])
def test_no_list_is_sorted_by_a_field_the_caller_cannot_see(world, role):
    """A list's default order (the view's, the queryset's or the model's) is an ordering too: gifts in
    pupils' surname order told finance each pupil's place in the alphabet."""
    user = world.users[role]
    problems = []
    for cls in list_views():
        view = _view(cls, user)
        queryset = view.filter_queryset(view.get_queryset())
        for term in _ordering_terms(queryset):
            path = lookup_path(term)
            if path not in ("pk", "?") and not can_see(user, queryset.model, path):
                problems.append(f"{cls.__name__} sorts {role}'s list by {term}")
    assert not problems, "\n".join(problems)


def test_finance_sees_a_class_of_welcome_packs_in_no_pupil_order(world, client):
    """The class page lists packs as "Pupil 1", "Pupil 2" for finance: in the order they were made."""
    from uniform.web.gifts import _class_gifts

    gift = world.b.gift
    request = type("R", (), {"user": world.users["finance"]})()
    gifts = _class_gifts(request, gift.school, gift.year_group, gift.academic_year)
    assert [g.pk for g in gifts] == sorted(g.pk for g in gifts)
    assert "pupil__surname" not in str(
        order_visible(Gift.objects.order_by("pupil__surname"), world.users["finance"]).query
    )


# --- The schema's filter parameters ---------------------------------------------------------------


@pytest.mark.parametrize("role", ["finance", "pastoral_a", "charity_1"])
def test_a_roles_schema_offers_only_filters_the_role_may_use(world, client, role):
    """Every filter parameter in a role's schema is one its filter backend keeps for that role."""
    import json

    from support.api.visibility import VisibleFilterBackend, visible

    client = client_as(world, client, role)
    user = world.users[role]
    schema = json.loads(client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)
    problems, checked = [], 0
    for cls in list_views():
        view = _view(cls, user)
        queryset = view.get_queryset()
        filterset_class = VisibleFilterBackend().get_filterset_class(view, queryset)
        if filterset_class is None:
            continue
        path = _list_url(cls)
        operations = schema["paths"].get(path, {})
        names = {p["name"] for op in operations.values() for p in op.get("parameters", [])}
        for name, flt in filterset_class.base_filters.items():
            if name in names:
                checked += 1
                if not visible(user, queryset.model, name, flt.field_name):
                    problems.append(f"{role}'s schema offers {path}?{name}=")
    assert checked or role == "charity_1", "no filter parameter was found"
    assert not problems, "\n".join(problems)


def test_finance_is_not_offered_a_search_it_cannot_use(world, client):
    """Gifts are searched by pupils' names only: finance's schema has no ``?search=`` there."""
    import json

    client = client_as(world, client, "finance")
    schema = json.loads(client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)

    def params(path):
        return {p["name"] for p in schema["paths"][path]["get"].get("parameters", [])}

    assert "search" not in params("/api/v1/gifts/")
    assert "search" in params("/api/v1/vouchers/")  # by code, which finance sees
