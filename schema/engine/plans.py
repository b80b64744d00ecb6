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
with its path. Plans only read: resolving twice changes nothing but time. An object whose plan
reads nothing but its columns (a center's `{ name }`) is completed once per run for each loaded
row: the items of a page share a handful of centers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from functools import cached_property
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    Undefined,
    is_leaf_type,
)
from graphql.execution.values import get_argument_values
from strawberry import relay
from strawberry.relay.types import Connection, Edge
from strawberry.relay.utils import to_base64
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE
from strawberry.types.field import StrawberryField
from strawberry.utils.inspect import in_async_context
from strawberry_django.fields.field import StrawberryDjangoField
from strawberry_django.pagination import get_cached_total_count, get_total_count
from strawberry_django.relay.cursor_connection import (
    DjangoCursorConnection,
    OrderedCollectionCursor,
)
from strawberry_django.relay.utils import resolve_model_id
from strawberry_django.utils.typing import get_django_definition

from schema.engine.execution import (
    COLUMN,
    DIRECT_RESOLVER,
    PREFETCHED_CONNECTION,
    Fallback,
    PrefetchedConnection,
    output_coercion,
)
from schema.engine.identity import IdentityMap
from schema.engine.nested_pages import TOTAL_COUNT, NestedPage

logger = logging.getLogger(__name__)


# Set on steps that read nothing but the value's loaded columns (always the same answer).
READS_ROW_ONLY = "majestic_reads_row_only"
# Set on an object's completion whose class check refuses what is no row of its type (None, an
# error) with Fallback: a non-null field's completion needs no check of its own before it.
CHECKS_CLASS = "majestic_checks_class"
# Set on a class-based type check: the classes it accepted whose instances can only hold a cast
# (strawberry.cast) in their own __dict__ (see _cast_shows_in_dict): a value of one of them with
# no cast there is of the type, and the completion asks the set instead of calling the check.
ACCEPTED_CLASSES = "majestic_accepted_classes"
# Set on a nullable object's completion: the completion of its fields, which it wraps.
NULLABLE_OBJECT_OF = "majestic_nullable_object_of"


class PlanRun:
    """What one execution's plans share: the executor, an info for type checks, argument values."""

    __slots__ = ("arguments", "completed", "executor", "info")

    def __init__(self, executor: Any, info: Any) -> None:
        self.executor = executor
        self.info = info  # is_type_of predicates take one (and ignore it)
        self.arguments: dict[int, dict[str, Any]] = {}
        # (plan, value) -> (value, its completion), for plans that only read columns: one
        # loaded row (a center, a driver) is completed once however many rows point at it.
        self.completed: dict[tuple[int, int], tuple[Any, dict[str, Any]]] = {}

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


# Where the is_type_of predicates that look only at a value's class (and its cast) come from.
CLASS_BASED_IS_TYPE_OF = frozenset({"strawberry_django.type", "strawberry.schema.schema_converter"})

Complete = Callable[[Any, PlanRun], Any]  # (value, run) -> completed JSON-ready value
Step = Callable[[Any, PlanRun], Any]  # (parent object, run) -> the field's completed value


class OperationPlans:
    """The plans of one parsed operation, and whether it may have any."""

    __slots__ = ("plain", "plans")

    def __init__(self, plain: bool) -> None:
        # A directive can make the selection depend on variables: then nothing is planned.
        self.plain = plain
        # By (type name, ids of the field nodes): the nodes belong to the operation, which
        # outlives this entry, so no id is reused while it is here. None: no plan.
        self.plans: dict[
            tuple[str, tuple[int, ...]], Callable[[Any, PlanRun], dict[str, Any]] | None
        ] = {}


# Plans live exactly as long as their operation's parsed document (the parser cache keeps the
# documents of repeated requests); nothing here keeps a document, or its text, alive.
_operations: IdentityMap[OperationPlans] = IdentityMap()


