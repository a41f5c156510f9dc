"""Family search that forgives: the way a pastoral worker types is the way a family is found.

A query is read once (``parse_query``) and sent down one of two roads:

- an identifier, matched exactly on a normalised, indexed column: a phone number in any format
  (``0121 496 0075``, ``01214960075``, ``+44 121 496 0075``; the family's own, the one its page shows:
  contacts' numbers are not on that page, so they do not find it),
  a postcode with or without its space in any case (``RV37WB``, ``rv3 7wb``) or only its outward code
  (``RV3``), an e-mail address, a pupil's UPN, or anything a feature app's finder knows (a voucher code,
  ``register_family_finder``);
- a name: titles, case, accents and punctuation dropped (``Mrs Okafor`` is ``okafor``), then trigram
  word similarity against the lead carer's name and the names of the pupils the user may see, so a
  misspelling (``Okafur``) still finds the family, best match first.

On PostgreSQL the similarity is ``pg_trgm``'s ``word_similarity`` with its ``%>`` operator, which GIN
indexes answer (support's migration "family_search"); each connection sets the threshold
(``WORD_THRESHOLD``). On
SQLite (the embedded default, a small trust) the same function is registered on the connection in
Python: the same trigrams, the same threshold, the score taken over the whole name rather than its best
run of words, so it can only be kinder than PostgreSQL's, never stricter.

Scope comes first: the queryset searched is already the user's (``support.selectors``) and pupil names
count only through pupils the user may see, so a match, its count and its place in the order never
depend on a pupil or a family the user cannot see.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from django.db import connections, transaction
from django.db.backends.signals import connection_created
from django.db.models import (
    Case,
    CharField,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.db.models.lookups import Lookup
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.gb import upn as upn_module

from support.hot_queries import hot_cursor
from support.pupil_csv import normalise_name_key, normalise_phone, normalise_postcode

# How alike a typed word must be to a word of the name (pg_trgm's word_similarity, 0 to 1). 0.5 finds
# one wrong letter in a six-letter surname ("okafur" is 0.57 of "okafor"); pg_trgm's default, 0.6, does not.
WORD_THRESHOLD = 0.5
# A typed word shorter than this is a prefix, not a name: trigram similarity says little about it.
MIN_NAME_LETTERS = 2

_PHONE_LIKE = re.compile(r"\+?[0-9][0-9 ()\-.]{5,}[0-9]")
_OUTWARD_CODE = re.compile(r"[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-HJKPSTUW]?")
_WORD = re.compile(r"[^\W_]+")


# --- Trigram similarity, on PostgreSQL and on SQLite --------------------------------------------------


@lru_cache(maxsize=4096)
def trigrams(text: str) -> frozenset[str]:
    """pg_trgm's trigrams: lower-cased words of letters and digits, each padded "  word "."""
    found: set[str] = set()
    for word in _WORD.findall(text.lower()):
        padded = f"  {word} "
        found.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(found)


def word_similarity(term: str | None, text: str | None) -> float:
    """The share of ``term``'s trigrams found in ``text`` (SQLite's stand-in for pg_trgm's function)."""
    if not term or not text:
        return 0.0
    wanted = trigrams(term)
    if not wanted:
        return 0.0
    return len(wanted & trigrams(text)) / len(wanted)


def _on_connection(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function("trgm_word_similarity", 2, word_similarity, deterministic=True)
    elif connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # A placeholder until pg_trgm loads in this session, then its setting.
            cursor.execute("SET pg_trgm.word_similarity_threshold = %s", [WORD_THRESHOLD])


def connect_signals() -> None:
    connection_created.connect(_on_connection, dispatch_uid="support.search.trigram")


class WordSimilarity(Func):
    """``word_similarity(term, text)``: how well ``term`` matches some run of words of ``text``."""

    function = "word_similarity"
    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, function="trgm_word_similarity", **extra)


