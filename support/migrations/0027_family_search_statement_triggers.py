"""The names table's triggers on inserts and deletes: once per statement, planned as the tables are
now, writing only the rows that change (PostgreSQL only).

Seeding the demo (4,000 families, bulk-created) took over a minute on PostgreSQL, and several in CI,
against under ten seconds with these triggers off; with this migration it takes a few seconds more
than with them off. Where the time went:

- The refresh's statements were planned once per connection, usually while the tables were still empty
  (the first family of a bulk load, or of a test), and that plan read every pupil and roll again for
  each family after it. ``support_family_search_refresh_many`` plans each call (``plan_cache_mode =
  force_custom_plan``) with the families' ids and the tables as they are.
- A refresh deleted all of a family's rows and wrote them again, and the inserts of families, pupils
  and rolls ran it once per row: a family with two pupils on rolls wrote its names about seventeen
  times, each row's trigrams into two GIN indexes, to keep six. The new refresh deletes only the rows
  ``support_family_search_rows()`` no longer gives (and any second copy of a row) and inserts only
  the missing ones.
- Inserts and deletes of families, pupils and rolls refresh once per statement: all the families of
  the statement's transition table in one set-based refresh. A row trigger already ran at the end of
  its statement and read the tables as the statement left them, so the rows written are the same.

Updates keep their row triggers and their refresh (``support_family_search_refresh``): they name the
columns that matter and fire only when one changes, and for one family at a time the old refresh,
planned once, is the cheaper (planning the set-based one for each row of a 1,000-row update made it
several times slower at 100,000 families).

The table holds the same rows as before after every change; only the surrogate ids of rows that stay
no longer change (nothing reads them)."""

from django.db import migrations

from support.migrations._postgresql import postgresql_only

# Brings the given families' rows to exactly support_family_search_rows(): the rows it no longer gives,
# and any second copy of a row, are deleted; the missing ones inserted; the rest left alone. Every step
# is a join the planner can hash, so a statement of thousands of families stays linear. Planned at each
# call (force_custom_plan), with the ids and the tables as they are: a plan cached
# while the tables were empty (the first statement of a bulk load, or of a test) read every pupil and
# roll once per family ever after.
REFRESH_MANY_FUNCTION = """
CREATE OR REPLACE FUNCTION support_family_search_refresh_many(fids bigint[]) RETURNS void
LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $$
BEGIN
    IF fids IS NULL OR cardinality(fids) = 0 THEN
        RETURN;
    END IF;
    WITH wanted AS MATERIALIZED (
        SELECT r.family_id, r.school_id, r.name, r.sort_key FROM support_family_search_rows() r
        WHERE r.family_id = ANY (fids)
    ), had AS MATERIALIZED (
        SELECT s.id, s.family_id, s.school_id, s.name, s.sort_key,
               row_number() OVER (PARTITION BY s.family_id, s.school_id, s.name, s.sort_key ORDER BY s.id)
                   AS copy
        FROM support_familysearchname s WHERE s.family_id = ANY (fids)
    ), unwanted AS (
        DELETE FROM support_familysearchname s
        WHERE s.id IN (
            SELECT h.id FROM had h
            WHERE NOT EXISTS (
                SELECT 1 FROM wanted w
                WHERE w.family_id = h.family_id AND w.name = h.name AND w.sort_key = h.sort_key
                  AND w.school_id IS NOT DISTINCT FROM h.school_id
            )
            UNION ALL
            SELECT h.id FROM had h WHERE h.copy > 1
        )
    )
    INSERT INTO support_familysearchname (family_id, school_id, name, sort_key)
    SELECT w.family_id, w.school_id, w.name, w.sort_key FROM wanted w
    WHERE NOT EXISTS (
        SELECT 1 FROM had h
        WHERE h.family_id = w.family_id AND h.name = w.name AND h.sort_key = w.sort_key
          AND h.school_id IS NOT DISTINCT FROM w.school_id
    );
END $$
"""

# One function per table for its statement triggers; ``changed`` is the statement's transition table
# (the new rows of an INSERT, the old rows of a DELETE).
ON_FAMILY_ROWS_FUNCTION = """
CREATE OR REPLACE FUNCTION support_family_search_on_family_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM support_familysearchname WHERE family_id IN (SELECT id FROM changed);
    ELSE
        PERFORM support_family_search_refresh_many(ARRAY(SELECT DISTINCT id FROM changed));
    END IF;
    RETURN NULL;
END $$
"""

