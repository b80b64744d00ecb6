"""Selection plans: a page of rows completed by closures compiled once per document.

graphql-core completes a result field by field: for each of the 100 items of a page and each of
their fields it looks the field up, collects sub-selections, builds path and info objects and
walks the type wrappers, even when schema/execution.py's shortcuts then answer in a few lines.
That walk alone costs about as much as the hand-written view's whole request. A plan does the same
walk once per document (the parsed document is cached, so its nodes are stable keys) and keeps,
for each selected field, a closure that reads the value and completes it: a column from the row,
a resolver called directly, a nested page built from the prefetched rows, an attribute of a plain
object (an edge's node, a loader's summary), each checked against its GraphQL type as
graphql-core would.

A selection gets a plan only when every field under it is one of those, with no directive, no
fragment variables, no abstract type and no field extension (so no permission of its own is ever
skipped). While running, anything a plan does not handle (null where the type forbids it, a column
not loaded, a resolver that raises or returns a queryset, a value its type refuses) raises
`Fallback`, and the object is completed again the ordinary way, which reports what went wrong
with its path. Plans only read: resolving twice changes nothing but time.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from functools import cached_property
from typing import Any

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    OperationDefinitionNode,
    Undefined,
    is_leaf_type,
)
from graphql.execution.values import get_argument_values
from strawberry.relay.types import Connection, Edge
from strawberry.relay.utils import to_base64
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField
from strawberry.utils.inspect import in_async_context
from strawberry_django.fields.field import StrawberryDjangoField
from strawberry_django.optimizer import is_optimized_by_prefetching
from strawberry_django.queryset import get_queryset_config
from strawberry_django.relay.cursor_connection import OrderedCollectionCursor

from schema.execution import (
    COLUMN,
    DIRECT_RESOLVER,
    PREFETCHED_CONNECTION,
    Fallback,
    PrefetchedConnection,
    column_value,
)


class PlanRun:
    """What one execution's plans share: the executor, an info for type checks, argument values."""

    __slots__ = ("arguments", "executor", "info")

    def __init__(self, executor: Any, info: Any) -> None:
        self.executor = executor
        self.info = info  # is_type_of predicates take one (and ignore it)
        self.arguments: dict[int, dict[str, Any]] = {}

    def arguments_of(self, field: GraphQLField, details: Any) -> dict[str, Any]:
        """A field's argument values: the same for every row, so worked out once per execution."""
        node = details.node
        values = self.arguments.get(id(node))
        if values is None:
            executor = self.executor
            try:
                values = get_argument_values(
                    field, node, executor.variable_values, None, executor.hide_suggestions
                )
            except Exception as error:  # the ordinary path reports it with its location
                raise Fallback from error
            self.arguments[id(node)] = values
        return values


Complete = Callable[[Any, PlanRun], Any]  # (value, run) -> completed JSON-ready value
Step = Callable[[Any, PlanRun], Any]  # (parent object, run) -> the field's completed value


# Plans by (type name, ids of the field nodes); each entry keeps its nodes alive, so no id is
# reused while it is cached. None records a selection that has no plan.
_plans: OrderedDict[tuple[str, tuple[int, ...]], tuple[tuple[FieldNode, ...], Any]] = OrderedDict()
PLAN_CACHE_SIZE = 1024

# Operations that use no directive (a directive can make the selection depend on variables).
_plain_operations: OrderedDict[int, tuple[OperationDefinitionNode, bool]] = OrderedDict()


def plan_for(
    executor: Any, object_type: GraphQLObjectType, field_details_list: Any
) -> Callable[[Any, PlanRun], dict[str, Any]] | None:
    """The compiled plan completing `object_type` for this selection, or None."""
    nodes = tuple(details.node for details in field_details_list)
    key = (object_type.name, tuple(map(id, nodes)))
    cached = _plans.get(key)
    if cached is not None:
        return cached[1]
    plan = None
    if _operation_is_plain(executor) and not any(
        details.fragment_variable_values for details in field_details_list
    ):
        plan = _compile_object(executor, object_type, field_details_list)
    _plans[key] = (nodes, plan)
    if len(_plans) > PLAN_CACHE_SIZE:
        _plans.popitem(last=False)
    return plan


def _operation_is_plain(executor: Any) -> bool:
    operation = executor.operation
    cached = _plain_operations.get(id(operation))
    if cached is None or cached[0] is not operation:
        plain = not _has_directives(operation) and not any(
            _has_directives(fragment.definition) for fragment in executor.fragments.values()
        )
        cached = _plain_operations[id(operation)] = (operation, plain)
        if len(_plain_operations) > PLAN_CACHE_SIZE:
            _plain_operations.popitem(last=False)
    return cached[1]


def _has_directives(node: Any) -> bool:
    if getattr(node, "directives", None):
        return True
    selection_set = getattr(node, "selection_set", None)
    return selection_set is not None and any(
        _has_directives(selection) for selection in selection_set.selections
    )


