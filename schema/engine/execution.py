"""How operations execute: columns read straight from rows, prefetched pages built directly.

Most fields of a page are model columns (`trackingNumber`, `status`, `alias`, `name`). Resolving
one the ordinary way builds an Info object, converts arguments, runs strawberry-django's resolver
and every schema extension's `resolve` hook: for a page of 100 items that costs several times more
than reading and encoding the values. `mark_columns` tags, once per schema, the fields that are
plain columns: a strawberry-django field of a concrete model column, with no resolver, no field
extensions (so no permission of its own) and a scalar or enum type. `ColumnExecution` answers those
from the row's loaded value, coerced by the field's type exactly as graphql-core would. Anything
unusual goes the ordinary way: a value not loaded (deferred), null where the type forbids it, a
value the type refuses, a schema extension that wants to see every field. So results, errors and
lazy loading stay what they were; only the work in between is skipped.

Nested connections (`item.batches`) are the other hot spot: for each of the 100 items the ordinary
path converts arguments, runs the field extensions, builds a related manager and asks it for the
rows the optimizer already prefetched. `mark_prefetched_connections` gives each plain nested
connection field (strawberry-django's own resolver, no other extension, no filter or order
argument) a resolver that hands the prefetched rows straight to the connection type, which pages
them as before; rows that were not prefetched take the ordinary path.

Plain resolver fields (`item.currentCenter`: a loader lookup, no arguments, no extension) are
called directly instead of through argument conversion and strawberry-django's wrapper.

`apply_shortcuts(schema)` sets all three up once, when the schema is built, and records each in
the field's extensions, where schema/plans.py finds them to complete whole selections without
graphql-core's walk. `ordinary_execution()` turns shortcuts and plans off for a block of code (the
tests compare both ways; the bench measures both).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cached_property, partial
from types import GeneratorType
from typing import Any

from django.db.models import QuerySet
from django.db.models.fields.related_descriptors import (
    ManyToManyDescriptor,
    ReverseManyToOneDescriptor,
)
from django.db.models.manager import BaseManager
from django.db.models.query_utils import DeferredAttribute
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    OperationType,
    Undefined,
    is_leaf_type,
)
from strawberry.relay.types import PageInfo
from strawberry.relay.utils import should_resolve_list_connection_edges
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.utils.inspect import in_async_context
from strawberry_django.fields.field import (
    StrawberryDjangoConnectionExtension,
    StrawberryDjangoField,
)
from strawberry_django.optimizer import (
    DjangoOptimizerExtension,
    OptimizerConfig,
    is_optimized_by_prefetching,
)
from strawberry_django.queryset import get_queryset_config
from strawberry_django.relay.cursor_connection import (
    DjangoCursorConnection,
    OrderedCollectionCursor,
)
from strawberry_django.relay.utils import resolve_edge_class
from strawberry_django.utils.typing import get_django_definition

from schema.engine import hint_cache
from schema.engine.hint_cache import hints_are_static
from schema.engine.nested_pages import (
    PAGE_RELATIONS,
    NestedPage,
    PageBuilder,
    building_page,
    page_attribute,
    page_hints_pending,
    page_relations,
    pages_released_after,
    with_nested_pages,
)
from schema.engine.rows import with_plain_rows

# Off inside `ordinary_execution()`: every field then resolves the ordinary way (tests compare).
_shortcuts: ContextVar[bool] = ContextVar("majestic_execution_shortcuts", default=True)


def page_info_without_cursors(*, has_next_page: bool = False) -> PageInfo:
    """The pageInfo of a page built without cursors (its selection reads none)."""
    return PageInfo(
        start_cursor=None, end_cursor=None, has_previous_page=False, has_next_page=has_next_page
    )


def shortcuts_on() -> bool:
    """False inside `ordinary_execution()`."""
    return _shortcuts.get()


@contextmanager
def ordinary_execution() -> Iterator[None]:
    """Run operations without this module's shortcuts (to compare results, or timings)."""
    token = _shortcuts.set(False)
    try:
        yield
    finally:
        _shortcuts.reset(token)


# Keys of GraphQLField.extensions holding a field's shortcut (schema/plans.py reads them too).
COLUMN = "majestic.column"
PREFETCHED_CONNECTION = "majestic.prefetched_connection"
DIRECT_RESOLVER = "majestic.direct_resolver"