def plan_for(
    executor: Any, object_type: GraphQLObjectType, field_details_list: Any
) -> Callable[[Any, PlanRun], dict[str, Any]] | None:
    """The compiled plan completing `object_type` for this selection, or None."""
    operation = executor.operation
    known = _operations.get(operation)
    if known is None:
        plain = not _has_directives(operation) and not any(
            _has_directives(fragment.definition) for fragment in executor.fragments.values()
        )
        known = OperationPlans(plain)
        _operations[operation] = known
    if not known.plain:
        return None
    key = (object_type.name, tuple(id(details.node) for details in field_details_list))
    if key in known.plans:
        return known.plans[key]
    plan = None
    try:  # each field of the selection is checked for fragment variables as it is compiled
        plan = _compile_object(executor, object_type, field_details_list)
    except Exception:  # a plan is an optimisation: without one, the ordinary path answers
        logger.warning("No plan for %s", object_type.name, exc_info=True)
    known.plans[key] = plan
    return plan


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
    type_check = class_type_check(object_type)
    # The classes taken without asking (class_type_check's); none where a type's own is_type_of
    # is asked for every value.
    accepted = getattr(type_check, ACCEPTED_CLASSES, ())

    def complete_object(source: Any, run: PlanRun) -> dict[str, Any]:
        if (
            type_check is not None
            and (type(source) not in accepted or TYPE_CAST_ATTRIBUTE in source.__dict__)
            and type_check(source, run.info) is not True
        ):
            raise Fallback
        return {response_key: step(source, run) for response_key, step in steps}

    checks_class = hasattr(type_check, ACCEPTED_CLASSES)
    setattr(complete_object, CHECKS_CLASS, checks_class)
    if not all(getattr(step, READS_ROW_ONLY, False) for _, step in steps):
        return complete_object

    def complete_row(source: Any, run: PlanRun) -> dict[str, Any]:
        key = (id(complete_row), id(source))
        done = run.completed.get(key)
        if done is not None and done[0] is source:
            return done[1]
        completed = complete_object(source, run)
        run.completed[key] = (source, completed)  # holds `source`: its id stays its own
        return completed

    setattr(complete_row, CHECKS_CLASS, checks_class)
    return complete_row


def class_type_check(object_type: GraphQLObjectType) -> Callable[[Any, Any], Any] | None:
    """`object_type.is_type_of`, asked once per class of value where only the class decides.

    The is_type_of Strawberry and strawberry-django make look at the value's class, or at its
    cast (strawberry.cast) when it has one: a class they accepted is accepted again without
    asking. Any other is_type_of (a type's own) is asked for every value. An error is refused
    whatever its class (graphql-core reports an error returned as a value).
    """
    is_type_of = object_type.is_type_of
    if is_type_of is None or getattr(is_type_of, "__module__", None) not in CLASS_BASED_IS_TYPE_OF:
        return is_type_of
    accepted: set[type] = set()
    plainly_accepted: set[type] = set()  # ACCEPTED_CLASSES

    def type_check(source: Any, info: Any) -> bool:
        if getattr(source, TYPE_CAST_ATTRIBUTE, None) is not None:
            return is_type_of(source, info) is True
        value_class = type(source)
        if value_class in accepted:
            return True
        if isinstance(source, Exception) or is_type_of(source, info) is not True:
            return False
        accepted.add(value_class)
        if _cast_shows_in_dict(value_class):
            plainly_accepted.add(value_class)
        return True

    setattr(type_check, ACCEPTED_CLASSES, plainly_accepted)
    return type_check


def _cast_shows_in_dict(value_class: type) -> bool:
    """Whether a cast of an instance of `value_class` (strawberry.cast sets an attribute) can only
    be in the instance's own __dict__: no slots, no attribute lookup of its own (a proxy such as
    Django's SimpleLazyObject keeps it on the object it wraps), no cast on the class itself."""
    return (
        "__dict__" in dir(value_class)
        and not hasattr(value_class, "__slots__")
        and getattr(value_class, "__getattribute__", None) is object.__getattribute__
        and not hasattr(value_class, "__getattr__")
        and not hasattr(value_class, TYPE_CAST_ATTRIBUTE)
    )


