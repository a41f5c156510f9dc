"""Family search that forgives (issue 15.1): the way staff type is the way a family is found.

Each rule is asked through both doors that share the family filter set (the web list and the API), with
the exact examples of the issue; then scope, order, and what the list page costs.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from support import paging, selectors
from support.search import WORD_THRESHOLD, parse_query, word_similarity
from support.services import family_create
from tests.factories import FamilyFactory, PupilFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def okafor(school_a, pastoral_a):
    """Grace Okafor, as the family page shows her: phone 0121 496 0075, postcode RV3 7WB."""
    family = family_create(
        actor=pastoral_a,
        lead_carer_name="Mrs Grace Okafor",
        phone="0121 496 0075",
        postcode="rv3 7wb",
        adults=1,
        children=1,
    )
    PupilFactory(family=family, school=school_a, legal_forename="Tobi", surname="Okafor")
    return family


@pytest.fixture
def others(school_a):
    """Families at school A that none of the examples should find."""
    made = []
    for carer, postcode, phone in (
        ("Anna Able", "RV1 1AA", "+441134960001"),
        ("Oliver Kafka", "RV3 8ZZ", "+441214960076"),
        ("Sam Okeke", "RV4 7WB", "+441214960175"),
    ):
        family = FamilyFactory(lead_carer_name=carer, postcode=postcode, phone=phone)
        PupilFactory(family=family, school=school_a, legal_forename="Kid", surname=carer.split()[1])
        made.append(family)
    return made


def web_ids(client, query, **extra) -> list[int]:
    response = client.get("/families/", {"q": query, **extra})
    assert response.status_code == 200, response.content[:500]
    return [family.pk for family in response.context["page"].object_list]


def api_ids(user, query, **extra) -> list[int]:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get("/api/v1/families/", {"q": query, **extra})
    assert response.status_code == 200, response.content[:500]
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def both_doors(client_for, pastoral_a):
    """``both_doors(query)``: the families the web list and the API find, which must be the same."""
    web = client_for(pastoral_a)

    def find(query, **extra) -> list[int]:
        found = web_ids(web, query, **extra)
        assert api_ids(pastoral_a, query, **extra) == found, "the web list and the API disagree"
        return found

    return find


# --- The examples -------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["0121 496 0075", "01214960075", "+44 121 496 0075", "0121-496-0075"])
def test_it_finds_a_phone_number_typed_any_way(okafor, others, both_doors, typed):
    assert okafor.phone == "+441214960075"  # stored normalised (E.164)
    assert both_doors(typed) == [okafor.pk]


@pytest.mark.parametrize("typed", ["RV37WB", "rv37wb", "RV3 7WB", " rv3  7WB "])
def test_it_finds_a_postcode_with_or_without_its_space_in_any_case(okafor, others, both_doors, typed):
    assert okafor.postcode == "RV3 7WB"
    assert both_doors(typed) == [okafor.pk]


def test_it_finds_the_families_of_an_outward_code(okafor, others, both_doors):
    kafka = others[1]
    assert set(both_doors("rv3")) == {okafor.pk, kafka.pk}


@pytest.mark.parametrize("typed", ["Mrs Okafor", "mrs okafor", "Okafor", "Grace Okafor", "Dr. Okafor"])
def test_it_ignores_titles_and_case(okafor, others, both_doors, typed):
    assert both_doors(typed)[0] == okafor.pk


def test_it_finds_a_misspelt_name(okafor, others, both_doors):
    found = both_doors("Okafur")
    assert found[0] == okafor.pk
    assert others[0].pk not in found  # Anna Able is nothing like it


def test_it_finds_a_family_by_a_pupils_upn(okafor, others, both_doors):
    upn = okafor.pupils.get().upn
    assert both_doors(upn.lower()) == [okafor.pk]


def test_it_finds_a_family_by_a_pupils_misspelt_name(school_a, others, both_doors):
    family = FamilyFactory(lead_carer_name="Jo Smith")
    PupilFactory(family=family, school=school_a, legal_forename="Precious", surname="Adeyemi")
    assert both_doors("Adeyemy") == [family.pk]


def test_it_puts_the_best_match_first(school_a, both_doors):
    close = FamilyFactory(lead_carer_name="Grace Okafer")
    exact = FamilyFactory(lead_carer_name="Zoe Okafor")
    for family in (close, exact):
        PupilFactory(family=family, school=school_a)
    assert both_doors("Okafor") == [exact.pk, close.pk]


def test_it_finds_nothing_for_a_number_that_is_no_phone_number(okafor, others, both_doors):
    assert both_doors("0000 000 0000") == []


# --- Order and what a page costs ------------------------------------------------------------------


def test_it_sorts_the_list_by_surname(school_a, both_doors):
    names = ["Zara Adams", "Mr Adam Zeller", "Bea Brown", "Aaron Young"]
    families = {name: FamilyFactory(lead_carer_name=name) for name in names}
    for family in families.values():
        PupilFactory(family=family, school=school_a)
    order = ["Zara Adams", "Bea Brown", "Aaron Young", "Mr Adam Zeller"]
    assert both_doors("") == [families[name].pk for name in order]


def test_it_sorts_equal_matches_by_surname(school_a, both_doors):
    later = FamilyFactory(lead_carer_name="Okafor Zed")  # surname Zed: the name has Okafor in full too
    first = FamilyFactory(lead_carer_name="Mary Okafor")
    for family in (later, first):
        PupilFactory(family=family, school=school_a)
    assert both_doors("okafor") == [first.pk, later.pk]


def _list_queries(client, query="") -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/families/", {"q": query} if query else {})
    assert response.status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_it_runs_as_many_queries_for_sixty_families_as_for_thirty(school_a, client_for, pastoral_a):
    client = client_for(pastoral_a)

    def add(start: int) -> None:
        for n in range(start, start + 30):
            family = FamilyFactory(lead_carer_name=f"Carer Smith{n}")
            PupilFactory(family=family, school=school_a)
            PupilFactory(family=family, school=school_a)

    add(0)
    _list_queries(client)  # warm the session and the user's scope
    few = _list_queries(client)
    few_search = _list_queries(client, "smith")
    add(30)
    assert len(_list_queries(client)) == len(few)
    assert len(_list_queries(client, "smith")) == len(few_search)


def test_it_counts_a_search_in_the_pages_own_query(school_a, client_for, pastoral_a):
    for n in range(30):
        PupilFactory(family=FamilyFactory(lead_carer_name=f"Carer Smith{n}"), school=school_a)
    client = client_for(pastoral_a)
    queries = _list_queries(client, "smith")
    # Counted once, beside the ranking: on SQLite in the families' page query, on PostgreSQL in the
    # names table's (support.search.NameRanking), which leaves the families' query a page of ids.
    counted = [sql for sql in queries if "OVER ()" in sql]
    assert len(counted) == 1, queries
    assert not any("COUNT(" in sql for sql in queries if sql not in counted)
    ranking_table = "support_familysearchname" if connection.vendor == "postgresql" else "support_family"
    assert f'"{ranking_table}"' in counted[0]
    response = client.get("/families/", {"q": "smith"})
    assert response.context["page"].paginator.count == 30
    assert b"30 families matching" in response.content


def test_it_counts_the_whole_list_at_most_to_the_cap(school_a, client_for, pastoral_a, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_CAP", 26)
    for n in range(30):
        PupilFactory(family=FamilyFactory(lead_carer_name=f"Carer Smith{n}"), school=school_a)
    client = client_for(pastoral_a)
    family_queries = [sql for sql in _list_queries(client) if 'FROM "support_family"' in sql]
    assert len(family_queries) == 2, family_queries  # the page, and a count that stops at the cap
    assert "LIMIT 27" in family_queries[1]
    assert "OVER ()" not in " ".join(family_queries)
    response = client.get("/families/")
    assert b"More than 26 families" in response.content
    # Paging on past the cap still reaches every family.
    page_two = client.get("/families/", {"page": 2}).context["page"]
    assert (len(page_two.object_list), page_two.has_next()) == (5, False)


def test_it_counts_a_later_page_and_sends_a_page_past_the_end_to_the_last(school_a, client_for, pastoral_a):
    for n in range(30):
        PupilFactory(family=FamilyFactory(lead_carer_name=f"Carer Smith{n}"), school=school_a)
    client = client_for(pastoral_a)
    page_two = client.get("/families/", {"page": 2}).context["page"]
    assert (page_two.paginator.count, len(page_two.object_list)) == (30, 5)
    past = client.get("/families/", {"page": 9}).context["page"]
    assert (past.number, len(past.object_list)) == (2, 5)
    huge = client.get("/families/", {"page": "9" * 23})
    assert huge.status_code == 200
    assert huge.context["page"].number == 2


# --- Scope ----------------------------------------------------------------------------------------


def test_it_finds_nothing_outside_the_users_scope(okafor, client_for, pastoral_b):
    client = client_for(pastoral_b)
    upn = okafor.pupils.get().upn
    for typed in ("0121 496 0075", "RV37WB", "rv3", "Okafur", "Mrs Okafor", "Tobi", upn):
        assert web_ids(client, typed) == []
        assert api_ids(pastoral_b, typed) == []


def test_an_out_of_scope_pupil_neither_finds_nor_moves_a_family(family_ab, school_a, both_doors):
    # Caspar Cross is at school B: a misspelling of his name must not find his family for school A's staff.
    assert both_doors("Casper") == []
    # Nor lift his family above another when the carers' names match equally.
    other = FamilyFactory(lead_carer_name="Cyril Cross")
    PupilFactory(family=other, school=school_a, legal_forename="Cleo", surname="Cross")
    scores = {f.pk: f.match_score for f in selectors.family_search(user=_user("pastoral_a"), query="cross")}
    assert scores[family_ab.pk] == scores[other.pk]


def _user(username):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def test_it_filters_by_school_with_a_clear_error_for_another(family_ab, school_b, client_for, pastoral_a):
    response = client_for(pastoral_a).get("/families/", {"school": school_b.pk})
    assert response.status_code == 400
    assert b"Choose one of your schools" in response.content
    client = APIClient()
    client.force_authenticate(pastoral_a)
    answer = client.get("/api/v1/families/", {"school": school_b.pk})
    assert answer.status_code == 400
    assert "school" in answer.json().get("fields", answer.json())


def test_it_refuses_a_query_too_long_with_the_fields_message(client_for, pastoral_a):
    response = client_for(pastoral_a).get("/families/", {"q": "x" * 101})
    assert response.status_code == 400
    assert b"Search for at most 100 characters" in response.content


# --- Reading a query, and the SQLite stand-in for pg_trgm -------------------------------------------


@pytest.mark.parametrize(
    ("typed", "field", "value"),
    [
        ("0121 496 0075", "phone", "+441214960075"),
        ("01214960075", "phone", "+441214960075"),
        ("RV37WB", "postcode", "RV3 7WB"),
        ("rv3", "outward_code", "RV3"),
        ("Grace@Example.org", "email", "Grace@Example.org"),
        ("Mrs Okafor", "name_key", "okafor"),
        ("Okafur", "name_key", "okafur"),
    ],
)
def test_it_reads_what_a_query_is(typed, field, value):
    assert getattr(parse_query(typed), field) == value


def test_its_sqlite_similarity_matches_pg_trgm_on_the_examples():
    # pg_trgm: word_similarity('okafur', 'grace okafor') = 0.5714286; ('okafor', ...) = 1.
    assert word_similarity("okafur", "grace okafor") == pytest.approx(4 / 7)
    assert word_similarity("okafor", "grace okafor") == 1.0
    assert (
        word_similarity("okafur", "grace okafor") >= WORD_THRESHOLD > word_similarity("able", "grace okafor")
    )


@pytest.mark.postgres
def test_it_uses_pg_trgm_with_the_same_threshold_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('pg_trgm.word_similarity_threshold')")
        assert float(cursor.fetchone()[0]) == WORD_THRESHOLD
        for term, text in (
            ("okafur", "grace okafor"),
            ("okafor", "grace okafor"),
            ("adeyemy", "precious adeyemi"),
        ):
            cursor.execute("SELECT word_similarity(%s, %s)", [term, text])
            assert cursor.fetchone()[0] == pytest.approx(word_similarity(term, text), abs=1e-6)
