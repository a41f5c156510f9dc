"""The names table the name search reads on PostgreSQL (``FamilySearchName``, issue 15.1's speed): its
triggers keep it in step with families, pupils and rolls, so the search finds exactly what the scope rules
allow: school staff through current rolls only, the trust admin through the trust's rows (every family and
pupil). A page is ranked and counted in the table and only its families are read
(``support.search.NameRanking``); anything else asks the queryset."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from support import selectors
from support.models import Enrolment, Family, FamilySearchName, Pupil, Registration
from support.paging import ListPaginator
from support.search import NameRanking
from support.services import family_update
from tests.factories import FamilyFactory, PupilFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _rows(family) -> set[tuple[int, str]]:
    """A family's rows at schools."""
    rows = FamilySearchName.objects.filter(family=family, school__isnull=False)
    return set(rows.values_list("school_id", "name"))


def _trust_rows(family) -> set[tuple[str, str]]:
    """A family's trust rows (the admin's): each name with the family's sort key."""
    rows = FamilySearchName.objects.filter(family=family, school__isnull=True)
    return set(rows.values_list("name", "sort_key"))


def _found(user, query: str, school_id: int | None = None) -> list[int]:
    found = selectors.family_search(user=user, query=query, school_id=school_id)
    return list(found.values_list("pk", flat=True))


@pytest.fixture
def okafor(school_a):
    family = FamilyFactory(lead_carer_name="Mrs Grace Okafor")
    pupil = PupilFactory(
        family=family, school=school_a, preferred_forename="Tobi", legal_forename="Tobias", surname="Okafor"
    )
    return family, pupil


def test_a_pupil_on_a_roll_gives_its_family_the_carers_and_the_pupils_names_at_that_school(
    okafor, school_a, pastoral_a, pastoral_b
):
    family, _pupil = okafor
    assert _rows(family) == {(school_a.pk, "grace okafor"), (school_a.pk, "Tobi Tobias Okafor")}
    assert _found(pastoral_a, "Okafur") == [family.pk]
    assert _found(pastoral_a, "Tobiaz") == [family.pk]
    assert _found(pastoral_b, "Okafor") == []


def test_the_search_reads_the_names_table_for_school_staff(okafor, pastoral_a):
    with CaptureQueriesContext(connection) as queries:
        _found(pastoral_a, "Okafor")
    assert any("support_familysearchname" in q["sql"] for q in queries.captured_queries)


def test_leaving_the_roll_takes_the_names_away(okafor, pastoral_a):
    family, pupil = okafor
    Enrolment.objects.filter(pupil=pupil).update(left_on=datetime.date.today() + datetime.timedelta(days=1))
    assert _rows(family) == set()
    assert _found(pastoral_a, "Okafor") == []
    Enrolment.objects.filter(pupil=pupil).update(left_on=None)
    assert _found(pastoral_a, "Okafor") == [family.pk]


def test_a_sibling_at_another_school_is_found_only_there(okafor, school_a, school_b, pastoral_a, pastoral_b):
    family, _pupil = okafor
    PupilFactory(
        family=family, school=school_b, preferred_forename="", legal_forename="Zainab", surname="Okafor"
    )
    assert (school_b.pk, " Zainab Okafor") in _rows(family)
    assert _found(pastoral_b, "Zainab") == [family.pk]
    assert _found(pastoral_a, "Zainab") == []  # school A staff see the family, never school B's child
    assert _found(pastoral_a, "Tobi") == [family.pk]
    assert _found(pastoral_b, "Tobi") == []


def test_a_second_roll_adds_the_pupil_at_that_school_too(okafor, school_b, pastoral_b):
    family, pupil = okafor
    Enrolment.objects.create(
        pupil=pupil, school=school_b, registration=Registration.SUBSIDIARY, joined=datetime.date.today()
    )
    assert _found(pastoral_b, "Tobi") == [family.pk]
    Enrolment.objects.filter(pupil=pupil, school=school_b).delete()
    assert _found(pastoral_b, "Tobi") == []