def _compile_field(executor: Any, parent_type: GraphQLObjectType, details_list: Any) -> Step | None:
    if any(details.fragment_variable_values for details in details_list):
        return None
    name = details_list[0].node.name.value
    if name == "__typename":
        type_name = parent_type.name

        def read_type_name(source: Any, run: PlanRun) -> str:
            return type_name

        setattr(read_type_name, READS_ROW_ONLY, True)
        return read_type_name
    field = parent_type.fields.get(name)
    if field is None:
        return None
    extensions = field.extensions or {}
    if (column := extensions.get(COLUMN)) is not None:
        read_column: Step = column.read
        setattr(read_column, READS_ROW_ONLY, True)
        return read_column
    if (node_id := _node_id_reader(parent_type, field)) is not None:
        return node_id
    if (total_count := _total_count_reader(field)) is not None:
        return total_count
    if (connection := extensions.get(PREFETCHED_CONNECTION)) is not None:
        return _compile_prefetched_connection(executor, field, details_list, connection)
    resolve = _value_reader(field)
    if resolve is None:
        return None
    complete = _compile_value(executor, field.type, details_list)
    if complete is None:
        return None
    complete_fields = getattr(complete, NULLABLE_OBJECT_OF, None)
    if complete_fields is not None and getattr(complete_fields, CHECKS_CLASS):
        # A nullable object (an item's currentCenter), read and completed in one step: its
        # class check refuses an error (Fallback), as complete_nullable_object does.
        def read_nullable_object(source: Any, run: PlanRun) -> Any:
            value = resolve(source)
            return None if value is None else complete_fields(value, run)

        return read_nullable_object
    return lambda source, run: complete(resolve(source), run)


def _resolver_of(owner: type, python_name: str) -> Any:
    fields = owner.__strawberry_definition__.fields  # type: ignore[attr-defined]  # a strawberry type's
    return _function_of(next(f for f in fields if f.python_name == python_name))


def _function_of(definition: StrawberryField) -> Any:
    """The resolver's plain function: each type's copy of a classmethod resolver is bound anew."""
    wrapped = definition.base_resolver.wrapped_func if definition.base_resolver else None
    return getattr(wrapped, "__func__", wrapped)


# The library resolvers two steps below stand in for, recognised by identity.
NODE_ID_RESOLVER = _resolver_of(relay.Node, "_id")
TOTAL_COUNT_RESOLVER = _resolver_of(DjangoCursorConnection, "total_count")