ON_PUPIL_ROWS_FUNCTION = """
CREATE OR REPLACE FUNCTION support_family_search_on_pupil_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM support_family_search_refresh_many(
        ARRAY(SELECT DISTINCT family_id FROM changed WHERE family_id IS NOT NULL));
    RETURN NULL;
END $$
"""

ON_ENROLMENT_ROWS_FUNCTION = """
CREATE OR REPLACE FUNCTION support_family_search_on_enrolment_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM support_family_search_refresh_many(ARRAY(
        SELECT DISTINCT p.family_id FROM changed c JOIN support_pupil p ON p.id = c.pupil_id
        WHERE p.family_id IS NOT NULL));
    RETURN NULL;
END $$
"""

ROW_TRIGGERS = [
    ("family_search_on_family_insert", "support_family"),
    ("family_search_on_family_delete", "support_family"),
    ("family_search_on_pupil_insert", "support_pupil"),
    ("family_search_on_pupil_delete", "support_pupil"),
    ("family_search_on_enrolment_change", "support_enrolment"),
]


def _statement_trigger(name: str, event: str, table: str, function: str) -> str:
    transition = "NEW" if event == "INSERT" else "OLD"
    return (
        f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {transition} TABLE AS changed "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
    )


STATEMENT_SQL = [
    REFRESH_MANY_FUNCTION,
    ON_FAMILY_ROWS_FUNCTION,
    ON_PUPIL_ROWS_FUNCTION,
    ON_ENROLMENT_ROWS_FUNCTION,
    *(f"DROP TRIGGER IF EXISTS {name} ON {table}" for name, table in ROW_TRIGGERS),
    _statement_trigger(
        "family_search_on_family_insert", "INSERT", "support_family", "support_family_search_on_family_rows"
    ),
    _statement_trigger(
        "family_search_on_family_delete", "DELETE", "support_family", "support_family_search_on_family_rows"
    ),
    _statement_trigger(
        "family_search_on_pupil_insert", "INSERT", "support_pupil", "support_family_search_on_pupil_rows"
    ),
    _statement_trigger(
        "family_search_on_pupil_delete", "DELETE", "support_pupil", "support_family_search_on_pupil_rows"
    ),
    _statement_trigger(
        "family_search_on_enrolment_insert",
        "INSERT",
        "support_enrolment",
        "support_family_search_on_enrolment_rows",
    ),
    _statement_trigger(
        "family_search_on_enrolment_delete",
        "DELETE",
        "support_enrolment",
        "support_family_search_on_enrolment_rows",
    ),
]

# Back to 0024's row triggers.
ROW_SQL = [
    "DROP TRIGGER IF EXISTS family_search_on_enrolment_delete ON support_enrolment",
    "DROP TRIGGER IF EXISTS family_search_on_enrolment_insert ON support_enrolment",
    "DROP TRIGGER IF EXISTS family_search_on_pupil_delete ON support_pupil",
    "DROP TRIGGER IF EXISTS family_search_on_pupil_insert ON support_pupil",
    "DROP TRIGGER IF EXISTS family_search_on_family_delete ON support_family",
    "DROP TRIGGER IF EXISTS family_search_on_family_insert ON support_family",
    "CREATE TRIGGER family_search_on_family_insert AFTER INSERT ON support_family "
    "FOR EACH ROW EXECUTE FUNCTION support_family_search_on_family()",
    "CREATE TRIGGER family_search_on_family_delete AFTER DELETE "
    "ON support_family FOR EACH ROW EXECUTE FUNCTION support_family_search_on_family()",
    "CREATE TRIGGER family_search_on_pupil_insert AFTER INSERT ON support_pupil "
    "FOR EACH ROW EXECUTE FUNCTION support_family_search_on_pupil()",
    "CREATE TRIGGER family_search_on_pupil_delete AFTER DELETE "
    "ON support_pupil FOR EACH ROW EXECUTE FUNCTION support_family_search_on_pupil()",
    "CREATE TRIGGER family_search_on_enrolment_change AFTER INSERT OR DELETE "
    "ON support_enrolment FOR EACH ROW EXECUTE FUNCTION support_family_search_on_enrolment()",
    "DROP FUNCTION IF EXISTS support_family_search_on_enrolment_rows()",
    "DROP FUNCTION IF EXISTS support_family_search_on_pupil_rows()",
    "DROP FUNCTION IF EXISTS support_family_search_on_family_rows()",
    "DROP FUNCTION IF EXISTS support_family_search_refresh_many(bigint[])",
]


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0026_drop_pupil_name_trgm"),
    ]

    operations = [
        postgresql_only(STATEMENT_SQL, ROW_SQL),
    ]