def _compile_object(
    executor: Any, object_type: GraphQLObjectType, field_details_list: Any
) -> Callable[[Any, PlanRun], dict[str, Any]] | None:
    grouped_field_set, defer_usages, _ = executor.collect_subfields(object_type, field_details_list)
    if defer_usages:
        return None
    steps: list[tuple[str, Step]] = []
    for response_key, details_list in grouped_field_set.items():
        step = _compile_field(executor, object_type, details_list)
        if step is None:
            return None
        steps.append((response_key, step))
    is_type_of = object_type.is_type_of

    def complete_object(source: Any, run: PlanRun) -> dict[str, Any]:
        if is_type_of is not None and is_type_of(source, run.info) is not True:
            raise Fallback
        return {response_key: step(source, run) for response_key, step in steps}

    return complete_object


def _compile_field(executor: Any, parent_type: GraphQLObjectType, details_list: Any) -> Step | None:
    if any(details.fragment_variable_values for details in details_list):
        return None
    name = details_list[0].node.name.value
    if name == "__typename":
        type_name = parent_type.name
        return lambda source, run: type_name
    field = parent_type.fields.get(name)
    if field is None:
        return None
    extensions = field.extensions or {}
    if (column := extensions.get(COLUMN)) is not None:

        def read_column(source: Any, run: PlanRun) -> Any:
            value = column_value(column, source)
            if value is Undefined:
                raise Fallback
            return value

        return read_column
    if (connection := extensions.get(PREFETCHED_CONNECTION)) is not None:
        return _compile_prefetched_connection(executor, field, details_list, connection)
    resolve = _value_reader(field)
    if resolve is None:
        return None
    complete = _compile_value(executor, field.type, details_list)
    if complete is None:
        return None
    return lambda source, run: complete(resolve(source), run)


def _value_reader(field: GraphQLField) -> Callable[[Any], Any] | None:
    """How to get the field's value from its parent, when nothing else runs around it."""
    if (direct := (field.extensions or {}).get(DIRECT_RESOLVER)) is not None:
        return direct.call_without_info
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if (
        not isinstance(definition, StrawberryField)
        # strawberry-django's fields turn related managers into querysets: not plain reads.
        or isinstance(definition, StrawberryDjangoField)
        or definition.base_resolver is not None
        or definition.extensions
        or definition.permission_classes
        or definition.directives
        or field.args
    ):
        return None
    attribute = definition.python_name

    def read_attribute(source: Any) -> Any:
        try:
            return getattr(source, attribute)
        except Exception as error:
            raise Fallback from error

    return read_attribute


def _compile_value(
    executor: Any, value_type: GraphQLOutputType, details_list: Any
) -> Complete | None:
    """Completion of a value of `value_type`, as graphql-core's complete_value does it."""
    if isinstance(value_type, GraphQLNonNull):
        inner = _compile_value(executor, value_type.of_type, details_list)
        if inner is None:
            return None

        def complete_non_null(value: Any, run: PlanRun) -> Any:
            completed = inner(value, run)
            if completed is None:
                raise Fallback  # the ordinary path raises the null error, with its path
            return completed

        return complete_non_null
    if isinstance(value_type, GraphQLList):
        item = _compile_value(executor, value_type.of_type, details_list)
        if item is None:
            return None

        def complete_list(value: Any, run: PlanRun) -> Any:
            if value is None:
                return None
            if isinstance(value, Exception | str | bytes) or not isinstance(value, Iterable):
                raise Fallback
            return [item(entry, run) for entry in value]

        return complete_list
    if is_leaf_type(value_type):
        return _leaf_completion(value_type)
    if isinstance(value_type, GraphQLObjectType):
        complete_object = _compile_object(executor, value_type, details_list)
        if complete_object is None:
            return None

        def complete_nullable_object(value: Any, run: PlanRun) -> Any:
            if value is None:
                return None
            if isinstance(value, Exception):
                raise Fallback
            return complete_object(value, run)

        return complete_nullable_object
    return None  # interfaces and unions: graphql-core resolves their runtime type


def _leaf_completion(leaf_type: GraphQLLeafType) -> Complete:
    coerce = leaf_type.coerce_output_value

    def complete_leaf(value: Any, run: PlanRun) -> Any:
        if value is None:
            return None
        if isinstance(value, Exception):
            raise Fallback
        try:
            coerced = coerce(value)
        except Exception as error:
            raise Fallback from error
        if coerced is None or coerced is Undefined:
            raise Fallback
        return coerced

    return complete_leaf


# What a nested page's selection may ask for, by field name, when a plan builds it.
CONNECTION_FIELDS = frozenset({"__typename", "edges", "pageInfo"})
EDGE_FIELDS = frozenset({"__typename", "node", "cursor"})
PAGE_INFO_FIELDS = frozenset(
    {"__typename", "hasNextPage", "hasPreviousPage", "startCursor", "endCursor"}
)


def _named(value_type: Any) -> Any:
    while isinstance(value_type, GraphQLNonNull | GraphQLList):
        value_type = value_type.of_type
    return value_type


def _subfields(executor: Any, object_type: Any, details_list: Any) -> list[tuple[str, str, Any]]:
    grouped_field_set, defer_usages, _ = executor.collect_subfields(object_type, details_list)
    if defer_usages:
        raise Fallback
    return [
        (response_key, details[0].node.name.value, details)
        for response_key, details in grouped_field_set.items()
    ]


