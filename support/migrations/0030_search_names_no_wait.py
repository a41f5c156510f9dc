"""The search's distinct names (``SearchName``) lose their unique index, so that no writer ever waits for
another (PostgreSQL only for the trigger).

With the name unique, the names table's trigger (``INSERT ... ON CONFLICT (name) DO NOTHING``) made a
transaction that adds a new name wait for any other that had added the same name and not yet committed
(a pupil import waits for another school's import of the same family), and two transactions that each
added two such names, in opposite statements, deadlocked: they shared no row before that migration.
The trigger now adds only the names not held yet, with no lock on the index; two writers at once may
add one name twice, which a search does not notice (it groups by family) and the nightly tidy takes
away (``support.search.search_names_tidy``).

The name's lookups (the trigger's, the tidy's) go by a hash index, not a B-tree: ``support_search_names_like``
turns the sequential scan off to keep the planner on the trigram index, and with a B-tree on the name
(the unique index's, before) the planner read that whole B-tree instead and scored every name (19 ms
for "james jones" over the demo's 4,689 names, against 5 ms by the trigram index). A hash index
answers only ``=``, so it is no way to read every name."""

from django.db import migrations, models

from support.migrations._postgresql import postgresql_only

ADD_NAMES_FUNCTION = """
CREATE OR REPLACE FUNCTION support_search_name_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO support_searchname (name)
    SELECT DISTINCT a.name FROM added a
    WHERE NOT EXISTS (SELECT 1 FROM support_searchname n WHERE n.name = a.name);
    RETURN NULL;
END;
$$
"""

# Back to 0029's: each name once (a second copy taken away first, for the unique index), added in name
# order with ON CONFLICT.
ADD_NAMES_ON_CONFLICT_FUNCTION = """
CREATE OR REPLACE FUNCTION support_search_name_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO support_searchname (name)
    SELECT DISTINCT a.name FROM added a ORDER BY a.name
    ON CONFLICT (name) DO NOTHING;
    RETURN NULL;
END;
$$
"""

FORWARD = [
    "CREATE INDEX search_name_name ON support_searchname USING hash (name)",
    ADD_NAMES_FUNCTION,
]
REVERSE = [
    "DROP INDEX IF EXISTS search_name_name",
    "DELETE FROM support_searchname n WHERE EXISTS "
    "(SELECT 1 FROM support_searchname m WHERE m.name = n.name AND m.id < n.id)",
    ADD_NAMES_ON_CONFLICT_FUNCTION,
]


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0029_search_names"),
    ]

    operations = [
        migrations.AlterField(
            model_name="searchname",
            name="name",
            field=models.CharField(max_length=302),
        ),
        postgresql_only(FORWARD, REVERSE),
    ]