def test_renames_moves_merges_and_deletions_follow(okafor, school_a, pastoral_a):
    family, pupil = okafor
    family_update(family=family, actor=pastoral_a, lead_carer_name="Grace Adeyemi")
    assert _found(pastoral_a, "Adeyemi") == [family.pk]
    Pupil.objects.filter(pk=pupil.pk).update(surname="Okonkwo")
    assert (school_a.pk, "Tobi Tobias Okonkwo") in _rows(family)
    other = FamilyFactory(lead_carer_name="Ben Able")
    Pupil.objects.filter(pk=pupil.pk).update(family=other)
    assert _rows(family) == set()  # no pupil on a roll any more
    assert _trust_rows(family) == {("grace adeyemi", "adeyemi grace adeyemi")}  # the admin still finds her
    assert (school_a.pk, "ben able") in _rows(other)
    assert _found(pastoral_a, "Okonkwo") == [other.pk]
    Family.objects.filter(pk=other.pk).update(merged_into=family)
    assert _rows(other) == set()  # merged away: found through the family it was merged into
    Family.objects.filter(pk=other.pk).update(merged_into=None)
    Pupil.objects.filter(pk=pupil.pk).delete()
    assert _rows(other) == set()


def test_a_sibling_at_another_school_neither_finds_nor_ranks_a_family_for_a_school(
    okafor, school_a, school_b, pastoral_a
):
    family, _pupil = okafor
    PupilFactory(
        family=family, school=school_b, preferred_forename="", legal_forename="Zainab", surname="Patel"
    )
    near = FamilyFactory(lead_carer_name="Sam Patal")
    PupilFactory(family=near, school=school_a, surname="Patal")
    # School B's Zainab Patel would score the Okafors 1.0 for "Patel"; at school A they are not found at all.
    assert _found(pastoral_a, "Patel") == [near.pk]


def test_school_staff_and_the_trust_admin_rank_alike(school_a, admin, pastoral_a):
    exact = FamilyFactory(lead_carer_name="Sam Patel")
    PupilFactory(family=exact, school=school_a, surname="Patel")
    near = FamilyFactory(lead_carer_name="Sam Patal")
    PupilFactory(family=near, school=school_a, surname="Patal")
    assert _found(admin, "Patel") == _found(pastoral_a, "Patel") == [exact.pk, near.pk]
    assert _found(admin, "Patel", school_id=school_a.pk) == [exact.pk, near.pk]


def test_the_trust_admin_finds_a_pupil_on_no_roll(okafor, admin, pastoral_a):
    family, pupil = okafor
    Enrolment.objects.filter(pupil=pupil).delete()
    assert _found(pastoral_a, "Tobias") == []
    assert _found(admin, "Tobias") == [family.pk]  # the whole trust's pupils, on a roll or not


def test_the_trust_rows_hold_every_family_and_pupil_with_the_sort_key(okafor, admin):
    family, pupil = okafor
    okafors = "okafor grace okafor"
    assert _trust_rows(family) == {("grace okafor", okafors), ("Tobi Tobias Okafor", okafors)}
    alone = FamilyFactory(lead_carer_name="Mr Ade Bello")  # no pupil yet: the admin finds the carer
    assert _trust_rows(alone) == {("ade bello", "bello ade bello")}
    Enrolment.objects.filter(pupil=pupil).delete()  # on no roll: still the trust's pupil
    assert ("Tobi Tobias Okafor", okafors) in _trust_rows(family)
    family_update(family=family, actor=admin, lead_carer_name="Grace Adeyemi")
    assert {key for _name, key in _trust_rows(family)} == {"adeyemi grace adeyemi"}
    Family.objects.filter(pk=alone.pk).update(merged_into=family)
    assert _trust_rows(alone) == set()


def test_the_trust_admin_searches_the_trust_rows(okafor, admin):
    with CaptureQueriesContext(connection) as queries:
        assert _found(admin, "Okafur") == [okafor[0].pk]
    names = [q["sql"] for q in queries.captured_queries if "support_familysearchname" in q["sql"]]
    assert names
    assert all('"school_id" IS NULL' in sql for sql in names)


@pytest.fixture
def many(school_a, school_b):
    """Forty families at school A (and five at B) that "Patel" finds, with scores and surnames in ties."""
    made = []
    for n in range(45):
        family = FamilyFactory(lead_carer_name=f"{'Sam' if n % 3 else 'Jo'} {'Patel' if n % 2 else 'Patal'}")
        PupilFactory(family=family, school=school_a if n < 40 else school_b, surname="Kid")
        made.append(family)
    return made


