"""The one bridge from django-filter FilterSets to GraphQL inputs, used by every module.

`filter_input(FilterSet, "ShippingItemFilter")` turns the FilterSet's filters into a Strawberry
input; `order_input(FilterSet, "ShippingItemOrder")` turns its `OrderingFilter` named `order` into
`{ field: <Type>OrderField!, direction: OrderDirection }`. `apply_filters` runs the real FilterSet
(so its validation and lookups are the ones used) and always ends the ordering with the primary key,
which keeps cursor pagination stable. A field that may be empty (NULL) sorts its empty rows last in
both directions, on every database: the keyset cursors of strawberry-django page across them only
when the NULL placement is stated in the query rather than left to the database's default.

In a connection resolver, do not name the Python parameter `order`: strawberry-django claims any
argument called `order` for its own ordering and fails on ours. Name it `sort` and expose it as
`order`: `sort: Annotated[XOrder | None, strawberry.argument(name="order")] = None`.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import re
import uuid
from collections import OrderedDict
from enum import Enum
from typing import Any, cast

import django_filters
import strawberry
from django import forms
from django.core.exceptions import FieldDoesNotExist
from django.db.models import F, Model, QuerySet
from django.db.models.constants import LOOKUP_SEP
from django_filters.filterset import BaseFilterSet
from graphql import GraphQLError


@strawberry.enum(description="Sort direction.")
class OrderDirection(Enum):
    ASC = strawberry.enum_value("ASC", description="Ascending: smallest, earliest, A first.")
    DESC = strawberry.enum_value("DESC", description="Descending: largest, latest, Z first.")


# The `filter` and `order` arguments of every list, described once.
FILTER = strawberry.argument(description="Only what matches every given field.")
# Named `order` in GraphQL only: strawberry-django claims a Python argument called `order`.
ORDER = strawberry.argument(name="order", description="How to sort the list.")


def _python_type(flt: django_filters.Filter) -> Any:
    if isinstance(flt, django_filters.BooleanFilter):
        return bool
    if isinstance(flt, django_filters.UUIDFilter):
        return uuid.UUID
    if isinstance(flt, django_filters.IsoDateTimeFilter | django_filters.DateTimeFilter):
        return dt.datetime
    if isinstance(flt, django_filters.DateFilter):
        return dt.date
    if isinstance(flt, django_filters.NumberFilter):
        return float
    if isinstance(flt, django_filters.MultipleChoiceFilter | django_filters.BaseInFilter):
        return list[str]
    return str


def _constant_name(param: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", param.lstrip("-")).upper()


def filter_input(
    filterset_class: type[django_filters.FilterSet],
    name: str,
    *,
    types: dict[str, Any] | None = None,
) -> type:
    """A Strawberry input named `name` with one optional field per filter of `filterset_class`."""
    overrides = types or {}
    annotations: dict[str, Any] = {}
    for field_name, flt in filterset_class.base_filters.items():
        if isinstance(flt, django_filters.OrderingFilter):
            continue
        annotations[field_name] = overrides.get(field_name, _python_type(flt)) | None
    namespace: dict[str, Any] = {"__annotations__": annotations}
    for field_name, flt in filterset_class.base_filters.items():
        if field_name in annotations:
            # Every input filter of the project's FilterSets has a plain-text label (the stubs
            # allow a lazy one too).
            label = cast("str | None", flt.label or None)
            namespace[field_name] = strawberry.field(default=None, description=label)
    described = name.removesuffix("Filter")
    return strawberry.input(
        type(name, (), namespace),
        name=name,
        description=f"Which {described} to list: every given field must match (unset: any).",
    )


def order_input(filterset_class: type[django_filters.FilterSet], name: str) -> type:
    """A Strawberry input named `name` built from the FilterSet's `order` OrderingFilter."""
    ordering = filterset_class.base_filters["order"]
    assert isinstance(ordering, django_filters.OrderingFilter)
    param_map = cast(dict[str, str], ordering.param_map)  # always set (the stubs say maybe None)
    members = {_constant_name(param): param for param in param_map}
    described = {
        constant: strawberry.enum_value(param, description=f"By `{param}`.")
        for constant, param in members.items()
    }
    values: type[Enum] = Enum(f"{name}Field", described)  # type: ignore[misc]  # mypy wants a literal name
    sorted_thing = name.removesuffix("Order")
    field_enum = strawberry.enum(
        values, name=f"{name}Field", description=f"What {sorted_thing} lists can be sorted by."
    )
    namespace = {
        "__annotations__": {"field": field_enum, "direction": OrderDirection},
        "field": strawberry.field(description="The value to sort by."),
        "direction": strawberry.field(
            default=OrderDirection.DESC, description="Which end comes first (default DESC)."
        ),
    }
    return strawberry.input(
        type(name, (), namespace),
        name=name,
        description=f"How to sort {sorted_thing} lists: by one value, in one direction.",
    )


def _as_data(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_as_data(v) for v in value]
    return str(value)


@functools.cache
def _acts_without_input(filterset_class: type[django_filters.FilterSet]) -> bool:
    """Whether the FilterSet may filter, or refuse, even when given no data at all."""
    return filterset_class.filter_queryset is not django_filters.FilterSet.filter_queryset or any(
        flt.extra.get("required") for flt in filterset_class.base_filters.values()
    )