def _compile_prefetched_connection(
    executor: Any, field: GraphQLField, details_list: Any, connection: PrefetchedConnection
) -> Step | None:
    """A nested cursor page built from the prefetched rows straight into its JSON shape:
    {edges: [{node, cursor}], pageInfo}, with cursors encoded only when asked for."""
    connection_type = connection.connection_type
    edge_type = connection.edge_type
    if (
        edge_type is None
        or connection_type.resolve_node.__func__ is not Connection.resolve_node.__func__
        or edge_type.resolve_edge.__func__ is not Edge.resolve_edge.__func__
    ):
        return None  # a custom node or edge: only the ordinary path knows what it does
    graphql_connection = _named(field.type)
    try:
        selection = _subfields(executor, graphql_connection, details_list)
        if any(name not in CONNECTION_FIELDS for _, name, _ in selection):
            return None
        edges_type = graphql_connection.fields["edges"].type
        graphql_edge = _named(edges_type)
        page_info_type = _named(graphql_connection.fields["pageInfo"].type)
        edge_selection: list[tuple[str, str, Any]] = []
        page_info_selection: list[tuple[str, str, Any]] = []
        node_completion: dict[str, Complete] = {}
        for _, name, details in selection:
            if name == "edges":
                for key, edge_field, edge_details in _subfields(executor, graphql_edge, details):
                    if edge_field not in EDGE_FIELDS:
                        return None
                    edge_selection.append((key, edge_field, edge_details))
                    if edge_field == "node":
                        node_type = graphql_edge.fields["node"].type
                        complete = _compile_value(executor, node_type, edge_details)
                        if complete is None:
                            return None
                        node_completion[key] = complete
            elif name == "pageInfo":
                for key, info_field, info_details in _subfields(executor, page_info_type, details):
                    if info_field not in PAGE_INFO_FIELDS:
                        return None
                    page_info_selection.append((key, info_field, info_details))
    except Fallback:
        return None
    wants_rows = any(name in ("edges", "pageInfo") for _, name, _ in selection)
    wants_cursors = any(name == "cursor" for _, name, _ in edge_selection) or any(
        name in ("startCursor", "endCursor") for _, name, _ in page_info_selection
    )
    cache_name = connection.cache_name
    cursor_prefix = edge_type.CURSOR_PREFIX
    names = {
        "connection": graphql_connection.name,
        "edge": graphql_edge.name,
        "pageInfo": page_info_type.name,
    }

    def page(source: Any, run: PlanRun) -> dict[str, Any]:
        rows = getattr(source, "_prefetched_objects_cache", {}).get(cache_name)
        # Rows the optimizer prefetched already went through the type's get_queryset.
        if rows is None or not is_optimized_by_prefetching(rows):
            raise Fallback
        arguments = run.arguments_of(field, details_list[0])
        if wants_rows:
            results, has_previous, has_next = connection.window(rows, **arguments)
        else:
            results, has_previous, has_next = [], False, False
        cursors: list[str] = []
        if wants_cursors and results:
            ordering = get_queryset_config(rows).ordering_descriptors
            cursors = [
                to_base64(cursor_prefix, OrderedCollectionCursor.from_model(row, ordering))
                for row in results
            ]
        edges = [
            _edge(row, index, cursors, edge_selection, node_completion, names["edge"], run)
            for index, row in enumerate(results)
        ]
        page_info = {
            "__typename": names["pageInfo"],
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        }
        answer: dict[str, Any] = {}
        for key, name, _ in selection:
            if name == "edges":
                answer[key] = edges
            elif name == "pageInfo":
                answer[key] = {
                    info_key: page_info[info_field]
                    for info_key, info_field, _ in page_info_selection
                }
            else:
                answer[key] = names["connection"]
        return answer

    return page


def _edge(
    row: Any,
    index: int,
    cursors: list[str],
    selection: list[tuple[str, str, Any]],
    node_completion: dict[str, Complete],
    type_name: str,
    run: PlanRun,
) -> dict[str, Any]:
    edge: dict[str, Any] = {}
    for key, name, _ in selection:
        if name == "node":
            edge[key] = node_completion[key](row, run)
        elif name == "cursor":
            edge[key] = cursors[index]
        else:
            edge[key] = type_name
    return edge


class PlannedExecution:
    """Mixin for a graphql-core execution context: objects with a plan complete by it."""

    @cached_property
    def _plans_apply(self) -> bool:
        # Resolvers read the database: in an async context only strawberry-django's wrappers may.
        return self._shortcuts_apply and not in_async_context()  # type: ignore[attr-defined]

    def complete_object_value(
        self,
        return_type: GraphQLObjectType,
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        if position_context is None and self._plans_apply:
            plan = plan_for(self, return_type, field_details_list)
            if plan is not None:
                try:
                    return plan(result, PlanRun(self, info))
                except Fallback:
                    pass  # completed again below, the ordinary way
        return super().complete_object_value(  # type: ignore[misc]
            return_type, field_details_list, info, path, result, position_context
        )
