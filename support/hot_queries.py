"""The counter's hot reads, compiled by the ORM once per database connection and then only executed.

Compiling a queryset to SQL (``SQLCompiler.as_sql``: joins, the select list, annotations, the
``Exists`` subquery) was about a third of a voucher check's Python time, repeated on every request for
SQL that differs only in its parameters. ``hot_query`` keeps the ORM the one author of the SQL and of
the rows: the first call for a shape builds the queryset with marker values for its arguments, lets the
ORM compile it, and remembers the SQL, where each argument lands among the parameters, and how the ORM
turns a row into model instances (the select list, ``select_related`` populators, annotations and
converters). Later calls put the arguments in place, execute, and build the instances as
``ModelIterable`` does (or, for a ``.values()`` queryset such as a grouped sum, the dicts
``ValuesIterable`` does). A shape is the number of values of each sequence argument (``IN (%s, %s)``).

The cache lives on the connection object (one per thread and database alias), so it follows the
database's vendor and never crosses threads. Only plain parameters (equality, comparison, ``IN``, a whole
tuple as one array) can be marked: ints, strings and aware datetimes (adapted for the database as the ORM
adapts them), each in as many places as the SQL has it; an argument the ORM rewrites (``LIKE`` patterns,
dates) is refused when the query is first compiled.

On PostgreSQL the statements go through ``hot_cursor``: prepared on the server, so PostgreSQL parses and
plans each once per connection too (planning the counter's lookup took it three times as long as running
it). Hand-written hot statements (the redeem, the idempotency record) use the same cursor.
"""

import datetime
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.backends.utils import CursorWrapper
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, ValuesIterable, get_related_populators
from django.db.transaction import TransactionManagementError

_ATTR = "_support_hot_queries"
_INT_MARK = -(10**15)  # marker ints: far from any primary key
_DATETIME_MARK = datetime.datetime(1901, 2, 3, 4, 5, 6, 789, tzinfo=datetime.UTC)  # far from any row's time


ARRAY = "array"  # a slot that takes a whole sequence argument, as one array parameter


@dataclass
class _Compiled:
    sql: str
    params: list
    slots: list[tuple[int, int, int | str | None]]  # (parameter index, argument index, element or ARRAY)
    compiler: Any
    converters: dict
    col_count: int | None  # trim the ORM's extra columns (e.g. for ordering), as execute_sql does
    names: list[str] | None = None  # a .values() queryset: each row a dict of these
    locks: bool = False  # SELECT ... FOR UPDATE: refused outside a transaction, as the ORM refuses it
    model: type[Model] | None = None
    init_list: list[str] | None = None
    fields: slice | None = None
    populators: list | None = None
    annotations: dict[str, int] | None = None


def _marks(args: Sequence) -> list:
    marked = []
    for i, arg in enumerate(args):
        if isinstance(arg, str):
            marked.append(f"\x1ehot-query-argument-{i}\x1e")
        elif isinstance(arg, int) and not isinstance(arg, bool):
            marked.append(_INT_MARK - 1000 * i - 999)
        elif isinstance(arg, datetime.datetime):
            marked.append(_DATETIME_MARK + datetime.timedelta(seconds=i))
        elif isinstance(arg, tuple):
            marked.append(tuple(_INT_MARK - 1000 * i - k for k in range(len(arg))))
        else:
            raise TypeError(
                f"hot_query arguments are str, int, datetime or tuple of int, not {type(arg).__name__}"
            )
    return marked


def _compile(build: Callable[..., QuerySet], args: Sequence, alias: str, fixed: tuple) -> _Compiled | None:
    marked = _marks(args)
    queryset = build(*marked, *fixed)
    compiler = queryset.query.get_compiler(using=alias)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return None  # e.g. ``IN ()``: no row can match, as the ORM answers without asking
    params = list(params)
    slots: list[tuple[int, int, int | str | None]] = []
    for i, mark in enumerate(marked):
        # A sequence passed whole, as one array parameter (``= ANY(%s)``).
        whole = [p for p, param in enumerate(params) if isinstance(mark, tuple) and param == list(mark)]
        if whole:
            slots.extend((p, i, ARRAY) for p in whole)
            continue
        for k, value in enumerate(mark) if isinstance(mark, tuple) else [(None, mark)]:
            value = _adapt(value, alias)  # as the ORM passes a datetime to this database (SQLite: text)
            found = [p for p, param in enumerate(params) if param == value and type(param) is type(value)]
            # The markers are unique, so every parameter equal to one is the argument (a search term is
            # both the filter's and the score's); one the ORM rewrote (a LIKE pattern) is refused.
            rewritten = isinstance(value, str) and any(
                isinstance(param, str) and value in param and param != value for param in params
            )
            if not found or rewritten:
                raise ValueError(f"{build.__qualname__}: argument {i} is not one plain parameter of the SQL")
            slots.extend((p, i, k) for p in found)
    select = compiler.select
    common = {
        "sql": sql,
        "params": params,
        "slots": slots,
        "compiler": compiler,
        "converters": compiler.get_converters([s[0] for s in select[0 : compiler.col_count]]),
        "col_count": compiler.col_count if compiler.has_extra_select else None,
        "locks": queryset.query.select_for_update,
    }
    query = queryset.query
    if queryset._iterable_class is ValuesIterable:
        names = [*query.extra_select, *query.values_select, *query.annotation_select]
        return _Compiled(**common, names=names)
    if queryset._iterable_class is not ModelIterable:
        raise TypeError(f"{build.__qualname__}: a queryset of model instances or of .values() dicts")
    klass_info = compiler.klass_info
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    return _Compiled(
        **common,
        model=klass_info["model"],
        init_list=[f[0].target.attname for f in select[start:end]],
        fields=slice(start, end),
        populators=get_related_populators(klass_info, select, alias),
        annotations=dict(compiler.annotation_col_map or {}),
    )