class WordSimilar(Lookup):
    """``text %> term``: ``term`` is like a run of words of ``text`` (answered by a trigram GIN index)."""

    lookup_name = "word_similar"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} %%> {rhs}", [*lhs_params, *rhs_params]

    def as_sqlite(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"trgm_word_similarity({rhs}, {lhs}) >= {WORD_THRESHOLD}", [*rhs_params, *lhs_params]


class InList(Lookup):
    """``id IN (subquery)``; on PostgreSQL ``id = ANY(ARRAY(subquery))``, run once, so the rows are
    fetched by their primary key rather than by testing every row of the table against the list."""

    lookup_name = "in_list"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} IN {rhs}", [*lhs_params, *rhs_params]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(ARRAY{rhs})", [*lhs_params, *rhs_params]


class AnyBigint(Lookup):
    """``column = ANY(ids::bigint[])`` (PostgreSQL): the ids typed as the bigint column is, so that a
    ``btree_gin`` index holding the column can answer it."""

    lookup_name = "any_bigint"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, [int(pk) for pk in self.rhs]]


class PupilNameText(Func):
    """A pupil's names in one string, spelt as the names table's rows spell them
    (``support_family_search_rows()``): the SQLite road scores pupils by it."""

    template = "(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = CharField()

    def __init__(self, **extra) -> None:
        super().__init__(F("preferred_forename"), F("legal_forename"), F("surname"), **extra)


# --- Reading a query ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedQuery:
    """What a typed query is: at most one identifier, or else a name key."""

    text: str
    phone: str | None = None
    postcode: str | None = None
    outward_code: str | None = None
    email: str | None = None
    upn: str | None = None
    name_key: str = ""

    @property
    def is_identifier(self) -> bool:
        return bool(self.phone or self.postcode or self.outward_code or self.email or self.upn)

    @property
    def is_empty(self) -> bool:
        return not self.text


def _upn(text: str) -> str | None:
    compact = "".join(text.split()).upper()
    if len(compact) != 13:
        return None
    try:
        return upn_module.validate(compact)
    except StdnumError:
        return None


def parse_query(query: str) -> ParsedQuery:
    """Read ``query`` as the identifier it looks like (normalised as it is stored), or as a name."""
    text = " ".join(str(query).split())
    if not text:
        return ParsedQuery(text="")
    if "@" in text and " " not in text:
        return ParsedQuery(text=text, email=text)
    upn = _upn(text)
    if upn:
        return ParsedQuery(text=text, upn=upn)
    if _PHONE_LIKE.fullmatch(text) and sum(ch.isdigit() for ch in text) >= 7:
        # A number that is no valid phone number finds nothing, rather than every name with digits.
        return ParsedQuery(text=text, phone=normalise_phone(text) or "")
    postcode = normalise_postcode(text)
    if postcode:
        return ParsedQuery(text=text, postcode=postcode)
    compact = text.replace(" ", "").upper()
    if _OUTWARD_CODE.fullmatch(compact) and any(ch.isdigit() for ch in compact):
        return ParsedQuery(text=text, outward_code=compact)
    name_key = normalise_name_key(text)
    letters = sum(ch.isalpha() for ch in name_key)
    return ParsedQuery(text=text, name_key=name_key if letters >= MIN_NAME_LETTERS else "")


# --- Finders that feature apps add (the core never imports them) -----------------------------------

# A finder gets the user and the typed text and answers a queryset of family ids (``values("family")``),
# already scoped to what the user may see, or None when the text is nothing it recognises.
FamilyFinder = Callable[[object, str], QuerySet | None]
_FINDERS: dict[str, FamilyFinder] = {}


def register_family_finder(name: str, finder: FamilyFinder) -> None:
    """A feature app lets search find a family by something it holds (vouchers: a voucher code)."""
    _FINDERS[name] = finder


def family_finders() -> dict[str, FamilyFinder]:
    return dict(_FINDERS)


# --- The search itself ---------------------------------------------------------------------------