def _page(user, number: int, query: str = "Patel", **extra):
    """A page of the search as the list pages and the API take it (a ranking's own page where it has
    one): its (family, score) rows, the count, and whether a page follows."""
    paginator = ListPaginator(selectors.family_search(user=user, query=query, **extra), 25)
    page = paginator.page(number)
    return [(f.pk, f.match_score) for f in page.object_list], paginator.count, page.has_next()


@pytest.mark.parametrize("username", ["pastoral_a", "admin"])
def test_a_page_from_the_names_table_is_the_querysets_page(many, username, request):
    user = request.getfixturevalue(username)
    everything = [(f.pk, f.match_score) for f in selectors.family_search(user=user, query="Patel")]
    assert len(everything) == (40 if username == "pastoral_a" else 45)
    with CaptureQueriesContext(connection) as queries:
        first = _page(user, 1)
    family_reads = [q["sql"] for q in queries.captured_queries if 'FROM "support_family"' in q["sql"]]
    assert len(family_reads) == 1
    assert "word_similarity" not in family_reads[0]
    assert first == (everything[:25], len(everything), True)
    assert _page(user, 2) == (everything[25:50], len(everything), False)


def test_a_queryset_changed_after_the_search_pages_itself(many, pastoral_a):
    found = selectors.family_search(user=pastoral_a, query="Patel")
    narrowed = found.filter(lead_carer_name__startswith="Sam")
    ranking = narrowed.query.annotations["match_score"]
    assert isinstance(ranking, NameRanking)
    assert ranking.page_of(found, 0, 25) is not None
    assert ranking.page_of(narrowed, 0, 25) is None
    assert ranking.page_of(found.order_by("pk"), 0, 25) is None
    page = ListPaginator(narrowed, 25).page(1)
    assert [f.pk for f in page.object_list] == [f.pk for f in narrowed[:25]]
    assert page.paginator.count == narrowed.count() == 26
    # The API's ?ordering= is a change too: the caller's order, not the ranking's.
    client = APIClient()
    client.force_authenticate(pastoral_a)
    answer = client.get("/api/v1/families/", {"q": "Patel", "ordering": "-id"}).json()
    assert [row["id"] for row in answer["results"]] == sorted((f.pk for f in many[:40]), reverse=True)[:25]


def test_a_row_the_scope_refuses_never_reaches_a_page(many, school_a, school_b, pastoral_a):
    # A row the triggers would never write: a school B family under school A. The page is then the
    # queryset's own, which the family's scope filter guards.
    stranger = many[44]
    FamilySearchName.objects.create(family=stranger, school=school_a, name="sam patel", sort_key="a")
    ids, count, _more = _page(pastoral_a, 1)
    assert stranger.pk not in [pk for pk, _score in ids]
    assert count == 40


def _orm_ranking(term: str, school_ids: tuple[int, ...] | None) -> list[dict]:
    """The ranking as the ORM says it, each row scored: the hand-written statement's reference."""
    from django.db.models import CharField, Count, F, Max, Value, Window

    from support.search import WordSimilar, WordSimilarity

    typed = Value(term, output_field=CharField())
    rows = FamilySearchName.objects.filter(WordSimilar(F("name"), typed))
    rows = rows.filter(school__isnull=True) if school_ids is None else rows.filter(school_id__in=school_ids)
    return list(
        rows.values("family_id", "sort_key")
        .annotate(score=Max(WordSimilarity(typed, F("name"))), total=Window(Count("*")))
        .order_by("-score", "sort_key", "family_id")
        .values("family_id", "score", "total")
    )


def test_the_ranking_scores_each_name_once_and_ranks_as_scoring_each_row(many, school_a, school_b):
    from support.search import _ranked

    # Names shared by many rows, rows of one family alike with different scores, and ties on the score.
    for n in range(6):
        family = FamilyFactory(lead_carer_name=f"Pat {'Patel' if n % 2 else 'Okafor'}")
        PupilFactory(family=family, school=school_a, legal_forename="Sam", surname="Patal")
    for term in ("patel", "sam patel", "pat"):
        for schools in (None, (school_a.pk,), (school_a.pk, school_b.pk), (school_b.pk,)):
            everything = _orm_ranking(term, schools)
            assert everything, (term, schools)
            for offset in (0, 25, 40):
                assert _ranked(term, schools, offset, 25, "default") == everything[offset : offset + 25]
    first = _ranked("patel", None, 0, 25, "default")
    assert (len(first), first[0]["total"]) == (25, 51)