# Schema extensions whose `resolve` hook ignores everything but querysets and managers, which a
# column never returns. Any other extension with a `resolve` hook turns the shortcut off.
COLUMN_BLIND_EXTENSIONS: tuple[type, ...] = (DjangoOptimizerExtension,)


class Fallback(Exception):
    """A shortcut met something it does not handle: complete this the ordinary way."""


# Built-in scalars whose output coercion returns a value of exactly this Python type as it is.
UNCHANGED_OUTPUT: dict[GraphQLLeafType, type] = {
    GraphQLString: str,
    GraphQLID: str,
    GraphQLBoolean: bool,
}


def output_coercion(leaf_type: GraphQLLeafType) -> Callable[[Any], Any]:
    """`leaf_type.coerce_output_value`, minus the commonest work: a str of a String or ID and a
    bool of a Boolean come out as they are, and an enum's few values are coerced once each (a
    page of 5,000 items reads 15,000 columns). Raises what coerce_output_value raises."""
    coerce = leaf_type.coerce_output_value
    unchanged = UNCHANGED_OUTPUT.get(leaf_type)
    if unchanged is not None:

        def coerce_scalar(value: Any) -> Any:
            return value if type(value) is unchanged else coerce(value)

        return coerce_scalar
    if not isinstance(leaf_type, GraphQLEnumType):
        return coerce
    names: dict[tuple[type, Any], Any] = {}  # (class, value): a choice and its str stay apart

    def coerce_enum(value: Any) -> Any:
        try:
            return names[type(value), value]
        except KeyError:
            coerced = names[type(value), value] = coerce(value)  # not kept if coerce raises
            return coerced
        except TypeError:  # unhashable
            return coerce(value)

    return coerce_enum


@dataclass(frozen=True)
class Column:
    attname: str  # the key of the loaded value in the model instance's __dict__
    type: GraphQLLeafType
    nullable: bool

    @cached_property
    def coerce(self) -> Callable[[Any], Any]:
        return output_coercion(self.type)

    @cached_property
    def read(self) -> Callable[[Any, Any], Any]:
        """`read(row, run)`: the field's result from a model row, in one call (a plan's step as it
        is; `run` is unused). Raises Fallback when the field must be resolved the ordinary way:
        not a model row, a deferred column, None in a non-null field, a coercion that fails or
        gives None or Undefined."""
        return _column_reader(self)


def _column_reader(column: Column) -> Callable[[Any, Any], Any]:
    # A page of 5,000 rows reads 15,000 columns: a loaded str of a String or ID column comes out
    # as it is, before anything else is asked.
    attname, nullable, coerce = column.attname, column.nullable, column.coerce
    unchanged = UNCHANGED_OUTPUT.get(column.type)

    def read_column(source: Any, run: Any) -> Any:
        try:
            value = source.__dict__[attname]
        except (AttributeError, KeyError):
            raise Fallback from None  # not a model row, or the column was deferred
        if type(value) is unchanged:
            return value
        if value is None:
            if nullable:
                return None
            raise Fallback
        try:
            coerced = coerce(value)
        except Exception as error:  # the ordinary path reports it with its location
            raise Fallback from error
        if coerced is None or coerced is Undefined:
            raise Fallback
        return coerced

    return read_column