def family_search_apply(
    families: QuerySet,
    *,
    user,
    query: str,
    visible_pupils: Callable[[], QuerySet],
    school_ids: list[int] | None = None,
) -> QuerySet:
    """``families`` (already the user's) narrowed to those matching ``query``, annotated with
    ``match_score`` (1 for an identifier, the name's similarity otherwise) and ordered best match
    first, then by surname. ``visible_pupils()`` gives the pupils the user may see (built only by
    the roads that read them); ``school_ids`` the schools whose current rolls make them visible (None
    for the whole trust): on PostgreSQL a name is then looked up in those schools' rows of
    ``FamilySearchName`` alone (or the trust's rows), and a page is ranked there (``NameRanking``)."""
    parsed = parse_query(query)
    if parsed.is_empty:
        return families
    found = Q(pk__in=[])
    recognised = False
    for finder in _FINDERS.values():
        family_ids = finder(user, parsed.text)
        if family_ids is not None:
            found |= Q(pk__in=family_ids)
            recognised = True
    if parsed.is_identifier or recognised:
        if parsed.phone is not None:
            found |= Q(phone=parsed.phone)
        if parsed.postcode:
            found |= Q(postcode=parsed.postcode)
        if parsed.outward_code:
            # The outward code's families by the postcode's pattern index, then fetched by id: as a plain
            # filter PostgreSQL walked the whole sort order testing each family (100,000 for the admin).
            in_area = families.model.objects.filter(postcode__startswith=f"{parsed.outward_code} ")
            found |= Q(InList(F("pk"), in_area.order_by().values("pk")))
            if not recognised and connections[families.db].vendor == "postgresql":
                return _area_in_scope(families, found, parsed.outward_code, school_ids)
        if parsed.email:
            found |= Q(email__iexact=parsed.email)
        if parsed.upn:
            found |= Q(pk__in=visible_pupils().filter(upn=parsed.upn).values("family"))
        return families.filter(found).annotate(match_score=Value(1.0, output_field=FloatField()))
    if not parsed.name_key:
        return families.filter(found).annotate(match_score=Value(1.0, output_field=FloatField()))
    if connections[families.db].vendor == "postgresql":
        return _names_in_scope(families, term=parsed.name_key, school_ids=school_ids)
    term = Value(parsed.name_key, output_field=CharField())
    pupils = visible_pupils()
    # One list of candidate ids from the two trigram indexes (a UNION, not an OR, which would make
    # PostgreSQL test every family of the trust against the term), then the scope checks only those.
    # Each branch is already the user's: only the families they may see are fetched whole.
    alike = (
        families.filter(WordSimilar(F("carer_name_key"), term))
        .order_by()
        .values("pk")
        .union(pupils.filter(WordSimilar(PupilNameText(), term)).order_by().values("family"))
    )
    found |= Q(InList(F("pk"), alike))
    best_pupil = Subquery(
        pupils.filter(family=OuterRef("pk"))
        .annotate(similarity=WordSimilarity(term, PupilNameText()))
        .order_by("-similarity")
        .values("similarity")[:1],
        output_field=FloatField(),
    )
    return (
        families.filter(found)
        .alias(carer_score=WordSimilarity(term, F("carer_name_key")))
        .annotate(
            # A carer whose name holds the word exactly needs no look at the pupils: the common case,
            # and the cheap one.
            match_score=Case(
                When(carer_score__gte=1.0, then=F("carer_score")),
                default=Greatest(F("carer_score"), Coalesce(best_pupil, Value(0.0))),
                output_field=FloatField(),
            )
        )
        .order_by(F("match_score").desc(), "carer_sort_key", "pk")
    )


def _names_in_scope(families: QuerySet, *, term: str, school_ids: list[int] | None) -> QuerySet:
    """The name search on PostgreSQL: one trigram lookup in the names table's rows of the user's
    schools (``school_ids``, answered by ``family_search_school_name``, which holds the school beside
    the name's trigrams) or, for the whole trust (None), in its trust rows (``family_search_trust_name``).
    A family's score is its best row's. ``families`` keeps its own scope filter, so a row can only
    narrow what the user may already see.

    The queryset answers anyone who reads it; its score is a ``NameRanking``, which lets a paginator
    rank, count and page the names alone and read only the page's families."""
    schools = None if school_ids is None else tuple(school_ids)
    rows = _name_rows(term, schools)
    term_value = Value(term, output_field=CharField())
    best = rows.filter(family=OuterRef("pk")).annotate(similarity=WordSimilarity(term_value, F("name")))
    ranked = (
        families.filter(InList(F("pk"), rows.order_by().values("family")))
        .annotate(match_score=NameRanking(best.order_by("-similarity").values("similarity")[:1]))
        .order_by(F("match_score").desc(), "carer_sort_key", "pk")
    )
    ranking = ranked.query.annotations["match_score"]
    ranking.term, ranking.school_ids, ranking.families = term, schools, families
    ranking.shape = _shape(ranked)
    return ranked