def test_a_pickled_search_keeps_its_answer_and_pages_the_ordinary_way(many, pastoral_a):
    import pickle

    found = selectors.family_search(user=pastoral_a, query="Patel")
    with CaptureQueriesContext(connection) as queries:
        copy = pickle.loads(pickle.dumps(found))
    # Only the search itself is read (pickling a queryset fetches it), never every family the user sees.
    assert all("support_familysearchname" in q["sql"] for q in queries.captured_queries)
    assert copy.query.annotations["match_score"].page_of(copy, 0, 25) is None
    assert [f.pk for f in ListPaginator(copy, 25).page(1).object_list] == [f.pk for f in found[:25]]


@pytest.mark.postgres
def test_a_pupil_with_every_name_at_its_longest_is_saved_and_found(db):
    family = FamilyFactory()
    longest = {"preferred_forename": "A" * 100, "legal_forename": "B" * 100, "surname": "C" * 100}
    pupil = PupilFactory(family=family, **longest)
    names = FamilySearchName.objects.filter(family_id=family.pk).values_list("name", flat=True)
    assert f"{pupil.preferred_forename} {pupil.legal_forename} {pupil.surname}" in names


def test_no_trigram_index_is_left_on_pupils_that_nothing_reads(db):
    # A name search on PostgreSQL reads the names table alone; a pupil's trigram index would only make each
    # pupil written dearer. The carers' index stays: the voucher list's family-name search reads it.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexname FROM pg_indexes WHERE indexdef LIKE '%%gin_trgm_ops%%' "
            "AND tablename IN ('support_pupil', 'support_family')"
        )
        found = set(cursor.fetchall())
    assert found == {("support_family", "family_name_trgm")}


def _table_and_wanted() -> tuple[list[tuple], list[tuple]]:
    """The names table as it is (every copy of a row) and as ``support_family_search_rows()`` says."""
    columns = "family_id, school_id, name, sort_key"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM support_familysearchname ORDER BY 1, 2, 3, 4")
        table = cursor.fetchall()
        cursor.execute(f"SELECT {columns} FROM support_family_search_rows() ORDER BY 1, 2, 3, 4")
        return table, cursor.fetchall()