# At most one class per subset of a FilterSet's filters (a few dozen in this project).
@functools.lru_cache(maxsize=1024)
def _given_filters_only(
    filterset_class: type[django_filters.FilterSet], names: frozenset[str]
) -> type[django_filters.FilterSet]:
    """`filterset_class` with only the filters named in `names`, for a FilterSet that does
    nothing with a filter it is not given. An instance deep-copies every filter and its form
    makes a field of each; a request that gives one of them would pay for all."""
    given = OrderedDict(
        (name, flt) for name, flt in filterset_class.base_filters.items() if name in names
    )
    namespace: dict[str, Any] = {"__module__": filterset_class.__module__}
    if _forms_its_filters_alone(filterset_class) and all(
        _form_field_is_static(flt) for flt in given.values()
    ):
        namespace["get_form_class"] = _form_class_made_once
    subset: type[django_filters.FilterSet] = type(
        filterset_class.__name__, (filterset_class,), namespace
    )
    subset.base_filters = given  # after the class is made: its metaclass sets them all
    return subset


# The `field` properties of django-filter that build a form field from the filter alone. The
# others read the request (ModelChoiceFilter's queryset callable) or the database
# (AllValuesFilter), as may a subclass's own.
_STATIC_FORM_FIELDS = (
    django_filters.Filter.field,
    django_filters.NumberFilter.field,
    django_filters.LookupChoiceFilter.field,
)


def _form_field_is_static(flt: django_filters.Filter) -> bool:
    return inspect.getattr_static(type(flt), "field") in _STATIC_FORM_FIELDS


@functools.cache
def _forms_its_filters_alone(filterset_class: type[django_filters.FilterSet]) -> bool:
    """Whether the FilterSet's form comes from its filters alone: django-filter's own
    `__init__`, `form` and `get_form_class`, none of which a request may change (django-filter
    names get_form_class as the place to fit the form to an instance)."""
    return all(
        inspect.getattr_static(filterset_class, name) is vars(BaseFilterSet)[name]
        for name in ("__init__", "form", "get_form_class")
    )


def _form_class_made_once(filterset: BaseFilterSet) -> type[forms.Form]:
    """django-filter's get_form_class, made once per FilterSet class: it makes a form class, and a
    form field per filter, for each instance. A form copies its class's fields when it is made."""
    subset = type(filterset)
    form_class = subset.__dict__.get("_form_class_made")
    if form_class is None:
        form_class = django_filters.FilterSet.get_form_class(filterset)
        subset._form_class_made = form_class  # type: ignore[attr-defined]  # the subset's own
    return form_class


def _may_be_null(model: type[Model], name: str) -> bool:
    """Whether ordering by the field path `name` (`completed_at`, `transport__alias`) meets NULL."""
    opts = model._meta
    for part in name.split(LOOKUP_SEP):
        try:
            field = opts.pk if part == "pk" else opts.get_field(part)
        except FieldDoesNotExist:
            return True  # an annotation or a transform: nothing says it is never NULL
        if getattr(field, "null", True) or not field.concrete or field.many_to_many:
            return True  # a reverse or many-to-many relation may join no row at all
        if field.is_relation:
            assert field.related_model is not None  # no generic relations here
            opts = field.related_model._meta
    return False


def _nulls_last(model: type[Model], term: Any) -> Any:
    """`term` of an ordering, with NULLs stated last when its field may be empty."""
    if not isinstance(term, str) or term == "?":
        return term  # expressions state their own NULL placement
    name = term.removeprefix("-")
    if not _may_be_null(model, name):
        # Left alone so an index on the column (NULLS FIRST when DESC) still serves the order.
        return term
    return F(name).desc(nulls_last=True) if term.startswith("-") else F(name).asc(nulls_last=True)


def apply_filters(
    queryset: QuerySet,
    filterset_class: type[django_filters.FilterSet],
    filter: Any = None,
    order: Any = None,
    *,
    request: Any = None,
) -> QuerySet:
    """Filter and order `queryset` with the FilterSet; invalid input is a BAD_USER_INPUT error."""
    data: dict[str, Any] = {}
    if filter is not None:
        for field_name in filterset_class.base_filters:
            value = getattr(filter, field_name, None)
            if value is None:
                continue
            flt = filterset_class.base_filters[field_name]
            data[field_name] = (
                ",".join(_as_data(value))
                if isinstance(flt, django_filters.BaseInFilter)
                else _as_data(value)
            )
    if order is not None:
        sign = "-" if order.direction == OrderDirection.DESC else ""
        data["order"] = sign + order.field.value
    acts_without_input = _acts_without_input(filterset_class)
    if data or acts_without_input:
        filterset_type = (
            filterset_class
            if acts_without_input
            else _given_filters_only(filterset_class, frozenset(data))
        )
        filterset = filterset_type(data=data, queryset=queryset, request=request)
        if not filterset.is_valid():
            details = {key: [str(m) for m in errors] for key, errors in filterset.errors.items()}
            raise GraphQLError(
                "Invalid filter or order: "
                + "; ".join(f"{k}: {' '.join(v)}" for k, v in details.items()),
                extensions={"code": "BAD_USER_INPUT", "fields": details},
            )
        filtered = filterset.qs
    else:
        # No input: every filter would be skipped, so the FilterSet (a form, deep copies of its
        # filters: about a millisecond) would only hand the queryset back.
        filtered = queryset
    ordering = (
        list(filtered.query.order_by)
        or list(queryset.query.order_by)
        or list(queryset.model._meta.ordering)
    )
    last = ordering[-1] if ordering else "-pk"
    tiebreak = "-pk" if str(last).startswith("-") else "pk"
    if not any(str(o).lstrip("-") in ("pk", "id") for o in ordering):
        ordering.append(tiebreak)
    # Databases disagree on where NULLs go (PostgreSQL: last ascending, first descending;
    # SQLite: the reverse), and the keyset cursors assume NULLs last unless told otherwise.
    return filtered.order_by(*(_nulls_last(queryset.model, term) for term in ordering))