def _name_rows(term: str, school_ids: tuple[int, ...] | None) -> QuerySet:
    """The names table's rows like ``term``: at ``school_ids``, or the trust's (None)."""
    from support.models import FamilySearchName

    rows = FamilySearchName.objects.filter(WordSimilar(F("name"), Value(term, output_field=CharField())))
    if school_ids is None:
        return rows.filter(school__isnull=True)
    # The school ids as bigint, the column's type: btree_gin's index answers ``bigint = bigint`` only,
    # so a plain integer literal would leave the school to a filter over every school's rows.
    return rows.filter(AnyBigint(F("school_id"), list(school_ids)), school__isnull=False)


# A page of the ranking, in the names table alone: the families whose rows are like the term, best first
# (their best row's score), then by surname, each with the number of families in all (``COUNT(*) OVER ()``,
# counted once beside the ranking). The term is looked up among the distinct names (``SearchName``, a few
# thousand, each scored once: ``support_search_names_like``, support's migration "search_names"), then
# the rows of those names are read from the (name, school) index alone: "James
# Jones" is like 152 names but 7,380 of the trust's rows at 100,000 families, and the trigram index's
# recheck of every row was two thirds of the statement.
# Hand-written, as the ORM writes no CTE; prepared on the server (``hot_cursor``), so the term is cast.
# tests/support/test_search_names.py holds it equal to the ORM's ranking of the same rows.
_RANKED_SQL = """
WITH alike AS MATERIALIZED (SELECT name, score FROM support_search_names_like(%(term)s::text))
SELECT rows.family_id, MAX(alike.score) AS score, COUNT(*) OVER () AS total
FROM alike JOIN "{table}" rows ON rows.name = alike.name AND {where}
GROUP BY rows.family_id, rows.sort_key
ORDER BY score DESC, rows.sort_key, rows.family_id
LIMIT %(limit)s OFFSET %(offset)s
"""
# The school ids as bigint, the column's type, so the (name, school) index answers both.
_AT_SCHOOLS = 'rows."school_id" = ANY(%(schools)s::bigint[]) AND rows."school_id" IS NOT NULL'
_IN_TRUST = 'rows."school_id" IS NULL'


@lru_cache(maxsize=2)
def _ranked_sql(in_trust: bool) -> str:
    from support.models import FamilySearchName

    where = _IN_TRUST if in_trust else _AT_SCHOOLS
    return _RANKED_SQL.format(table=FamilySearchName._meta.db_table, where=where)


def _ranked(term: str, school_ids: tuple[int, ...] | None, offset: int, limit: int, using: str) -> list[dict]:
    """Families ``offset`` to ``offset + limit`` of the ranking of the names table's rows like ``term`` (at
    ``school_ids``, or the trust's rows for None): dicts of ``family_id``, ``score`` and ``total``."""
    params: dict = {"term": term, "limit": limit, "offset": offset}
    if school_ids is not None:
        params["schools"] = list(school_ids)
    with hot_cursor(using) as cursor:
        cursor.execute(_ranked_sql(school_ids is None), params)
        return [{"family_id": pk, "score": score, "total": total} for pk, score, total in cursor.fetchall()]


# The distinct names no row bears any longer (a family renamed, merged, anonymised or deleted) or held
# twice (two writers at once added it), and the names rows bear that are missing (a name a writer added
# while an earlier tidy took it away).
_TIDY_SQL = [
    'DELETE FROM "{names}" n WHERE NOT EXISTS (SELECT 1 FROM "{table}" r WHERE r.name = n.name) '
    'OR EXISTS (SELECT 1 FROM "{names}" m WHERE m.name = n.name AND m.id < n.id)',
    'INSERT INTO "{names}" (name) SELECT DISTINCT r.name FROM "{table}" r '
    'WHERE NOT EXISTS (SELECT 1 FROM "{names}" n WHERE n.name = r.name)',
]


