"""The names table gains the trust's rows (no school: every family's carer and every pupil, on a roll or
not, which the trust admin searches) and each row the family's ``carer_sort_key``, so that a search is
ranked, counted and paged in this table alone (support.search). PostgreSQL only, like the table's rows.

Every row now comes from one SQL function, ``support_family_search_rows()``: the triggers' refresh, this
migration's fill and bench/scale.py's refill (support.models.search.REFILL_SQL) all read it. It is a
plain SQL function, so PostgreSQL inlines it and a refresh reads only its own family's rows."""

import django.db.models.deletion
from django.db import migrations, models

from support.migrations._postgresql import postgresql_only

# The pupil's name is spelt exactly as support.search.PupilNameText spells it.
ROWS_FUNCTION = """
CREATE OR REPLACE FUNCTION support_family_search_rows()
RETURNS TABLE (family_id bigint, school_id bigint, name text, sort_key text)
LANGUAGE sql STABLE AS $$
    SELECT f.id, e.school_id, n.name, f.carer_sort_key
    FROM support_family f
    JOIN support_pupil p ON p.family_id = f.id
    JOIN support_enrolment e ON e.pupil_id = p.id AND e.left_on IS NULL
    CROSS JOIN LATERAL (
        VALUES (f.carer_name_key::text), (p.preferred_forename || ' ' || p.legal_forename || ' ' || p.surname)
    ) AS n(name)
    WHERE f.merged_into_id IS NULL
    UNION
    SELECT f.id, NULL, f.carer_name_key, f.carer_sort_key
    FROM support_family f
    WHERE f.merged_into_id IS NULL
    UNION
    SELECT f.id, NULL, p.preferred_forename || ' ' || p.legal_forename || ' ' || p.surname, f.carer_sort_key
    FROM support_family f
    JOIN support_pupil p ON p.family_id = f.id
    WHERE f.merged_into_id IS NULL
$$
"""

REFRESH_FUNCTION = """
CREATE OR REPLACE FUNCTION support_family_search_refresh(fid bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF fid IS NULL THEN
        RETURN;
    END IF;
    DELETE FROM support_familysearchname WHERE family_id = fid;
    INSERT INTO support_familysearchname (family_id, school_id, name, sort_key)
    SELECT r.family_id, r.school_id, r.name, r.sort_key FROM support_family_search_rows() r
    WHERE r.family_id = fid;
END $$
"""

# A new pupil is in the trust's rows at once (its rolls' rows follow its enrolments, as before).
ON_PUPIL_FUNCTION = """
CREATE OR REPLACE FUNCTION support_family_search_on_pupil() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM support_family_search_refresh(OLD.family_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.family_id IS DISTINCT FROM OLD.family_id) THEN
        PERFORM support_family_search_refresh(NEW.family_id);
    END IF;
    RETURN NULL;
END $$
"""

TRUST_SQL = [
    ROWS_FUNCTION,
    REFRESH_FUNCTION,
    ON_PUPIL_FUNCTION,
    "DROP INDEX IF EXISTS family_search_school_name",
    "TRUNCATE support_familysearchname",
    "INSERT INTO support_familysearchname (family_id, school_id, name, sort_key) "
    "SELECT family_id, school_id, name, sort_key FROM support_family_search_rows()",
    # Each kind of row its own index: the trust's rows would double every trigram list a school reads.
    "CREATE INDEX family_search_school_name ON support_familysearchname "
    "USING gin (school_id, name gin_trgm_ops) WHERE school_id IS NOT NULL",
    "CREATE INDEX family_search_trust_name ON support_familysearchname "
    "USING gin (name gin_trgm_ops) WHERE school_id IS NULL",
    # A family has its carer's row from the start, with or without pupils.
    "CREATE TRIGGER family_search_on_family_insert AFTER INSERT ON support_family "
    "FOR EACH ROW EXECUTE FUNCTION support_family_search_on_family()",
    "CREATE TRIGGER family_search_on_pupil_insert AFTER INSERT ON support_pupil "
    "FOR EACH ROW EXECUTE FUNCTION support_family_search_on_pupil()",
    "ANALYZE support_familysearchname",
]

TRUST_REVERSE_SQL = [
    "DROP TRIGGER IF EXISTS family_search_on_pupil_insert ON support_pupil",
    "DROP TRIGGER IF EXISTS family_search_on_family_insert ON support_family",
    "DROP INDEX IF EXISTS family_search_trust_name",
    "DROP INDEX IF EXISTS family_search_school_name",
    "DELETE FROM support_familysearchname WHERE school_id IS NULL",
    "CREATE INDEX family_search_school_name ON support_familysearchname "
    "USING gin (school_id, name gin_trgm_ops)",
    """
    CREATE OR REPLACE FUNCTION support_family_search_on_pupil() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            PERFORM support_family_search_refresh(OLD.family_id);
        END IF;
        IF TG_OP = 'UPDATE' AND NEW.family_id IS DISTINCT FROM OLD.family_id THEN
            PERFORM support_family_search_refresh(NEW.family_id);
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION support_family_search_refresh(fid bigint) RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
        IF fid IS NULL THEN
            RETURN;
        END IF;
        DELETE FROM support_familysearchname WHERE family_id = fid;
        INSERT INTO support_familysearchname (family_id, school_id, name)
        SELECT DISTINCT f.id, e.school_id, n.name
        FROM support_family f
        JOIN support_pupil p ON p.family_id = f.id
        JOIN support_enrolment e ON e.pupil_id = p.id AND e.left_on IS NULL
        CROSS JOIN LATERAL (
            VALUES (f.carer_name_key),
                   (p.preferred_forename || ' ' || p.legal_forename || ' ' || p.surname)
        ) AS n(name)
        WHERE f.id = fid AND f.merged_into_id IS NULL;
    END $$
    """,
    "DROP FUNCTION IF EXISTS support_family_search_rows()",
]


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0023_family_search_names"),
    ]

    operations = [
        migrations.AlterField(
            model_name="familysearchname",
            name="school",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="support.school",
            ),
        ),
        migrations.AddField(
            model_name="familysearchname",
            name="sort_key",
            field=models.CharField(default="", max_length=241),
        ),
        postgresql_only(TRUST_SQL, TRUST_REVERSE_SQL),
    ]