def _names_written() -> tuple[int, int]:
    """Rows inserted into and deleted from the names table so far in this transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_ins, n_tup_del FROM pg_stat_xact_user_tables "
            "WHERE relname = 'support_familysearchname'"
        )
        return cursor.fetchone()


def _bulk_families(school_a, school_b, n: int) -> tuple[list[Family], list[Pupil]]:
    from support.models.rolls import main_rolls_create

    families = Family.objects.bulk_create([FamilyFactory.build() for _ in range(n)])
    pupils = Pupil.objects.bulk_create(
        [
            PupilFactory.build(family=family, school=school_a if i % 3 else school_b, surname=f"Kid{i}")
            for i, family in enumerate(families)
            for _ in range(1 + i % 2)
        ]
    )
    main_rolls_create(pupils, joined=datetime.date.today())
    return families, pupils


def test_bulk_writes_leave_the_table_exactly_as_the_rows_function_says(school_a, school_b):
    families, pupils = _bulk_families(school_a, school_b, 30)
    alone = Family.objects.bulk_create([FamilyFactory.build() for _ in range(3)])  # no pupils: the carer's
    table, wanted = _table_and_wanted()
    assert table == wanted
    assert len(wanted) > 30 * 4
    # A second roll for some, then rolls, pupils and a family deleted in bulk.
    Enrolment.objects.bulk_create(
        Enrolment(
            pupil=p, school=school_b, registration=Registration.SUBSIDIARY, joined=datetime.date.today()
        )
        for p in pupils[:10]
        if p.school_id == school_a.pk
    )
    assert _table_and_wanted()[0] == _table_and_wanted()[1]
    Enrolment.objects.filter(pupil__in=pupils[5:15]).delete()
    assert _table_and_wanted()[0] == _table_and_wanted()[1]
    Pupil.objects.filter(pk__in=[p.pk for p in pupils[15:25]]).delete()
    assert _table_and_wanted()[0] == _table_and_wanted()[1]
    gone = [f.pk for f in families[25:] + alone]
    Pupil.objects.filter(family__in=gone).delete()
    Family.objects.filter(pk__in=gone).delete()
    table, wanted = _table_and_wanted()
    assert table == wanted
    assert not {family_id for family_id, *_ in table} & set(gone)


def test_a_refresh_writes_only_the_rows_that_change(school_a, school_b):
    """Each row is written once however many statements touch its family (families, then their pupils,
    then their rolls): rewriting a family's every row on each change wrote about three times as many,
    each with its trigrams in two GIN indexes."""
    inserted, deleted = _names_written()
    _bulk_families(school_a, school_b, 20)
    table, wanted = _table_and_wanted()
    assert table == wanted
    assert _names_written() == (inserted + len(wanted), deleted)


@pytest.mark.parametrize("change", ["a new sibling", "a rename"])
def test_a_stray_or_doubled_row_goes_at_the_familys_next_refresh(okafor, school_a, school_b, change):
    family, pupil = okafor
    FamilySearchName.objects.create(family=family, school=school_b, name="stray", sort_key="x")
    row = FamilySearchName.objects.filter(family=family, school__isnull=True).first()
    FamilySearchName.objects.create(family=family, school=None, name=row.name, sort_key=row.sort_key)
    if change == "a new sibling":  # an insert: the statement triggers' refresh
        PupilFactory(family=family, school=school_a, surname="Okafor")
    else:  # an update: the row triggers' refresh
        Pupil.objects.filter(pk=pupil.pk).update(surname="Okonkwo")
    table, wanted = _table_and_wanted()
    assert table == wanted


def test_the_refresh_plans_each_family_with_the_tables_as_they_are_now(db):
    # A plan cached when the tables were empty (the first family of a bulk load, or of a test) read
    # every pupil and roll for each family after it: seeding the demo spent minutes there.
    with connection.cursor() as cursor:
        cursor.execute("SELECT proconfig FROM pg_proc WHERE proname = 'support_family_search_refresh_many'")
        assert cursor.fetchone()[0] == ["plan_cache_mode=force_custom_plan"]


@pytest.fixture
def area(school_a, school_b):
    """Thirty families with a postcode in RV7 at school A, four at school B, one at both, one merged away,
    and families in RV70 and RV17 that the code must not find."""
    made = {"a": [], "b": [], "both": None}
    for n in range(30):
        family = FamilyFactory(lead_carer_name=f"Carer {n % 7} Area", postcode=f"RV7 {n % 9}AB")
        PupilFactory(family=family, school=school_a)
        made["a"].append(family)
    for n in range(4):
        family = FamilyFactory(lead_carer_name=f"Carer B{n}", postcode="RV7 1XY")
        PupilFactory(family=family, school=school_b)
        made["b"].append(family)
    both = FamilyFactory(lead_carer_name="Carer Both", postcode="RV7 2XY")
    PupilFactory(family=both, school=school_a)
    PupilFactory(family=both, school=school_b)
    made["both"] = both
    merged = FamilyFactory(lead_carer_name="Carer Merged", postcode="RV7 3XY")
    PupilFactory(family=merged, school=school_a)
    Family.objects.filter(pk=merged.pk).update(merged_into=both)
    for postcode in ("RV70 1AB", "RV17 1AB"):
        PupilFactory(family=FamilyFactory(postcode=postcode), school=school_a)
    return made


def _area_page(user, number: int):
    rows, count, more = _page(user, number, query="rv7")
    return [pk for pk, _score in rows], count, more


@pytest.mark.parametrize(("username", "found"), [("pastoral_a", 31), ("pastoral_b", 5), ("admin", 35)])
def test_an_outward_codes_page_comes_from_the_postcode_index_and_is_the_querysets_page(
    area, username, found, request
):
    from support.search import AreaRanking

    user = request.getfixturevalue(username)
    search = selectors.family_search(user=user, query="rv7")
    assert isinstance(search.query.annotations["match_score"], AreaRanking)
    everything = list(search.values_list("pk", flat=True))
    assert len(everything) == found
    with CaptureQueriesContext(connection) as queries:
        first = _area_page(user, 1)
    family_reads = [q["sql"] for q in queries.captured_queries if 'FROM "support_family"' in q["sql"]]
    # The page's ids from the index, then only those families, through the user's scope.
    assert len(family_reads) == 2
    assert "WITH area AS MATERIALIZED" in family_reads[0]
    assert first == (everything[:25], found, found > 25)
    if found > 25:
        assert _area_page(user, 2) == (everything[25:], found, False)


def test_an_outward_codes_page_never_shows_a_family_the_scope_refuses(area, school_a, pastoral_a):
    # A names row the triggers would never write: a school B family (first in the order) under school A.
    # The ranking puts it on the first page; the page's read through the scope does not find it, so the
    # page and its count are the queryset's own.
    stranger = area["b"][0]
    Family.objects.filter(pk=stranger.pk).update(lead_carer_name="Aaron Aardvark", carer_name_key="aardvark")
    FamilySearchName.objects.create(family=stranger, school=school_a, name="aardvark", sort_key="a")
    ids, count, _more = _area_page(pastoral_a, 1)
    assert stranger.pk not in ids
    assert count == 31


def test_an_outward_code_search_changed_after_it_was_made_pages_itself(area, pastoral_a):
    found = selectors.family_search(user=pastoral_a, query="RV7")
    narrowed = found.filter(lead_carer_name__startswith="Carer 1")
    assert found.query.annotations["match_score"].page_of(found, 0, 25) is not None
    assert narrowed.query.annotations["match_score"].page_of(narrowed, 0, 25) is None
    page = ListPaginator(narrowed, 25).page(1)
    assert [f.pk for f in page.object_list] == [f.pk for f in narrowed[:25]]
    assert page.paginator.count == narrowed.count() == 5


def _distinct_names() -> set[str]:
    return set(FamilySearchName.objects.values_list("name", flat=True).distinct())


def _paged(user, query: str) -> list[int]:
    """The first page's families."""
    return [pk for pk, _score in _page(user, 1, query=query)[0]]