def _django_definition(graphql_type: GraphQLObjectType) -> Any:
    """strawberry-django's definition of `graphql_type` (None for a type of no model)."""
    type_definition = (graphql_type.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    return get_django_definition(type_definition.origin) if type_definition else None


def _definitions(graphql_type: GraphQLObjectType, field: Any) -> tuple[Any, Any]:
    """The Strawberry field behind `field`, and the Django model of `graphql_type` (or None)."""
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    django_definition = _django_definition(graphql_type)
    return definition, django_definition.model if django_definition else None


def column_of(graphql_type: GraphQLObjectType, field: Any) -> Column | None:
    """The column a field of `graphql_type` reads, if it is nothing but that."""
    definition, model = _definitions(graphql_type, field)
    if (
        not isinstance(definition, StrawberryDjangoField)
        or definition.base_resolver is not None
        or definition.extensions
        or definition.permission_classes
        or model is None
    ):
        return None
    descriptor = getattr(model, definition.django_name or definition.python_name, None)
    # Exactly a column: subclasses (file fields, ...) wrap the stored value when read.
    if type(descriptor) is not DeferredAttribute:
        return None
    nullable = not isinstance(field.type, GraphQLNonNull)
    leaf = field.type if nullable else field.type.of_type
    if not is_leaf_type(leaf):
        return None
    return Column(attname=descriptor.field.attname, type=leaf, nullable=nullable)


PAGING_ARGUMENTS = frozenset({"before", "after", "first", "last"})


def prefetch_cache_name(model: type, attribute: str) -> str | None:
    """Where Django keeps the prefetched rows of the to-many relation `model.attribute`."""
    descriptor = getattr(model, attribute, None)
    if isinstance(descriptor, ManyToManyDescriptor):
        return (
            descriptor.rel.field.related_query_name()
            if descriptor.reverse
            else descriptor.field.name
        )
    if isinstance(descriptor, ReverseManyToOneDescriptor):
        return descriptor.rel.cache_name
    return None


# Per execution: whether each nested connection field's selection asks for edges or pageInfo
# (keyed by its first field node; the same answer for every row of the page).
_wants_edges: ContextVar[dict[int, bool] | None] = ContextVar("majestic_wants_edges", default=None)


@dataclass(frozen=True)
class PrefetchedConnection:
    """A plain nested connection field, and how to page its prefetched rows."""

    definition: StrawberryDjangoField
    # Typed Any: the schema's own classes, whose class methods and attributes are read as such.
    connection_type: Any  # a relay Connection class (a DjangoCursorConnection with edge_type)
    edge_type: Any  # the Edge class of cursor connections, whose pages are built here; or None
    max_results: int | None
    relation: str  # the model attribute (`batches`)
    page_attribute: str  # where schema/nested_pages.py keeps the rows
    cache_name: str  # where Django's prefetch keeps the rows
    info_class: type

    def prefetched_page(self, source: Any) -> NestedPage | None:
        """The rows prefetched for `source`, or None (then: the ordinary path). They come from
        schema/nested_pages.py or, where it did not fetch them, from Django's prefetch cache;
        either way they already went through the type's get_queryset."""
        page = getattr(source, "__dict__", {}).get(self.page_attribute)
        if isinstance(page, NestedPage):
            return page
        rows = getattr(source, "_prefetched_objects_cache", {}).get(self.cache_name)
        if rows is None or rows._result_cache is None or not is_optimized_by_prefetching(rows):
            return None
        return NestedPage(rows._result_cache, rows, for_parent=True)

    def resolve(self, ordinary: Any, source: Any, info: Any, **arguments: Any) -> Any:
        page = self.prefetched_page(source)
        if page is None or not _shortcuts.get():
            return ordinary(source, info, **arguments)
        rows = page.as_queryset(source, self.relation)
        strawberry_info = self.info_class(_raw_info=info, _field=self.definition)
        if self.edge_type is None:
            return self.connection_type.resolve_connection(
                rows, info=strawberry_info, max_results=self.max_results, **arguments
            )
        return self.page(rows, strawberry_info, **arguments)

    def window(
        self, rows: Any, *, first: int | None = None, last: int | None = None, **_: Any
    ) -> tuple[list[Any], bool, bool]:
        """The page's rows in order, whether there are rows before them, and after them.

        (`before`/`after` were applied when the rows were prefetched, with one row more than
        asked for on the side that tells whether there is a next or previous page.)"""
        results = list(rows)
        has_previous_page = has_next_page = False
        if first is not None:
            if last is None:
                has_next_page = len(results) > first
                results = results[:first]
            elif results and getattr(results[0], "_strawberry_row_number_fwd", 0) > first:
                has_next_page = True
                results = results[1:]
        if last is not None:
            has_previous_page = len(results) > last
            results = results[:last][::-1]  # prefetched in reverse, to take the last rows
        return results, has_previous_page, has_next_page

    def page(self, rows: Any, info: Any, **arguments: Any) -> Any:
        """DjangoCursorConnection.resolve_connection for prefetched rows, less its per-call lookups:
        the edge class is resolved once per schema, the selection looked at once per execution."""
        connection = self.connection_type
        if not self._wants_edges(info):
            return connection(edges=[], total_count_qs=rows, page_info=page_info_without_cursors())
        results, has_previous_page, has_next_page = self.window(rows, **arguments)
        ordering = get_queryset_config(rows).ordering_descriptors
        assert ordering is not None  # set by the cursor pagination the rows were fetched with
        edges = [
            self.edge_type.resolve_edge(
                connection.resolve_node(row, info=info),
                cursor=OrderedCollectionCursor.from_model(row, ordering),
            )
            for row in results
        ]
        return connection(
            edges=edges,
            total_count_qs=rows,
            page_info=PageInfo(
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
                has_previous_page=has_previous_page,
                has_next_page=has_next_page,
            ),
        )

    @staticmethod
    def _wants_edges(info: Any) -> bool:
        memo = _wants_edges.get()
        if memo is None:
            return should_resolve_list_connection_edges(info)
        key = id(info._raw_info.field_nodes[0])  # the document outlives the execution
        if key not in memo:
            memo[key] = should_resolve_list_connection_edges(info)
        return memo[key]


def prefetched_connection_of(
    graphql_type: GraphQLObjectType, field: Any, info_class: type
) -> PrefetchedConnection | None:
    """The nested connection `field` pages, when it is nothing more than that."""
    definition, model = _definitions(graphql_type, field)
    if (
        not isinstance(definition, StrawberryDjangoField)
        or model is None
        or definition.permission_classes
    ):
        return None
    extensions = definition.extensions
    if len(extensions) != 1 or not isinstance(extensions[0], StrawberryDjangoConnectionExtension):
        return None
    resolver = definition.base_resolver
    # Only strawberry-django's own resolver (related rows, nothing else) may be skipped.
    if resolver is None or not getattr(resolver.wrapped_func, "can_optimize", False):
        return None
    if set(field.args) - PAGING_ARGUMENTS:
        return None
    relation = definition.django_name or definition.python_name
    cache_name = prefetch_cache_name(model, relation)
    if cache_name is None:
        return None
    connection_type = extensions[0].connection_type
    cursor_connection = isinstance(connection_type, type) and issubclass(
        connection_type, DjangoCursorConnection
    )
    return PrefetchedConnection(
        definition=definition,
        connection_type=connection_type,
        edge_type=resolve_edge_class(connection_type) if cursor_connection else None,
        max_results=extensions[0].max_results,
        relation=relation,
        page_attribute=page_attribute(relation),
        cache_name=cache_name,
        info_class=info_class,
    )


# Classes of values that strawberry-django's resolver wrapper leaves as they are: not a manager,
# a queryset, an awaitable or a callable. Each is a property of the class, except that a generator
# may be awaitable: generators are checked every time.
_plain_value_classes: set[type] = {type(None)}


def is_plain_value(value: Any) -> bool:
    """Whether strawberry-django would return `value` as it is (see DirectResolver)."""
    value_class = type(value)
    if value_class in _plain_value_classes:
        return True
    if isinstance(value, BaseManager | QuerySet) or inspect.isawaitable(value) or callable(value):
        return False
    if value_class is not GeneratorType:
        _plain_value_classes.add(value_class)
    return True


@dataclass(frozen=True)
class DirectResolver:
    """A resolver field with nothing around it: no arguments, no field extension, one value.

    Like `item.currentCenter` (a loader lookup). The ordinary path converts (no) arguments, runs
    (no) extensions and strawberry-django's wrapper, which only acts when the resolver returns a
    manager, a queryset or a callable, or runs in an async context: those take the ordinary path.
    """

    definition: Any
    function: Callable[..., Any]  # the resolver's own function
    pass_self: bool
    pass_source_as: tuple[str, ...]  # names of `root`/`parent` parameters
    info_parameter: str | None
    info_class: type

    def call(self, source: Any, info: Any = None) -> Any:
        """The resolver's value; Fallback when strawberry-django would post-process it (a manager,
        a queryset, a callable, an awaitable): then it is resolved again its way (reads only)."""
        kwargs = dict.fromkeys(self.pass_source_as, source)
        if self.info_parameter is not None:
            kwargs[self.info_parameter] = self.info_class(_raw_info=info, _field=self.definition)
        result = self.function(source, **kwargs) if self.pass_self else self.function(**kwargs)
        if not is_plain_value(result):
            raise Fallback
        return result

    def resolve(self, ordinary: Any, source: Any, info: Any, **arguments: Any) -> Any:
        if in_async_context() or not _shortcuts.get():
            return ordinary(source, info, **arguments)
        try:
            return self.call(source, info)
        except Fallback:
            return ordinary(source, info, **arguments)

    def reader(self) -> Callable[[Any], Any]:
        """The value for schema/plans.py (only for resolvers that take no info), read in one step
        for the commonest resolver (a method of the row's type taking only `self`): plans call it
        for every row of a page. Any error makes the plan step aside, and the ordinary path
        reports it with its path."""
        if self.pass_self and not self.pass_source_as and self.info_parameter is None:
            function = self.function

            def read_by_method(source: Any) -> Any:  # `read` below, for this shape, in one call
                try:
                    result = function(source)
                    if type(result) in _plain_value_classes or is_plain_value(result):
                        return result
                except Exception as error:  # the resolver's, or the check's (a lazy object)
                    raise Fallback from error
                raise Fallback

            return read_by_method
        call = self.call

        def read(source: Any) -> Any:
            try:
                return call(source)
            except Fallback:
                raise
            except Exception as error:
                raise Fallback from error

        return read


def direct_resolver_of(
    graphql_type: GraphQLObjectType, field: Any, info_class: type
) -> DirectResolver | None:
    """The resolver of `field` to call directly, when there is nothing around it."""
    definition, model = _definitions(graphql_type, field)
    if (
        not isinstance(definition, StrawberryDjangoField)
        or model is None
        or definition.base_resolver is None
        or definition.extensions
        or definition.permission_classes
        or definition.arguments
        or field.args
        or definition.is_async
        or definition.is_list
        or definition.is_connection
        or definition.is_paginated
    ):
        return None
    resolver = definition.base_resolver
    if not callable(resolver.wrapped_func):
        return None  # the ordinary path reports it
    return DirectResolver(
        definition=definition,
        function=resolver.wrapped_func,
        pass_self=resolver.self_parameter is not None,
        pass_source_as=tuple(
            p.name for p in (resolver.root_parameter, resolver.parent_parameter) if p is not None
        ),
        info_parameter=getattr(resolver.info_parameter, "name", None),
        info_class=info_class,
    )


def apply_shortcuts(schema: GraphQLSchema, info_class: type) -> dict[str, int]:
    """Set up the shortcuts of every object type's fields; returns how many fields got each."""
    counts = {"columns": 0, "prefetched connections": 0, "direct resolvers": 0}
    django_fields: list[tuple[type, Any, bool]] = []  # (model, field, plain nested connection)
    connections: list[tuple[type, PrefetchedConnection]] = []
    django_types: list[Any] = []  # strawberry-django's definitions of the Django types
    for graphql_type in schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        if (django_type := _django_definition(graphql_type)) is not None:
            django_types.append(django_type)
        for field in graphql_type.fields.values():
            connection = None
            if (column := column_of(graphql_type, field)) is not None:
                field.extensions = {**field.extensions, COLUMN: column}
                counts["columns"] += 1
            elif (
                connection := prefetched_connection_of(graphql_type, field, info_class)
            ) is not None:
                field.resolve = partial(connection.resolve, field.resolve)
                field.extensions = {**field.extensions, PREFETCHED_CONNECTION: connection}
                counts["prefetched connections"] += 1
            elif (direct := direct_resolver_of(graphql_type, field, info_class)) is not None:
                field.resolve = partial(direct.resolve, field.resolve)
                if direct.info_parameter is None:
                    field.extensions = {**field.extensions, DIRECT_RESOLVER: direct}
                counts["direct resolvers"] += 1
            definition, model = _definitions(graphql_type, field)
            if model is not None:
                django_fields.append((model, definition, connection is not None))
            if connection is not None:
                connections.append((model, connection))
    relations = page_relations(django_fields)
    static = hints_are_static(
        (getattr(django_type, "store", None) for django_type in django_types),
        (getattr(definition, "store", None) for _, definition, _ in django_fields),
        {model for model, _, _ in django_fields},
        is_ours=lambda hint: isinstance(hint, PageBuilder),
    )
    schema.extensions = {
        **(schema.extensions or {}),
        PAGE_RELATIONS: relations,
        hint_cache.STATIC_HINTS: static,
    }
    counts["pages built here"] = _build_many_to_many_pages(connections, relations)
    return counts


def _build_many_to_many_pages(
    connections: list[tuple[type, PrefetchedConnection]], relations: frozenset[tuple[type, str]]
) -> int:
    """Give each plain many-to-many nested page its PageBuilder (schema/nested_pages.py) as the
    optimizer hint of its field; returns how many fields got one."""
    built = 0
    for model, connection in connections:
        if (model, connection.relation) not in relations:
            continue
        if not isinstance(getattr(model, connection.relation, None), ManyToManyDescriptor):
            continue  # Django's reverse foreign-key prefetcher reads its queryset whole
        hints = connection.definition.store.prefetch_related
        if not any(isinstance(hint, PageBuilder) for hint in hints):
            hints.append(
                PageBuilder(
                    connection.definition,
                    connection.relation,
                    model,
                    connection.max_results,
                    shortcuts_on,
                )
            )
        built += 1
    return built


class NestedPageOptimizer(DjangoOptimizerExtension):
    """strawberry-django's optimizer, with nested pages fetched by schema/nested_pages.py and
    the walk of each selection kept (schema/hint_cache.py)."""

    def optimize(self, qs: Any, info: Any, *, store: Any = None) -> Any:
        if not self.enabled.get():
            return qs
        with page_hints_pending():
            if _shortcuts.get():  # the walk's hints kept per selection (schema/hint_cache.py)
                optimized = hint_cache.optimize(qs, info, config=self._config(info), store=store)
            else:
                optimized = super().optimize(qs, info, store=store)
        if not isinstance(optimized, QuerySet) or not _shortcuts.get() or building_page():
            return optimized
        if optimized._result_cache is None:  # rows read already are kept, not read again
            optimized = with_plain_rows(optimized.all())
        schema = getattr(info, "_raw_info", info).schema  # a Strawberry Info, or graphql-core's
        relations = (schema.extensions or {}).get(PAGE_RELATIONS)
        return with_nested_pages(optimized, relations) if relations else optimized

    def _config(self, info: Any) -> OptimizerConfig:
        """The configuration DjangoOptimizerExtension.optimize applies."""
        return OptimizerConfig(
            enable_only=self.enable_only and info.operation.operation == OperationType.QUERY,
            enable_select_related=self.enable_select_related,
            enable_prefetch_related=self.enable_prefetch_related,
            enable_annotate=self.enable_annotate_optimization,
            prefetch_custom_queryset=self.prefetch_custom_queryset,
        )


class ColumnExecution:
    """Mixin for a graphql-core execution context: column fields read from their rows."""

    @cached_property
    def _shortcuts_apply(self) -> bool:
        manager = self.middleware_manager  # type: ignore[attr-defined]  # a mixin: the execution context it joins has it
        blind = manager is None or all(
            isinstance(m, COLUMN_BLIND_EXTENSIONS) for m in manager.middlewares
        )
        return blind and _shortcuts.get()

    def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        token = _wants_edges.set({})
        try:
            with pages_released_after() as release_pages:
                result = super().execute_operation(*args, **kwargs)  # type: ignore[misc]  # a mixin: the execution context it joins has it
                if (
                    isinstance(result, GraphQLExecutionResult)
                    and self.operation.operation is not OperationType.SUBSCRIPTION  # type: ignore[attr-defined]  # as above
                ):
                    release_pages()  # complete: no resolver reads the rows again
                return result
        finally:
            _wants_edges.reset(token)

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        if self._shortcuts_apply:
            field = parent_type.fields.get(field_details_list[0].node.name.value)
            column = field.extensions.get(COLUMN) if field is not None else None
            if column is not None:
                try:
                    return column.read(source, None)
                except Fallback:
                    pass  # resolved the ordinary way, below
        return super().execute_field(  # type: ignore[misc]  # a mixin: the execution context it joins has it
            parent_type, source, field_details_list, path, position_context
        )
