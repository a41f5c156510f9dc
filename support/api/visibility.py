"""The API's doors read the field-visibility table (``support.visibility``).

- ``VisibleFieldsMixin``: a serializer leaves out the fields the requesting user may not see.
- ``VisibleSearchFilter``, ``VisibleOrderingFilter``, ``VisibleFilterBackend``: nobody searches,
  sorts or filters by a field they may not see (the field is ignored, so the answer cannot depend
  on it).
- ``ScopedFilterSet``: a filter on a relation takes a plain id, never a list of every row to choose
  from (the browsable API would render that list: every pupil of the trust, by name).
"""

import copy
import functools
from collections.abc import Iterable, Mapping
from contextvars import ContextVar

import django_filters
from django import forms
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from django_filters.filterset import FILTER_FOR_DBFIELD_DEFAULTS
from django_filters.rest_framework import FilterSet
from drf_spectacular.plumbing import get_view_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.relations import PKOnlyObject

from support.api.filters import BoundedFilterBackend
from support.bounds import ID_MAX, bound_form_fields
from support.visibility import (
    can_see,
    is_declared,
    lookup_path,
    order_visible,
    roles_can_see,
    roles_of,
    table_version,
)

User = AbstractBaseUser | AnonymousUser | None

# Whose schema is being generated, for serializers the generator makes without a request
# (``support.api.schema``). ``ALL_FIELDS`` is the whole schema, made offline.
ALL_FIELDS = object()
schema_viewer: ContextVar[object] = ContextVar("schema_viewer", default=None)


def _is_model_path(model: type[models.Model], path: str) -> bool:
    name = path.split("__", 1)[0]
    if is_declared(model, name):
        return True
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def visible(user: User, model: type[models.Model], name: str, path: str | None = None) -> bool:
    """May ``user`` see the field a door calls ``name``, which reads ``path`` of ``model``?

    A declared name is judged by its own row; a path that reaches a model field is judged too, so a
    harmless-looking name cannot read a hidden field. A name that is neither is hidden."""
    return all(can_see(user, model, check) for check in _checks(model, name, path))


def _checks(model: type[models.Model], name: str, path: str | None) -> list[str]:
    checks = []
    if is_declared(model, name):
        checks.append(name)
    if path and path != name and _is_model_path(model, path):
        checks.append(path)
    if not checks:
        checks.append(name)  # undeclared, and not a model path: hidden from all but trust admins
    return checks


def serializer_field_path(name: str, field: serializers.Field) -> str | None:
    source = getattr(field, "source", None) or name
    return None if source == "*" else source.replace(".", "__")