def _adapt(value: Any, alias: str) -> Any:
    if isinstance(value, datetime.datetime):
        return connections[alias].ops.adapt_datetimefield_value(value)
    return value


def hot_query(build: Callable[..., QuerySet]) -> Callable[..., list]:
    """Decorate a function that builds a queryset of model instances, or a ``.values()`` queryset, from its
    arguments (each a ``str``, an ``int`` or a ``tuple`` of ints); the decorated function returns the
    list the queryset would. ``fixed`` values (keyword, a tuple) follow the arguments into the function
    unmarked and are part of the shape: what the ORM writes into the SQL itself, a slice's bounds."""

    def run(*args: Any, using: str = "default", fixed: tuple = ()) -> list:
        connection = connections[using]
        cache = connection.__dict__.setdefault(_ATTR, {})
        shape = (build, tuple(len(a) if isinstance(a, tuple) else None for a in args), fixed)
        if shape not in cache:
            cache[shape] = _compile(build, args, using, fixed)
        compiled = cache[shape]
        if compiled is None:
            return []
        if compiled.locks and connection.get_autocommit():
            # The ORM checks this only while compiling; in autocommit the lock would end with the statement.
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        params = list(compiled.params)
        for p, i, k in compiled.slots:
            if k is None:
                params[p] = _adapt(args[i], using)
            else:
                params[p] = list(args[i]) if k == ARRAY else args[i][k]
        with hot_cursor(using) as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.col_count is not None:
            rows = [row[: compiled.col_count] for row in rows]
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        if compiled.names is not None:
            return [dict(zip(compiled.names, row, strict=True)) for row in rows]
        objects = []
        for row in rows:
            obj = compiled.model.from_db(using, compiled.init_list, row[compiled.fields])
            for populator in compiled.populators:
                populator.populate(row, obj)
            for name, position in compiled.annotations.items():
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects

    run.build = build  # type: ignore[attr-defined]  # the queryset itself, for tests
    run.__doc__ = build.__doc__
    run.__name__ = build.__name__
    return run


def hot_cursor(using: str = "default") -> CursorWrapper:
    """A cursor for a statement run on every request: on PostgreSQL, with prepared statements on
    (``DB_PREPARED_STATEMENTS``), one that binds parameters on the server, so psycopg prepares each
    statement on its first run and then only executes it; elsewhere ``connection.cursor()``.

    It is wrapped as Django wraps its own (``execute_wrapper``, errors, query logging). Its parameters are
    typed by psycopg, not spelled into the SQL: a parameter whose type PostgreSQL cannot tell from where it
    stands (a select list) needs a cast in the SQL. Only statements of one statement each: the extended
    protocol does not take ``;``-separated statements."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return connection.cursor()
    # As connection.cursor() makes its cursor (the health check first: DB_CONN_HEALTH_CHECKS replaces a
    # connection the server ended), with the server-binding class.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    if connection.connection.prepare_threshold is None:  # DB_PREPARED_STATEMENTS off
        return connection.cursor()
    with connection.wrap_database_errors:
        return connection._prepare_cursor(_prepared_cursor_class()(connection.connection))


@functools.cache
def _prepared_cursor_class() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor  # psycopg is there: PostgreSQL
    from psycopg import errors
    from psycopg.pq import TransactionStatus

    class PreparedCursor(ServerBindingCursor):
        """The server-binding cursor Django would use with OPTIONS["server_side_binding"]: psycopg prepares
        what it runs, as the connection's prepare_threshold says."""

        def _send_query_prepared(self, name, pgq, *, binary=None):  # type: ignore[no-untyped-def]
            # As the unprepared path does: Django's query log (captured_queries) reads the SQL here.
            self._query = pgq
            super()._send_query_prepared(name, pgq, binary=binary)

        def execute(self, query, params=None, **kwargs):  # type: ignore[no-untyped-def]
            try:
                return super().execute(query, params, **kwargs)
            except errors.FeatureNotSupported as exc:
                # A migration (run on its own connection while this process serves) changed a column a
                # prepared statement returns: PostgreSQL refuses that statement until it is prepared
                # again. Outside a transaction: forget this connection's statements (psycopg sees the
                # command's status and forgets its names of them too) and run this one again, prepared
                # anew. Inside one, the transaction has failed: its ROLLBACK makes psycopg forget them
                # the same way, so that request fails once and the next works.
                if "cached plan must not change result type" not in str(exc):
                    raise
                if self.connection.info.transaction_status != TransactionStatus.IDLE:
                    raise
                super().execute("DEALLOCATE ALL", prepare=False)
                return super().execute(query, params, **kwargs)

    return PreparedCursor


def hot_queries_forget(using: str = "default") -> None:
    """Drop the compiled queries of this thread's connection (tests that change the schema's state)."""
    connections[using].__dict__.pop(_ATTR, None)