# Every family's rows brought to exactly what ``support_family_search_rows()`` gives (writing only the rows
# that differ: 6 s and no write at 100,000 families). The triggers' refresh of one transaction cannot see
# the rows another, uncommitted, is writing for the same family: a roll deleted while the family is renamed
# can leave the renamed family's rows at that school, which a school's search would count (never show:
# a page's families are read through the scope). This bounds how long such a row can stay.
_RECONCILE_SQL = "SELECT support_family_search_refresh_many(ARRAY(SELECT id FROM support_family))"


def search_names_tidy(using: str = "default") -> tuple[int, int]:
    """Bring the names table to exactly the rows the families, pupils and rolls give, then the distinct
    names (``SearchName``) to exactly the names its rows bear, each once (PostgreSQL; elsewhere both are
    empty): (names taken away, added back). Run nightly and after the retention run, so a name that no
    family held bears is not kept, and a row two writers at once left behind not past the night."""
    from support.models import FamilySearchName, SearchName

    if connections[using].vendor != "postgresql":
        return 0, 0
    counts = []
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(_RECONCILE_SQL)
        for sql in _TIDY_SQL:
            cursor.execute(sql.format(names=SearchName._meta.db_table, table=FamilySearchName._meta.db_table))
            counts.append(cursor.rowcount)
    return counts[0], counts[1]


class _PagedRanking:
    """A search's score that can also take a page of the search itself (``page_of``), in a table that
    holds what the order needs, reading only the page's families. ``families`` (the user's, scoped) and
    ``shape`` are set by the search that made it; ``_rows`` gives a page of dicts of ``family_id``,
    ``score`` and ``total``."""

    school_ids: tuple[int, ...] | None
    families: QuerySet
    shape: tuple | None = None

    def __getstate__(self) -> dict:
        # A pickled search (a cache) keeps its score but not the short road: pickling the families'
        # queryset would fetch every family the user sees.
        state = super().__getstate__()
        state.pop("families", None)
        state.pop("shape", None)
        return state

    def _rows(self, offset: int, limit: int, using: str) -> list[dict]:
        raise NotImplementedError

    def page_of(self, queryset: QuerySet, offset: int, limit: int) -> tuple[list, int | None] | None:
        """Rows ``offset`` to ``offset + limit`` of ``queryset`` (the search this ranking scores) and
        the number of families it finds (None: not known from this page), in the queryset's own
        order; or None when the queryset has been changed since the search made it (filtered,
        ordered or annotated: then only the queryset itself knows its page)."""
        if self.shape is None or not _same_shape(_shape(queryset), self.shape):
            return None
        # No school, no row.
        ranked = self._rows(offset, limit, queryset.db) if self.school_ids is None or self.school_ids else []
        if not ranked:
            return [], (0 if offset == 0 else None)
        ids = [row["family_id"] for row in ranked]
        found = {family.pk: family for family in self.families.filter(pk__in=ids)}
        if len(found) != len(ranked):
            return None  # a row the scope refuses (never, while triggers keep the table): ask the queryset
        page = []
        for row in ranked:
            family = found[row["family_id"]]
            family.match_score = row["score"]
            page.append(family)
        return page, ranked[0]["total"]


class NameRanking(_PagedRanking, Subquery):
    """A family's name score (its best row's similarity), and the way to a page of the ranking that
    reads the names table alone: ``page_of``. At 100,000 families a two-word name ("James Jones") is
    like 4,818 of them; ordering and counting those families (each one's row read, each one's score
    looked up) was most of the search's 80 ms. The names table has the score's rows and the order's
    ``sort_key``, so the page is ranked and counted there, and only its 25 families are read."""

    output_field = FloatField()
    term: str

    def _rows(self, offset: int, limit: int, using: str) -> list[dict]:
        return _ranked(self.term, self.school_ids, offset, limit, using)


