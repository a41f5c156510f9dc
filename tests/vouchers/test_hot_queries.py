"""support.hot_queries: the counter's reads compiled once per connection give what the ORM gives."""

import pytest
from django.db import connection, connections
from django.db.models import F, Q
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from support.api.authentication import token_with_scope
from support.hot_queries import _ATTR, hot_queries_forget, hot_query
from support.models import School
from vouchers.models import Voucher, VoucherType
from vouchers.services import _voucher_for_code


@pytest.fixture(autouse=True)
def fresh():
    hot_queries_forget()
    yield
    hot_queries_forget()


@pytest.fixture
def voucher_type(partner_1):
    return VoucherType.objects.create(
        partner=partner_1, service="food_parcel", name="Food parcel", face_value_pence=25_00, validity_days=28
    )


def fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_it_builds_the_voucher_the_orm_builds(issue, family_a, voucher_type, partner_1):
    voucher = issue(family_a, voucher_type)
    args = (voucher.code, (partner_1.pk,))
    for _ in range(2):  # compiled, then from the cache
        (hot,) = _voucher_for_code(*args)
        (orm,) = list(_voucher_for_code.build(*args))
        assert fields(hot) == fields(orm)
        assert fields(hot.voucher_type) == fields(orm.voucher_type)
        assert fields(hot.voucher_type.partner) == fields(orm.voucher_type.partner)
        assert fields(hot.school) == fields(orm.school)
        for name in ("type_offered", "family_language", "family_language_noted"):
            assert getattr(hot, name) == getattr(orm, name)
        assert hot._state.adding is False
        assert hot._state.db == "default"


def test_it_fills_the_arguments_of_each_call(issue, family_a, voucher_type, partner_1, partner_2):
    first, second = issue(family_a, voucher_type), issue(family_a, voucher_type)
    assert [v.pk for v in _voucher_for_code(first.code, (partner_1.pk,))] == [first.pk]
    assert [v.pk for v in _voucher_for_code(second.code, (partner_1.pk,))] == [second.pk]
    # Another charity's ids: the same compiled SQL, and nothing found.
    assert _voucher_for_code(first.code, (partner_2.pk,)) == []
    assert _voucher_for_code(first.code, (partner_2.pk, partner_1.pk))[0].pk == first.pk
    shapes = [
        shape for shape in connections["default"].__dict__[_ATTR] if shape[0] is _voucher_for_code.build
    ]
    assert len(shapes) == 2  # one shape per number of partners


def test_no_partner_finds_nothing_without_asking_the_database(issue, family_a, voucher_type):
    voucher = issue(family_a, voucher_type)
    with CaptureQueriesContext(connection) as context:
        assert _voucher_for_code(voucher.code, ()) == []
    assert len(context) == 0


def test_it_compiles_a_shape_once(issue, family_a, voucher_type, partner_1, monkeypatch):
    from django.db.models.sql.compiler import SQLCompiler

    compiled = []
    original = SQLCompiler.as_sql
    monkeypatch.setattr(
        SQLCompiler, "as_sql", lambda self, *a, **k: compiled.append(1) or original(self, *a, **k)
    )
    vouchers = [issue(family_a, voucher_type) for _ in range(3)]
    compiled.clear()
    assert _voucher_for_code(vouchers[0].code, (partner_1.pk,))[0].pk == vouchers[0].pk
    assert compiled  # the first call compiles (the query and its Exists subquery)
    compiled.clear()
    for voucher in vouchers[1:]:
        assert _voucher_for_code(voucher.code, (partner_1.pk,))[0].pk == voucher.pk
    assert compiled == []


def test_the_token_rows_are_the_orm_rows(charity_staff):
    key = Token.objects.create(user=charity_staff).key
    hot = token_with_scope(key)
    orm = list(token_with_scope.build(key))
    assert [(r.pk, r.user.pk, r.scope_role, r.scope_partner, r.scope_school) for r in hot] == [
        (r.pk, r.user.pk, r.scope_role, r.scope_partner, r.scope_school) for r in orm
    ]
    assert token_with_scope("no such token") == []


def test_an_argument_the_orm_rewrites_is_refused_when_compiled(db):
    @hot_query
    def schools_like(text: str):
        return School.objects.filter(name__icontains=text)

    with pytest.raises(ValueError, match="not one plain parameter"):
        schools_like("Acad")


def test_an_argument_of_another_kind_is_refused(db):
    @hot_query
    def by_pk(pk):
        return Voucher.objects.filter(pk=pk)

    with pytest.raises(TypeError):
        by_pk(1.5)


def test_a_values_queryset_gives_the_dicts_the_orm_gives(issue, family_a, voucher_type, partner_1):
    from django.db.models import Count, Sum

    @hot_query
    def per_state(family_id: int):
        vouchers = Voucher.objects.filter(family_id=family_id)
        return (
            vouchers.values("state").annotate(n=Count("pk"), value=Sum("face_value_pence")).order_by("state")
        )

    for _ in range(2):
        issue(family_a, voucher_type)
        assert per_state(family_a.pk) == list(per_state.build(family_a.pk))
    assert per_state(family_a.pk) == [{"state": "issued", "n": 2, "value": 50_00}]
    assert per_state(family_a.pk + 1000) == []


