import django.db.models.deletion
from django.db import migrations, models

# PostgreSQL only. The names table gains the trust's own rows (``school_id`` NULL): every family's
# carer name and each of its pupils' names, on a roll or not, for a whole-trust search (a trust admin),
# answered by a partial trigram index of those rows alone. A school's rows are unchanged, so school
# staff still find a name only through their schools' current rolls.
# A school's rows (as before) and the trust's; ``{family}`` narrows them to one family.
SCHOOL_ROWS = """
    SELECT DISTINCT f.id, e.school_id, n.name
    FROM support_family f
    JOIN support_pupil p ON p.family_id = f.id
    JOIN support_enrolment e ON e.pupil_id = p.id AND e.left_on IS NULL
    CROSS JOIN LATERAL (
        VALUES (f.carer_name_key), (p.preferred_forename || ' ' || p.legal_forename || ' ' || p.surname)
    ) AS n(name)
    WHERE f.merged_into_id IS NULL {family}
"""
TRUST_ROWS = """
    SELECT DISTINCT f.id, NULL::bigint, n.name
    FROM support_family f
    LEFT JOIN support_pupil p ON p.family_id = f.id
    CROSS JOIN LATERAL (
        VALUES (f.carer_name_key), (p.preferred_forename || ' ' || p.legal_forename || ' ' || p.surname)
    ) AS n(name)
    WHERE f.merged_into_id IS NULL AND n.name IS NOT NULL {family}
"""
INSERT = "INSERT INTO support_familysearchname (family_id, school_id, name) "

REFRESH = """
    CREATE OR REPLACE FUNCTION support_family_search_refresh(fid bigint) RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
        IF fid IS NULL THEN
            RETURN;
        END IF;
        DELETE FROM support_familysearchname WHERE family_id = fid;
        {rows};
    END $$
"""

PREVIOUS_ROWS = """
        INSERT INTO support_familysearchname (family_id, school_id, name)
        SELECT DISTINCT f.id, e.school_id, n.name
        FROM support_family f
        JOIN support_pupil p ON p.family_id = f.id
        JOIN support_enrolment e ON e.pupil_id = p.id AND e.left_on IS NULL
        CROSS JOIN LATERAL (
            VALUES (f.carer_name_key),
                   (p.preferred_forename || ' ' || p.legal_forename || ' ' || p.surname)
        ) AS n(name)
        WHERE f.id = fid AND f.merged_into_id IS NULL
"""

PUPIL_TRIGGER_FUNCTION = """
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

PREVIOUS_PUPIL_TRIGGER_FUNCTION = """
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
"""

TRUST_SQL = [
    REFRESH.format(
        rows=INSERT
        + SCHOOL_ROWS.format(family="AND f.id = fid")
        + " UNION ALL "
        + TRUST_ROWS.format(family="AND f.id = fid")
    ),
    PUPIL_TRIGGER_FUNCTION,
    # A new family or pupil is in the trust's rows at once, before any roll.
    "CREATE TRIGGER family_search_on_family_insert AFTER INSERT "
    "ON support_family FOR EACH ROW EXECUTE FUNCTION support_family_search_on_family()",
    "CREATE TRIGGER family_search_on_pupil_insert AFTER INSERT "
    "ON support_pupil FOR EACH ROW EXECUTE FUNCTION support_family_search_on_pupil()",
    "CREATE INDEX IF NOT EXISTS family_search_trust_name ON support_familysearchname "
    "USING gin (name gin_trgm_ops) WHERE school_id IS NULL",
    # The trust's rows of the families already there.
    INSERT + TRUST_ROWS.format(family=""),
]

TRUST_REVERSE_SQL = [
    "DELETE FROM support_familysearchname WHERE school_id IS NULL",
    "DROP INDEX IF EXISTS family_search_trust_name",
    "DROP TRIGGER IF EXISTS family_search_on_pupil_insert ON support_pupil",
    "DROP TRIGGER IF EXISTS family_search_on_family_insert ON support_family",
    PREVIOUS_PUPIL_TRIGGER_FUNCTION,
    REFRESH.format(rows=PREVIOUS_ROWS),
]


def _on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0023_family_search_names"),
    ]

    operations = [
        migrations.AlterField(
            model_name="familysearchname",
            name="family",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="search_names",
                to="support.family",
            ),
        ),
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
        migrations.RunPython(_on_postgresql(TRUST_SQL), _on_postgresql(TRUST_REVERSE_SQL)),
    ]