# A page of an outward code's families in the search's order (every score is 1: by sort key), each with
# the number found, from the families' ``family_postcode_area`` index alone; for school staff only
# families the names table has at their schools, which it has exactly while one of the family's pupils
# is on such a school's current roll. The prefix is a range of the pattern operators, which the index
# answers with the code as a parameter (a prepared statement's generic plan could not turn ``LIKE $1``
# into a range).
# Gathered first (MATERIALIZED), then ordered: counting needs every row anyway, and with the order and limit
# in one step PostgreSQL walked the whole sort-key index instead (93 ms, not 5).
_AREA_SQL = """
WITH area AS MATERIALIZED (
    SELECT f.id, f.carer_sort_key FROM "{family}" f
    WHERE f.postcode ~>=~ %(low)s::text AND f.postcode ~<~ %(high)s::text AND f.merged_into_id IS NULL{scope}
)
SELECT id, COUNT(*) OVER () AS total FROM area
ORDER BY carer_sort_key, id
LIMIT %(limit)s OFFSET %(offset)s
"""
_AREA_SCOPE = (
    ' AND f.id IN (SELECT family_id FROM "{names}" WHERE school_id = ANY(%(schools)s::bigint[]) '
    "AND school_id IS NOT NULL)"
)


@lru_cache(maxsize=2)
def _area_sql(in_trust: bool) -> str:
    from support.models import Family, FamilySearchName

    scope = "" if in_trust else _AREA_SCOPE.format(names=FamilySearchName._meta.db_table)
    return _AREA_SQL.format(family=Family._meta.db_table, scope=scope)


def _area(code: str, school_ids: tuple[int, ...] | None, offset: int, limit: int, using: str) -> list[dict]:
    """Families ``offset`` to ``offset + limit`` of those whose postcode is in the outward code ``code``
    (at ``school_ids``, or the whole trust for None), by sort key: dicts of ``family_id``, ``score`` (1)
    and ``total``."""
    # "RV7 " up to, not including, "RV7!": every postcode that starts "RV7 " and nothing else.
    params: dict = {"low": f"{code} ", "high": f"{code}!", "limit": limit, "offset": offset}
    if school_ids is not None:
        params["schools"] = list(school_ids)
    with hot_cursor(using) as cursor:
        cursor.execute(_area_sql(school_ids is None), params)
        return [{"family_id": pk, "score": 1.0, "total": total} for pk, total in cursor.fetchall()]


class AreaRanking(_PagedRanking, Value):
    """An outward code's score (1 for every family, as any identifier's), and the way to a page of its
    families from the postcode index (``page_of``): in ``RV7`` a trust of 100,000 families has 5,179,
    470 of them at one school; fetching each and checking its pupils' rolls was most of the search."""

    code: str

    def _rows(self, offset: int, limit: int, using: str) -> list[dict]:
        return _area(self.code, self.school_ids, offset, limit, using)


def _area_in_scope(families: QuerySet, found: Q, code: str, school_ids: list[int] | None) -> QuerySet:
    """``families`` (the user's) narrowed by ``found`` to those in the outward code ``code``, scored 1
    each, its page taken by an ``AreaRanking`` (PostgreSQL). A page's families are read through
    ``families``, so its scope filter has the last word."""
    ranked = families.filter(found).annotate(match_score=AreaRanking(1.0, output_field=FloatField()))
    ranking = ranked.query.annotations["match_score"]
    ranking.code, ranking.families = code, families
    ranking.school_ids = None if school_ids is None else tuple(school_ids)
    ranking.shape = _shape(ranked)
    return ranked


def _shape(queryset: QuerySet) -> tuple:
    """What a queryset asks, as far as its page goes: its filters (the very objects: a filter added
    since adds one), order, annotations, slicing and what it fetches with each row."""
    query = queryset.query
    return _leaves(query.where), (
        tuple(query.order_by),
        tuple(query.annotations),
        query.distinct,
        query.distinct_fields,
        query.low_mark,
        query.high_mark,
        query.values_select,
        query.combinator,
        query.select_for_update,
        str(query.select_related),
        tuple(map(str, queryset._prefetch_related_lookups)),
        queryset._iterable_class,
    )


def _same_shape(one: tuple, other: tuple) -> bool:
    (leaves, rest), (other_leaves, other_rest) = one, other
    if len(leaves) != len(other_leaves) or rest != other_rest:
        return False
    return all(a is b for a, b in zip(leaves, other_leaves, strict=True))


def _leaves(node) -> tuple:
    # A queryset's clones copy its WHERE tree but share its leaves (lookups and expressions), so the
    # very same leaves mean the very same filters.
    found: list = []
    for child in getattr(node, "children", ()):
        found.extend(_leaves(child) if hasattr(child, "children") else [child])
    return tuple(found)