@pytest.mark.django_db(transaction=True)
def test_a_compiled_lock_is_refused_outside_a_transaction_as_the_orm_refuses_it(school_a):
    from django.db import transaction
    from django.db.transaction import TransactionManagementError

    @hot_query
    def locked_school(pk: int):
        return School.objects.select_for_update().filter(pk=pk)

    with transaction.atomic():
        assert [s.pk for s in locked_school(school_a.pk)] == [school_a.pk]  # compiled here
    with pytest.raises(TransactionManagementError):
        locked_school(school_a.pk)  # from the cache: the lock would end with the statement


def test_a_datetime_argument_gives_the_rows_the_orm_gives(issue, family_a, voucher_type):
    """The limit's count (vouchers.selectors._issued_since) compares issue times with a window's start."""
    import datetime

    from vouchers.selectors import _issued_since

    vouchers = [issue(family_a, voucher_type) for _ in range(3)]
    times = [v.issued_at for v in vouchers]
    for start in (times[0] - datetime.timedelta(seconds=1), times[0], times[1], times[2]):
        args = (family_a.pk, voucher_type.pk, start)
        assert _issued_since(*args) == list(_issued_since.build(*args))
    assert [row["issued_at"] for row in _issued_since(family_a.pk, voucher_type.pk, times[0])] == times[1:]


def test_an_argument_in_several_places_fills_each_of_them(school_a, school_b):
    @hot_query
    def named_either(name: str):
        return School.objects.filter(Q(name=name) | Q(urn=name)).order_by("pk")

    for _ in range(2):
        assert [s.pk for s in named_either(school_a.name)] == [school_a.pk]
        assert [s.pk for s in named_either(school_b.urn)] == [school_b.pk]


def test_an_argument_both_plain_and_rewritten_is_refused(db):
    @hot_query
    def named_or_like(name: str):
        return School.objects.filter(Q(name=name) | Q(urn__icontains=name))

    with pytest.raises(ValueError, match="not one plain parameter"):
        named_or_like("Acad")


@pytest.mark.postgres
def test_a_tuple_as_one_array_and_fixed_slice_bounds_give_what_the_orm_gives(school_a, school_b):
    from support.search import AnyBigint

    @hot_query
    def schools_in(ids: tuple, offset: int, limit: int):
        return School.objects.filter(AnyBigint(F("id"), list(ids))).order_by("pk")[offset : offset + limit]

    ids = (school_a.pk, school_b.pk)
    for fixed in ((0, 1), (1, 1), (0, 5)):
        assert schools_in(ids, fixed=fixed) == list(schools_in.build(ids, *fixed))
    assert [s.pk for s in schools_in((school_b.pk, school_a.pk), fixed=(0, 5))] == sorted(ids)


def prepared_statements() -> list[str]:
    """The statements this connection has prepared through the protocol (psycopg), not by PREPARE."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.postgres
def test_on_postgresql_a_hot_statement_is_prepared_once_then_only_executed(
    issue, family_a, voucher_type, partner_1
):
    vouchers = [issue(family_a, voucher_type) for _ in range(3)]
    for voucher in vouchers:
        assert [v.pk for v in _voucher_for_code(voucher.code, (partner_1.pk,))] == [voucher.pk]
    lookups = [sql for sql in prepared_statements() if '"vouchers_voucher"."code" = $' in sql]
    assert len(lookups) == 1, lookups
    # The ORM's own queries bind on the client, as ever: never prepared.
    assert School.objects.filter(name="none such").count() == 0
    assert not [sql for sql in prepared_statements() if 'FROM "support_school"' in sql]


@pytest.mark.postgres
def test_with_prepared_statements_off_nothing_is_prepared(
    issue, family_a, voucher_type, partner_1, monkeypatch
):
    """DB_PREPARED_STATEMENTS=false (behind a PgBouncer that cannot keep them): the same rows, unprepared."""
    connection.ensure_connection()
    monkeypatch.setattr(connection.connection, "prepare_threshold", None)
    voucher = issue(family_a, voucher_type)
    for _ in range(2):
        assert [v.pk for v in _voucher_for_code(voucher.code, (partner_1.pk,))] == [voucher.pk]
    assert prepared_statements() == []


def _alter_school_name(length: int) -> None:
    """What ``migrate`` runs for an AlterField of School.name, on its own connection while this process
    keeps serving on its own."""
    import psycopg

    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as migrate:
        migrate.execute(f"ALTER TABLE support_school ALTER COLUMN name TYPE varchar({length})")


@pytest.fixture
def widened_school_name(db):
    hot_queries_forget()
    yield
    _alter_school_name(120)
    hot_queries_forget()
    connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_hot_read_survives_a_migration_that_changes_a_column_it_returns(widened_school_name):
    from support import selectors

    school = School.objects.create(name="Alpha Primary Academy", urn="140901")
    assert selectors._school(school.pk)[0].pk == school.pk  # prepared on this connection (autocommit)
    _alter_school_name(200)
    for _ in range(2):  # prepared again, not refused: "cached plan must not change result type"
        assert selectors._school(school.pk)[0].pk == school.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_a_stale_hot_read_fails_once_and_the_next_works(widened_school_name):
    from django.db import transaction
    from psycopg import errors

    from support import selectors

    school = School.objects.create(name="Alpha Primary Academy", urn="140901")
    assert selectors._school(school.pk)[0].pk == school.pk
    _alter_school_name(200)
    with pytest.raises(Exception) as failed, transaction.atomic():
        selectors._school(school.pk)
    assert isinstance(failed.value.__cause__, errors.FeatureNotSupported)
    with transaction.atomic():
        assert selectors._school(school.pk)[0].pk == school.pk
    assert selectors._school(school.pk)[0].pk == school.pk
