"""Every distinct name of the names table once (``SearchName``), which a name search looks its term up in
(PostgreSQL only for the index, the trigger and the fill).

"James Jones" is like 7,380 of the trust's rows at 100,000 families but only 152 distinct names: the
names table's trigram index rechecked every one of those rows (22 of the search's 31 ms). A GIN index
over the distinct names (5,546 for 533,000 rows) rechecks each name once; the rows of the names found
are then read by ``family_search_name_school`` (name, school).

A statement trigger on the names table's inserts and updates adds their new names, in name order (so
two writers adding the same new names take them in the same order and never wait on each other in a
circle); a name already there is left as it is, with no lock, so writers of existing names never wait
at all. Nothing here deletes a name: ``support.search.search_names_tidy`` does (nightly and after the
retention run)."""

from django.db import migrations, models

from support.migrations._postgresql import postgresql_only

ADD_NAMES_FUNCTION = """
CREATE OR REPLACE FUNCTION support_search_name_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO support_searchname (name)
    SELECT DISTINCT a.name FROM added a ORDER BY a.name
    ON CONFLICT (name) DO NOTHING;
    RETURN NULL;
END;
$$
"""

# The names like a term, each with its score. A function so that it can say how to read them: with the
# seq scan off. pg_trgm prices its operator as any other, so for a two-word term the planner chose to
# score all 5,546 names one by one (11 ms) over the GIN index (under 1 ms). ROWS: a term is like tens or
# hundreds of names, and each is looked up in the names table by its index. ("%%" is "%" once the
# migration runs the statement.)
NAMES_LIKE_FUNCTION = """
CREATE OR REPLACE FUNCTION support_search_names_like(term text) RETURNS TABLE (name varchar, score real)
LANGUAGE sql STABLE ROWS 100 SET enable_seqscan = off AS $$
    SELECT n.name, word_similarity(term, n.name) FROM support_searchname n WHERE n.name %%> term
$$
"""

FORWARD = [
    "CREATE INDEX search_name_trgm ON support_searchname USING gin (name gin_trgm_ops)",
    NAMES_LIKE_FUNCTION,
    ADD_NAMES_FUNCTION,
    "CREATE TRIGGER search_name_on_insert AFTER INSERT ON support_familysearchname "
    "REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION support_search_name_add()",
    "CREATE TRIGGER search_name_on_update AFTER UPDATE ON support_familysearchname "
    "REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION support_search_name_add()",
    "INSERT INTO support_searchname (name) SELECT DISTINCT name FROM support_familysearchname ORDER BY name "
    "ON CONFLICT (name) DO NOTHING",
]

REVERSE = [
    "DROP FUNCTION IF EXISTS support_search_names_like(text)",
    "DROP TRIGGER IF EXISTS search_name_on_update ON support_familysearchname",
    "DROP TRIGGER IF EXISTS search_name_on_insert ON support_familysearchname",
    "DROP FUNCTION IF EXISTS support_search_name_add()",
    "DROP INDEX IF EXISTS search_name_trgm",
]


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0028_search_area_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchName",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=302, unique=True)),
            ],
            options={
                "default_permissions": (),
            },
        ),
        migrations.AddIndex(
            model_name="familysearchname",
            index=models.Index(
                fields=["name", "school"], name="family_search_name_school", include=("family", "sort_key")
            ),
        ),
        postgresql_only(FORWARD, REVERSE),
    ]