def _node_id_reader(parent_type: GraphQLObjectType, field: GraphQLField) -> Step | None:
    """A Django node's `id` (relay.Node._id with strawberry-django's resolve_model_id), encoded
    from the row's loaded key column, as that resolver and the GlobalID scalar do."""
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if (
        not isinstance(definition, StrawberryField)
        or _function_of(definition) is not NODE_ID_RESOLVER
        or definition.extensions
    ):
        return None
    type_definition = (parent_type.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    origin: Any = getattr(type_definition, "origin", None)
    django_definition = get_django_definition(origin) if isinstance(origin, type) else None
    if (
        django_definition is None
        or getattr(origin.resolve_id, "__func__", None) is not resolve_model_id
        or origin.resolve_typename.__func__ is not relay.Node.resolve_typename.__func__  # type: ignore[attr-defined]  # bound: has __func__
    ):
        return None
    key = origin.resolve_id_attr()
    if key == "pk":
        key = django_definition.model._meta.pk.attname
    type_name = parent_type.name

    def read_node_id(source: Any, run: PlanRun) -> str:
        try:
            value = source.__dict__[key]
        except (AttributeError, KeyError):
            raise Fallback from None  # not loaded: the ordinary path reads it
        if value is None:
            raise Fallback
        return to_base64(type_name, str(value))

    setattr(read_node_id, READS_ROW_ONLY, True)
    return read_node_id


def _total_count_reader(field: GraphQLField) -> Step | None:
    """A root connection's `totalCount` (DjangoCursorConnection.total_count): the count the
    window annotated, else one COUNT query, as that resolver does in a sync context."""
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if (
        not isinstance(definition, StrawberryField)
        or _function_of(definition) is not TOTAL_COUNT_RESOLVER
        or definition.extensions
    ):
        return None

    def read_total_count(source: Any, run: PlanRun) -> int:
        queryset = getattr(source, "total_count_qs", None)
        if queryset is None:
            raise Fallback
        try:
            total = get_cached_total_count(queryset)
            return total if total is not None else get_total_count(queryset)
        except Exception as error:  # the ordinary path reports it, with its path
            raise Fallback from error

    return read_total_count


def _nested_total_count(nested: NestedPage) -> int:
    """A nested page's `totalCount`, when its rows tell it (as get_cached_total_count reads it
    from the window annotation); otherwise the ordinary path counts."""
    rows = nested.rows
    if not rows:
        if nested.whole:
            return 0  # every row of the list was read: there are none
        raise Fallback
    total = rows[0].__dict__.get(TOTAL_COUNT)
    if total is None or nested.source.query.distinct:
        raise Fallback
    return int(total)


def _value_reader(field: GraphQLField) -> Callable[[Any], Any] | None:
    """How to get the field's value from its parent, when nothing else runs around it."""
    if (direct := (field.extensions or {}).get(DIRECT_RESOLVER)) is not None:
        reader: Callable[[Any], Any] | None = direct.reader()
        return reader
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
    if isinstance(value_type, GraphQLNonNull) and isinstance(value_type.of_type, GraphQLObjectType):
        # The commonest case (an edge, its node) in one step rather than two.
        complete_object = _compile_object(executor, value_type.of_type, details_list)
        if complete_object is None:
            return None
        if getattr(complete_object, CHECKS_CLASS):
            return complete_object  # None and errors fail its class check: Fallback, as below

        def complete_non_null_object(value: Any, run: PlanRun) -> Any:
            if value is None or isinstance(value, Exception):
                raise Fallback  # the ordinary path raises the null error, or reports the error
            return complete_object(value, run)

        return complete_non_null_object
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
            if isinstance(value, Exception | str | bytes | Mapping) or not isinstance(
                value, Iterable
            ):
                raise Fallback  # what graphql-core refuses (or reports) as a list
            return [item(entry, run) for entry in value]

        return complete_list
    if is_leaf_type(value_type):
        return _leaf_completion(value_type)
    if isinstance(value_type, GraphQLObjectType):
        complete_fields = _compile_object(executor, value_type, details_list)
        if complete_fields is None:
            return None

        def complete_nullable_object(value: Any, run: PlanRun) -> Any:
            if value is None:
                return None
            if isinstance(value, Exception):
                raise Fallback
            return complete_fields(value, run)

        setattr(complete_nullable_object, NULLABLE_OBJECT_OF, complete_fields)
        return complete_nullable_object
    return None  # interfaces and unions: graphql-core resolves their runtime type


def _leaf_completion(leaf_type: GraphQLLeafType) -> Complete:
    coerce = output_coercion(leaf_type)

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
PAGE_INFO_FIELDS = frozenset(
    {"__typename", "hasNextPage", "hasPreviousPage", "startCursor", "endCursor"}
)


def _named(value_type: Any) -> Any:
    while isinstance(value_type, GraphQLNonNull | GraphQLList):
        value_type = value_type.of_type
    return value_type


def _subfields(executor: Any, object_type: Any, details_list: Any) -> list[tuple[str, str, Any]]:
    """(response key, field name, field details) of a selection on `object_type`."""
    grouped_field_set, defer_usages, _ = executor.collect_subfields(object_type, details_list)
    if defer_usages:
        raise Fallback
    return [
        (response_key, details[0].node.name.value, details)
        for response_key, details in grouped_field_set.items()
    ]


# One response key of a nested page: ("edges", [(key, "node"|"cursor"|"__typename", complete)]),
# ("pageInfo", [(key, field name)]) or ("__typename", None). Each alias keeps its own selection.
PageLayout = list[tuple[str, str, Any]]


def _compile_prefetched_connection(
    executor: Any, field: GraphQLField, details_list: Any, connection: PrefetchedConnection
) -> Step | None:
    """A nested cursor page built from the prefetched rows straight into its JSON shape:
    {edges: [{node, cursor}], pageInfo}, with cursors encoded only when asked for."""
    connection_type = connection.connection_type
    edge_type = connection.edge_type
    if (
        edge_type is None
        # A class method read off its class is a bound method; mypy types it as a function.
        or connection_type.resolve_node.__func__ is not Connection.resolve_node.__func__  # type: ignore[attr-defined]  # bound: has __func__
        or edge_type.resolve_edge.__func__ is not Edge.resolve_edge.__func__  # type: ignore[attr-defined]  # bound: has __func__
    ):
        return None  # a custom node or edge: only the ordinary path knows what it does
    graphql_connection = _named(field.type)
    graphql_edge = _named(graphql_connection.fields["edges"].type)
    page_info_type = _named(graphql_connection.fields["pageInfo"].type)
    layout: PageLayout = []
    try:
        for key, name, details in _subfields(executor, graphql_connection, details_list):
            if name == "edges":
                edge_layout = []
                for edge_key, edge_field, edge_details in _subfields(
                    executor, graphql_edge, details
                ):
                    complete = None
                    if edge_field == "node":
                        node_type = graphql_edge.fields["node"].type
                        complete = _compile_value(executor, node_type, edge_details)
                        if complete is None:
                            return None
                    elif edge_field not in ("cursor", "__typename"):
                        return None
                    edge_layout.append((edge_key, edge_field, complete))
                layout.append((key, name, edge_layout))
            elif name == "pageInfo":
                info_layout = []
                for info_key, info_field, _ in _subfields(executor, page_info_type, details):
                    if info_field not in PAGE_INFO_FIELDS:
                        return None
                    info_layout.append((info_key, info_field))
                layout.append((key, name, info_layout))
            elif name in ("__typename", "totalCount"):
                layout.append((key, name, None))
            else:
                return None  # any other field: the ordinary path
    except Fallback:
        return None
    wants_rows = any(name in ("edges", "pageInfo") for _, name, _ in layout)
    wants_cursors = any(
        (name == "edges" and any(field == "cursor" for _, field, _ in selection))
        or (name == "pageInfo" and any(f in ("startCursor", "endCursor") for _, f in selection))
        for _, name, selection in layout
    )
    cursor_prefix = edge_type.CURSOR_PREFIX
    type_names = {
        "connection": graphql_connection.name,
        "edge": graphql_edge.name,
        "pageInfo": page_info_type.name,
    }

    def page(source: Any, run: PlanRun) -> dict[str, Any]:
        nested = connection.prefetched_page(source)
        if nested is None:
            raise Fallback
        arguments = run.arguments_of(field, details_list[0])
        if wants_rows:
            results, has_previous, has_next = connection.window(nested.rows, **arguments)
        else:
            results, has_previous, has_next = [], False, False
        cursors: list[str] = []
        if wants_cursors and results:
            ordering = nested.ordering
            cursors = [
                to_base64(cursor_prefix, OrderedCollectionCursor.from_model(row, ordering))
                for row in results
            ]
        page_info = {
            "__typename": type_names["pageInfo"],
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        }
        answer: dict[str, Any] = {}
        for key, name, selection in layout:
            if name == "edges" and len(selection) == 1 and selection[0][2] is not None:
                node_key, _, complete_node = selection[0]  # `edges { node { ... } }`, the commonest
                answer[key] = [{node_key: complete_node(row, run)} for row in results]
            elif name == "edges":
                answer[key] = [
                    _edge(row, index, cursors, selection, type_names["edge"], run)
                    for index, row in enumerate(results)
                ]
            elif name == "pageInfo":
                answer[key] = {
                    info_key: page_info[info_field] for info_key, info_field in selection
                }
            elif name == "totalCount":
                answer[key] = _nested_total_count(nested)
            else:
                answer[key] = type_names["connection"]
        return answer

    return page


def _edge(
    row: Any,
    index: int,
    cursors: list[str],
    selection: list[tuple[str, str, Complete | None]],
    type_name: str,
    run: PlanRun,
) -> dict[str, Any]:
    edge: dict[str, Any] = {}
    for key, name, complete_node in selection:
        if complete_node is not None:
            edge[key] = complete_node(row, run)
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
        return self._shortcuts_apply and not in_async_context()  # type: ignore[attr-defined]  # ColumnExecution's, joined with it

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
        return super().complete_object_value(  # type: ignore[misc]  # a mixin: the execution context it joins has it
            return_type, field_details_list, info, path, result, position_context
        )
