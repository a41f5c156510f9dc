"""The names a family is found by, per school it is visible through (PostgreSQL only).

One row per (family, school, name): the lead carer's name key and each pupil's names, for every school
whose current roll holds one of the family's pupils. A school's staff search is then one trigram query
over their schools' rows (``family_search_school_name``, a GIN index of the school and the name's
trigrams, ``btree_gin``), rather than every family of the trust that looks like the name checked
against their rolls. A row exists only through a current roll, so a pupil at another school, a roll
left, or a family merged away never matches.

The rows are the database's: triggers on families, pupils and rolls keep them (support's migration
"family_search_names"); nothing in Python writes them. On SQLite the table stays empty and
``support.search`` scores the scoped families in Python as before.
"""

from django.db import models

# Every family's rows again, from scratch (PostgreSQL): for a bulk load that ran with triggers off
# (bench/scale.py). The same query as the triggers' refresh and the migration's first fill.
REFILL_SQL = [
    "TRUNCATE support_familysearchname",
    """
    INSERT INTO support_familysearchname (family_id, school_id, name)
    SELECT DISTINCT f.id, e.school_id, n.name
    FROM support_family f
    JOIN support_pupil p ON p.family_id = f.id
    JOIN support_enrolment e ON e.pupil_id = p.id AND e.left_on IS NULL
    CROSS JOIN LATERAL (
        VALUES (f.carer_name_key), (p.preferred_forename || ' ' || p.legal_forename || ' ' || p.surname)
    ) AS n(name)
    WHERE f.merged_into_id IS NULL
    """,
]


class FamilySearchName(models.Model):
    # No foreign key constraints and no Python-side cascade: the triggers own these rows.
    family = models.ForeignKey(
        "support.Family", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    school = models.ForeignKey(
        "support.School", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", db_index=False
    )
    name = models.CharField(max_length=241)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return self.name
