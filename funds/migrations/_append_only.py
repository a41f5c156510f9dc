"""What funds' migrations share: the triggers that make a table append-only (UPDATE and DELETE refused), on
PostgreSQL through support's ``support_append_only_refuse()`` (support 0005), on SQLite with ``RAISE``.

Its name starts with "_", so Django's migration loader does not take it for a migration."""

OPS = ("update", "delete")


def refuse_changes(schema_editor, table: str) -> None:
    for op in OPS:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_{op} BEFORE {op.upper()} ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION support_append_only_refuse();",
                params=None,
            )
        else:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_{op} BEFORE {op.upper()} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only ({op.upper()} refused)'); END;"
            )


def allow_changes(schema_editor, table: str) -> None:
    for op in OPS:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op} ON {table};", params=None)
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op};")