def test_every_name_a_row_bears_is_in_the_searchs_distinct_names(okafor, school_a, school_b, admin):
    from support.models import SearchName

    family, pupil = okafor
    assert _distinct_names() <= set(SearchName.objects.values_list("name", flat=True))
    PupilFactory(family=family, school=school_b, legal_forename="Zainab", surname="Okafor")
    family_update(family=family, actor=admin, lead_carer_name="Grace Adeyemi")
    Pupil.objects.filter(pk=pupil.pk).update(surname="Okafur")
    names = set(SearchName.objects.values_list("name", flat=True))
    assert _distinct_names() <= names
    assert {"grace adeyemi", "Tobi Tobias Okafur"} <= names
    assert len(names) == SearchName.objects.count()  # each once


def test_a_name_no_row_bears_stays_unfound_until_the_tidy_takes_it_away(okafor, pastoral_a, admin):
    from support.models import SearchName
    from support.search import search_names_tidy
    from support.tasks import tidy_search_names

    family, _pupil = okafor
    family_update(family=family, actor=admin, lead_carer_name="Grace Adeyemi")
    # The old name is still listed (nothing deletes there but the tidy) and finds nothing.
    assert SearchName.objects.filter(name="grace okafor").exists()
    assert _paged(pastoral_a, "Grace Okafor") == [family.pk]  # by the new first name and the pupil's
    assert _paged(pastoral_a, "Okafor") == [family.pk]  # by the pupil's surname, not the old name
    assert search_names_tidy() == (1, 0)
    assert not SearchName.objects.filter(name="grace okafor").exists()
    assert set(SearchName.objects.values_list("name", flat=True)) == _distinct_names()
    assert tidy_search_names() == {"removed": 0, "added": 0}


def test_the_tidy_adds_back_a_name_that_went_missing(okafor, pastoral_a):
    from support.models import SearchName
    from support.search import search_names_tidy

    family, _pupil = okafor
    SearchName.objects.filter(name="grace okafor").delete()  # as a tidy racing a writer could leave it
    assert _paged(pastoral_a, "Grace") == []
    assert search_names_tidy() == (0, 1)
    assert _paged(pastoral_a, "Grace") == [family.pk]


def test_the_tidy_runs_nightly(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "support.tidy_search_names" in tasks


def test_the_refill_after_a_load_with_triggers_off_gives_the_distinct_names_too(okafor, pastoral_a):
    from support.models import SearchName
    from support.models.search import REFILL_SQL

    family, _pupil = okafor
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # as bench/scale.py loads
        for statement in REFILL_SQL:
            cursor.execute(statement)
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    assert set(SearchName.objects.values_list("name", flat=True)) == _distinct_names() != set()
    assert _paged(pastoral_a, "Okafor") == [family.pk]
