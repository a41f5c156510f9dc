"""What support's migrations share: SQL that runs on PostgreSQL only (indexes, functions, triggers).

Its name starts with "_", so Django's migration loader does not take it for a migration."""

from django.db import migrations


def postgresql_only(forward: list[str], reverse: list[str]) -> migrations.RunPython:
    """A step that runs ``forward``'s statements in order on PostgreSQL, and ``reverse``'s when migrating
    back; on any other database it does nothing."""

    def statements_of(sql: list[str]):
        def run(apps, schema_editor):
            if schema_editor.connection.vendor != "postgresql":
                return
            for statement in sql:
                schema_editor.execute(statement)

        return run

    return migrations.RunPython(statements_of(forward), statements_of(reverse), elidable=False)