class VisibleFieldsMixin:
    """For a serializer whose ``Meta.model`` is in the visibility table: the fields the requesting
    user may not see are left out, in answers and in the schema that user is shown.

    The user comes from ``context["request"]``; a serializer made without one (outside schema
    generation) is a mistake that would show every field, so it is refused.
    """

    # A serializer whose fields depend on its class alone (nothing overrides how they are built) may set
    # this: the ModelSerializer's introspection then runs once per class, and each instance gets a copy,
    # as DRF copies declared fields. Which of them the user sees is still decided below, every time.
    build_fields_once = False

    def get_fields(self):  # type: ignore[no-untyped-def]
        if self.build_fields_once:
            built = type(self).__dict__.get("_built_fields")
            if built is None:
                built = super().get_fields()  # type: ignore[misc]
                type.__setattr__(type(self), "_built_fields", built)
            fields = copy.deepcopy(built)
        else:
            fields = super().get_fields()  # type: ignore[misc]
        model = self.Meta.model  # type: ignore[attr-defined]
        viewer = self._viewer()
        if viewer is ALL_FIELDS:
            return fields
        return {
            name: field
            for name, field in fields.items()
            if visible(viewer, model, name, serializer_field_path(name, field))  # type: ignore[arg-type]
        }

    @classmethod
    def represent(cls, data: Mapping[str, object], *, user: User) -> dict:
        """What ``cls(data, context={"request": request}).data`` gives ``user``, for a flat serializer of
        plain fields read from a dict, without building one per request: which fields the user's roles
        see, and the fields themselves, are worked out once per role set (building them was a quarter
        of a check's CPU at the counter)."""
        return {
            name: None if (value := data[name]) is None else field.to_representation(value)
            for name, field in _flat_fields(cls, roles_of(user), table_version())
        }

    @classmethod
    def represent_object(cls, instance: models.Model, *, user: User) -> dict:
        """What ``cls(instance, context={"request": request}).data`` gives ``user``, for a serializer of
        read-only fields that need no request (no method fields, links or nested serializers), with
        the fields bound once per role set: building a ModelSerializer's fields was a seventh of a
        voucher issue's CPU. A test holds the two equal for every role."""
        answer = {}
        for name, field in _bound_fields(cls, roles_of(user), table_version()):
            attribute = field.get_attribute(instance)
            value = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            answer[name] = None if value is None else field.to_representation(attribute)
        return answer

    @classmethod
    def represent_objects(cls, instances: Iterable[models.Model], *, user: User) -> list[dict]:
        """``cls(instances, many=True, context={"request": request}).data`` for ``user``, with the fields
        bound once per role set, for a list page (``represent_object``'s rules). Besides plain
        fields, a nested ``many=True`` serializer of plain fields (``FamilySerializer.consents``) is
        answered by its own ``represent_object``, and a method field ``name`` by the classmethod
        ``represent_<name>(instance, user=...)`` the serializer defines beside ``get_<name>``."""
        roles = roles_of(user)
        fields = _bound_fields(cls, roles, table_version(), nested=True)
        rows = []
        for instance in instances:
            answer = {}
            for name, field in fields:
                if isinstance(field, serializers.SerializerMethodField):
                    answer[name] = getattr(cls, f"represent_{name}")(instance, user=user)
                    continue
                attribute = field.get_attribute(instance)
                if isinstance(field, serializers.ListSerializer):
                    many = attribute.all() if isinstance(attribute, models.manager.BaseManager) else attribute
                    child = type(field.child)
                    answer[name] = [child.represent_object(item, user=user) for item in many]
                    continue
                value = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
                answer[name] = None if value is None else field.to_representation(attribute)
            rows.append(answer)
        return rows

    def _viewer(self) -> object:
        viewer = schema_viewer.get()  # while a schema is made, its reader (the request is a mock)
        if viewer is not None:
            return viewer
        request = self.context.get("request")  # type: ignore[attr-defined]
        if request is not None:
            return request.user
        raise ImproperlyConfigured(
            f"{type(self).__name__} needs context={{'request': request}}: which fields it shows "
            "depends on who asks"
        )


def _every_field(serializer_class: type[serializers.Serializer]) -> dict[str, serializers.Field]:
    """All of the serializer's fields, bound, whoever asks: the callers pick a role set's."""
    every = schema_viewer.set(ALL_FIELDS)
    try:
        return serializer_class().fields
    finally:
        schema_viewer.reset(every)


@functools.lru_cache(maxsize=256)
def _flat_fields(
    serializer_class: type[serializers.Serializer], roles: frozenset[str] | None, version: int
) -> tuple[tuple[str, serializers.Field], ...]:
    """The fields of ``serializer_class`` the roles see, each reading its own name from a dict."""
    model = serializer_class.Meta.model  # type: ignore[attr-defined]
    fields = []
    for name, field in _every_field(serializer_class).items():
        plain = not isinstance(
            field, serializers.BaseSerializer | serializers.RelatedField | serializers.SerializerMethodField
        )
        if not plain or field.source != name:
            raise ImproperlyConfigured(f"{serializer_class.__name__}.{name} is not a plain field")
        if all(roles_can_see(roles, model, check) for check in _checks(model, name, name)):
            fields.append((name, field))
    return tuple(fields)


@functools.lru_cache(maxsize=256)
def _bound_fields(
    serializer_class: type[serializers.Serializer],
    roles: frozenset[str] | None,
    version: int,
    nested: bool = False,
) -> tuple[tuple[str, serializers.Field], ...]:
    """The fields of ``serializer_class`` the roles see, bound once. Fields that may read the request
    (method fields, links, nested serializers) are refused, except with ``nested`` a method field its
    serializer answers with ``represent_<name>`` and a ``many=True`` serializer of plain fields. A
    field written but never read is left out, as DRF leaves it out of an answer."""
    model = serializer_class.Meta.model  # type: ignore[attr-defined]
    fields = []
    for name, field in _every_field(serializer_class).items():
        if field.write_only:
            continue
        answered = nested and (
            (
                isinstance(field, serializers.SerializerMethodField)
                and hasattr(serializer_class, f"represent_{name}")
            )
            or (
                isinstance(field, serializers.ListSerializer)
                and isinstance(field.child, VisibleFieldsMixin)
                and field.read_only
            )
        )
        needs_request = not answered and (
            isinstance(field, serializers.BaseSerializer | serializers.SerializerMethodField)
            or (
                isinstance(field, serializers.RelatedField)
                and not isinstance(field, serializers.PrimaryKeyRelatedField | serializers.SlugRelatedField)
            )
        )
        if needs_request:
            raise ImproperlyConfigured(f"{serializer_class.__name__}.{name} is not a plain field")
        path = serializer_field_path(name, field)
        if all(roles_can_see(roles, model, check) for check in _checks(model, name, path)):
            fields.append((name, field))
    return tuple(fields)


