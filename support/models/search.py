"""The names a family is found by, per school it is visible through and for the whole trust
(PostgreSQL only).

One row per (family, school, name): the lead carer's name key and each pupil's names, for every school
whose current roll holds one of the family's pupils; and one row per (family, name) with no school, for
the trust admin, who sees every family and every pupil, on a roll or not. Each row carries the family's
``carer_sort_key``, so a search is ranked, counted and paged in this table alone and only the page's
families are read (``support.search``): a school's staff search their schools' rows
(``family_search_school_name``, a GIN index of the school and the name's trigrams, ``btree_gin``), the
admin the trust's rows (``family_search_trust_name``). A school's row exists only through a current
roll, so a pupil at another school, a roll left, or a family merged away never matches.

The rows are the database's: triggers on families, pupils and rolls keep them (support's migrations
"family_search_names", "family_search_trust_names" and "family_search_statement_triggers": inserts and
deletes once per statement, updates once per row), all from one SQL function,
``support_family_search_rows()``; nothing in Python writes them. On SQLite the table stays empty and
``support.search`` scores the scoped families in Python as before.
"""

from django.db import models

# Every family's rows again, from scratch (PostgreSQL), and the distinct names: for a bulk load that ran
# with triggers off (bench/scale.py). The same rows as the triggers' refresh and the migration's fill.
REFILL_SQL = [
    "TRUNCATE support_familysearchname, support_searchname",
    "INSERT INTO support_familysearchname (family_id, school_id, name, sort_key) "
    "SELECT family_id, school_id, name, sort_key FROM support_family_search_rows()",
    # The distinct names too: the names table's trigger that adds them is off with the others.
    "INSERT INTO support_searchname (name) SELECT DISTINCT name FROM support_familysearchname",
]


class FamilySearchName(models.Model):
    # No foreign key constraints and no Python-side cascade: the triggers own these rows.
    family = models.ForeignKey(
        "support.Family", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    # None: the trust's row (every pupil of the family, on a roll or not), which only the admin searches.
    school = models.ForeignKey(
        "support.School",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        db_index=False,
        null=True,
    )
    # A pupil's three names of up to 100 characters each, with the two spaces between them.
    name = models.CharField(max_length=302)
    # The family's carer_sort_key, the search's order after the score.
    sort_key = models.CharField(max_length=241, default="")

    class Meta:
        default_permissions = ()
        indexes = [
            # The rows of the names a search found (``SearchName``), for a school's or the trust's rows.
            # The family and the order's key in the index too: the rows are read from it alone.
            models.Index(
                fields=["name", "school"], name="family_search_name_school", include=["family", "sort_key"]
            ),
            # The families visible through some schools, read whole (an outward code's search checks its
            # families against them: support.search.AreaRanking).
            models.Index(
                fields=["school", "family"],
                name="family_search_school_family",
                condition=models.Q(school__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SearchName(models.Model):
    """Every distinct name of the names table, once (PostgreSQL only): a name search looks the term up
    here, by a trigram GIN index of a few thousand names, then reads the rows of the names it found, so
    the index's recheck scores each name once instead of every row that bears it ("James Jones" is 152
    names but 7,380 of the trust's rows at 100,000 families).

    A statement trigger on the names table adds each name it does not hold yet (support's migrations
    "search_names" and "search_names_no_wait"). The name is not unique, so that no writer ever waits
    for another: two transactions adding the same new name would otherwise queue on the unique index
    (and, adding two such names in opposite orders, deadlock), though they share no row. Two writers at
    once may add a name twice; a search groups by family, so a second copy changes nothing found.
    Nothing deletes a name there: ``support.search.search_names_tidy`` (nightly, and after the
    retention run anonymises families) takes away each name no row bears and each second copy, and
    adds back any name missing, so a name of a family that is no longer held is not kept past the
    next night."""

    name = models.CharField(max_length=302)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return self.name