# --- Filters -------------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An object's id. The queryset filtered is already scoped, so an id outside the caller's scope
    simply matches nothing; there is no list of choices to render."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(*args, **kwargs)


_RELATIONS = (models.ForeignKey, models.OneToOneField, models.ManyToManyField, models.OneToOneRel,
              models.ManyToOneRel, models.ManyToManyRel)  # fmt: skip


class ScopedFilterSet(FilterSet):
    """Every list's filter set, for its page and its API alike: a relation in ``Meta.fields`` becomes an
    ``IdFilter``; made with a ``request``, the filters on fields that user may not see are dropped (a
    value given for one is ignored) and the rest are bounded (``support.bounds``).

    A page uses it as ``SomeFilter(request.GET or None, queryset=<selector>, request=request)``: an
    invalid value is a form error on ``filterset.form``, never a 500; the API's backend answers 400.
    """

    FILTER_DEFAULTS = {
        **FILTER_FOR_DBFIELD_DEFAULTS,
        **{relation: {"filter_class": IdFilter} for relation in _RELATIONS},
    }

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None) -> None:
        super().__init__(data, queryset, request=request, prefix=prefix)
        if request is not None:
            model = self._meta.model
            for name, flt in list(self.filters.items()):
                if not visible(request.user, model, name, flt.field_name):
                    del self.filters[name]

    @property
    def form(self):  # type: ignore[no-untyped-def]
        if not hasattr(self, "_form"):
            bound_form_fields(super().form)  # built once, after any filter is dropped
        return self._form

    def filtered(self) -> models.QuerySet:
        """The queryset narrowed by every valid filter (a page shows the whole list beside the errors)."""
        return self.qs if self.is_valid() else self.queryset


class VisibleFilterBackend(BoundedFilterBackend):
    """``filterset_fields`` build a ``ScopedFilterSet``; filters on fields the caller may not see are
    dropped (a value given for one is ignored); the rest are bounded (``BoundedFilterBackend``)."""

    filterset_base = ScopedFilterSet

    def narrow(self, filterset, request) -> None:
        model = filterset._meta.model
        for name, flt in list(filterset.filters.items()):
            if not visible(request.user, model, name, flt.field_name):
                del filterset.filters[name]


class VisibleSearchFilter(SearchFilter):
    """``?search=`` looks only in the fields the caller may see."""

    def filter_queryset(self, request, queryset, view):
        self.model = queryset.model
        return super().filter_queryset(request, queryset, view)

    def get_search_fields(self, view, request):
        fields = super().get_search_fields(view, request) or []
        model = getattr(self, "model", None)
        if model is None:
            return fields
        return [f for f in fields if visible(request.user, model, lookup_path(f), lookup_path(f))]

    def get_schema_operation_parameters(self, view):
        """A role's schema offers ``?search=`` only where it searches a field that role may see."""
        viewer = schema_viewer.get()
        if viewer not in (None, ALL_FIELDS):
            model = get_view_model(view)
            fields = getattr(view, "search_fields", None) or []
            if model is None or not any(
                visible(viewer, model, lookup_path(f), lookup_path(f))  # type: ignore[arg-type]
                for f in fields
            ):
                return []
        return super().get_schema_operation_parameters(view)


class VisibleOrderingFilter(OrderingFilter):
    """``?ordering=`` accepts only fields the caller may see, and a list's default order reads none the
    caller may not (``support.visibility.order_visible``)."""

    def filter_queryset(self, request, queryset, view):
        return order_visible(super().filter_queryset(request, queryset, view), request.user)

    def get_valid_fields(self, queryset, view, context=None):
        fields = super().get_valid_fields(queryset, view, context or {})
        request = (context or {}).get("request") or getattr(view, "request", None)
        user = getattr(request, "user", None)
        return [(f, label) for f, label in fields if visible(user, queryset.model, f, lookup_path(f))]
