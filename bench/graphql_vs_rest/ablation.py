"""Switches that turn one part of the read engine off, for `profile --ablation`.

Nothing in schema/ is edited: each switch patches, from here, attributes of the running process
and puts them back on exit. What each one patches:

- `hint-cache-off`: `schema.root.schema._schema.extensions["majestic.static_hints"]` = False.
  schema/hint_cache.py's `optimize` then walks every selection every time (strawberry-django's
  own `optimize`), as it does for a schema with a callable hint of its own.
- `nested-pages-off`: `...extensions["majestic.page_relations"]` = frozenset(). NestedPageOptimizer
  then never rewrites a page lookup into a PagePrefetch: no fetch_pages / RowsWithPages, Django's
  prefetch runs every page (many-to-many pages still come from PageBuilder, and Django's prefetch
  reads them with their window: UnwindowedPage.queryset).
- `page-builder-off`: as `nested-pages-off`, and the PageBuilder hints that apply_shortcuts
  appended to the nested connection fields' `store.prefetch_related` are taken out, so
  strawberry-django's optimizer builds those pages itself (window and all): nothing of
  schema/nested_pages.py runs. Its Prefetch is built for the caller, so the hint cache cannot
  keep a selection holding one either (see the findings).
- `plans-off`: `schema.engine.plans.plan_for` = a function returning None: PlannedExecution
  completes every object the ordinary way (with schema/engine/execution.py's field shortcuts).
- `columns-off`: the field-level shortcuts of schema/engine/execution.py that graphql-core's walk
  uses: `ColumnExecution.execute_field` = graphql-core's own (every column resolved the ordinary
  way), and each direct-resolver field's `GraphQLField.resolve` put back to the ordinary resolver
  that apply_shortcuts wrapped (the partial's first argument). Plans keep their column readers
  (`Column.read`). The
  prefetched-connection shortcut stays: with nested pages on, it is what reads their rows (the
  ordinary resolver would run a query per parent).
- `plain-rows-off`: `schema.engine.rows.makes_plain_rows` = a function returning False: Django's
  `from_db` makes every row the engine fetches.
- `plans+columns-off`: both (what the field shortcuts are worth where no plan applies).
- `all-off`: `schema.engine.execution.ordinary_execution()`.
- `querysets-kept` is no part but an upper bound: what keeping each document's built querysets
  would save at most (see `querysets_kept`).

Every switch (and the unswitched "Strawberry (ours)") starts and ends with
`schema.engine.hint_cache.forget_kept_stores()`: a store kept in one mode may not fit another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from functools import partial
from typing import Any
from unittest.mock import patch

from graphql import GraphQLObjectType


def _graphql_schema() -> Any:
    from schema.root import schema

    return schema._schema


@contextmanager
def _schema_extension(key: str, value: Any) -> Iterator[None]:
    extensions = _graphql_schema().extensions
    old = extensions[key]
    extensions[key] = value
    try:
        yield
    finally:
        extensions[key] = old


def _fields() -> Iterator[Any]:
    for graphql_type in _graphql_schema().type_map.values():
        if isinstance(graphql_type, GraphQLObjectType) and not graphql_type.name.startswith("__"):
            yield from graphql_type.fields.values()


@contextmanager
def hint_cache_off() -> Iterator[None]:
    from schema.engine.hint_cache import STATIC_HINTS

    with _schema_extension(STATIC_HINTS, False):
        yield


@contextmanager
def nested_pages_off() -> Iterator[None]:
    from schema.engine.nested_pages import PAGE_RELATIONS

    with _schema_extension(PAGE_RELATIONS, frozenset()):
        yield


@contextmanager
def page_builder_off() -> Iterator[None]:
    from schema.engine.execution import PREFETCHED_CONNECTION
    from schema.engine.nested_pages import PageBuilder

    taken: list[tuple[list[Any], list[Any]]] = []  # (the hints list, its hints before)
    for field in _fields():
        connection = (field.extensions or {}).get(PREFETCHED_CONNECTION)
        if connection is None:
            continue
        hints = connection.definition.store.prefetch_related
        if any(isinstance(hint, PageBuilder) for hint in hints):
            taken.append((hints, list(hints)))
            hints[:] = [hint for hint in hints if not isinstance(hint, PageBuilder)]
    try:
        with nested_pages_off():
            yield
    finally:
        for hints, before in taken:
            hints[:] = before


@contextmanager
def plans_off() -> Iterator[None]:
    import schema.engine.plans

    with patch.object(schema.engine.plans, "plan_for", lambda *args, **kwargs: None):
        yield


@contextmanager
def columns_off() -> Iterator[None]:
    from schema.engine.execution import ColumnExecution, DirectResolver

    def ordinary_field(context: Any, *args: Any) -> Any:
        return super(ColumnExecution, context).execute_field(*args)

    unwrapped = []
    for field in _fields():
        resolve = field.resolve
        if isinstance(resolve, partial) and isinstance(
            getattr(resolve.func, "__self__", None), DirectResolver
        ):
            unwrapped.append((field, resolve))
            field.resolve = resolve.args[0]  # the ordinary resolver apply_shortcuts wrapped
    try:
        with patch.object(ColumnExecution, "execute_field", ordinary_field):
            yield
    finally:
        for field, resolve in unwrapped:
            field.resolve = resolve


@contextmanager
def plain_rows_off() -> Iterator[None]:
    import schema.engine.rows

    with patch.object(schema.engine.rows, "makes_plain_rows", lambda model: False):
        yield


@contextmanager
def plans_and_columns_off() -> Iterator[None]:
    with plans_off(), columns_off():
        yield


def all_off() -> AbstractContextManager[None]:
    from schema.engine import ordinary_execution

    return ordinary_execution()


@contextmanager
def querysets_kept() -> Iterator[None]:
    """What keeping built querysets per document would save, at most. A list field's queryset
    (what its resolver, the FilterSet, the type's get_queryset and the optimizer's hints, the
    nested pages' querysets among them, made: strawberry-django's `get_result`), a root page's
    paginated queryset (`_page_without_cursors`) and a node lookup's queryset (`node(id:)` of the
    shipping types) are kept from the first request of each document, position and variables,
    and cloned for the next. Permission checks, around `get_result`, still run.

    The engine does not do this, and this switch is no safe version of it: a resolver or a
    get_queryset may read the caller, the clock or the database while it builds (the project's
    selectors take the caller; a `filter(id__in=list(...))` reads rows then), all of which a kept
    queryset would freeze. The bench asks as one staff user with the same variables, so the
    answers stay the same (profile checks the body and the SQL count).

    Patched where Strawberry looks the callable up for each call (its field-extension chain holds
    bound methods made when the schema was built): StrawberryDjangoField.get_result,
    BoundCursorConnection._page_without_cursors, and the shipping types' resolve_model_node;
    while a kept page or node is first built, also schema.kit.cursors.apply_cursor_pagination
    and QuerySet.first (to take the queryset they are given). A kept node still goes through
    strawberry-django's node caster, as resolve_model_node returns it.
    """
    from django.db.models import QuerySet
    from strawberry_django.fields.field import StrawberryDjangoField
    from strawberry_django.relay.cursor_connection import apply_cursor_pagination
    from strawberry_django.relay.utils import get_node_caster

    import modules.shipping.graphql.types as shipping_types
    from schema.kit import cursors

    # (id of the operation, position, variables) -> (the operation, the kept queryset): the
    # operation is held so that its id stays its own.
    kept: dict[tuple[int, str, str], tuple[Any, QuerySet]] = {}

    def kept_or_built(info: Any, position: str, build: Callable[[], Any]) -> Any:
        raw = info._raw_info
        key = (id(raw.operation), position, repr(sorted(raw.variable_values.items())))
        if key in kept:
            return kept[key][1].all()
        built = build()
        if isinstance(built, QuerySet):
            kept[key] = (raw.operation, built)
            return built.all()
        return built

    get_result = StrawberryDjangoField.get_result

    def kept_result(field: Any, source: Any, info: Any, args: Any, kwargs: Any) -> Any:
        if source is not None:  # a nested field: one result per parent row
            return get_result(field, source, info, args, kwargs)
        return kept_or_built(
            info,
            f"result {info.path.key}",
            lambda: get_result(field, source, info, args, kwargs),
        )

    page_without_cursors = cursors.BoundCursorConnection._page_without_cursors

    def kept_page(self: Any, nodes: Any, info: Any, *args: Any) -> Any:
        def kept_pagination(queryset: QuerySet, **kwargs: Any) -> Any:
            def build() -> Any:
                return apply_cursor_pagination(queryset, **kwargs)[0]

            return kept_or_built(info, f"page {info.path.key}", build), None

        with patch.object(cursors, "apply_cursor_pagination", kept_pagination):
            return page_without_cursors(self, nodes, info, *args)

    resolve_model_node = shipping_types.resolve_model_node  # type: ignore[attr-defined]  # imported there

    def kept_node(origin: Any, node_id: Any, *, info: Any, required: bool = False) -> Any:
        taken: list[QuerySet] = []
        first = QuerySet.first

        def taking_first(queryset: QuerySet) -> Any:
            taken.append(queryset)
            return first(queryset)

        def built() -> Any:
            with patch.object(QuerySet, "first", taking_first):
                resolve_model_node(origin, node_id, info=info)
            return taken[0] if taken else None

        queryset = kept_or_built(info, f"node {origin.__name__} {node_id}", built)
        if queryset is None:
            return resolve_model_node(origin, node_id, info=info, required=required)  # type: ignore[call-overload]  # overloads for Literal True/False only
        return get_node_caster(origin)(queryset.get() if required else queryset.first())

    with (
        patch.object(StrawberryDjangoField, "get_result", kept_result),
        patch.object(cursors.BoundCursorConnection, "_page_without_cursors", kept_page),
        patch.object(shipping_types, "resolve_model_node", kept_node),
    ):
        yield


OURS = "Strawberry (ours)"

# Label -> the switch, in the order profile --ablation prints them.
MODES: dict[str, Callable[[], AbstractContextManager[None]]] = {
    OURS: nullcontext,
    "hint-cache-off": hint_cache_off,
    "nested-pages-off": nested_pages_off,
    "page-builder-off": page_builder_off,
    "plans-off": plans_off,
    "columns-off": columns_off,
    "plain-rows-off": plain_rows_off,
    "plans+columns-off": plans_and_columns_off,
    "all-off (ordinary_execution)": all_off,
    "querysets-kept (an upper bound)": querysets_kept,
}


@contextmanager
def mode(name: str) -> Iterator[None]:
    """Run the block with `name`'s switch on, the hint cache's kept stores dropped around it."""
    from schema.engine.hint_cache import forget_kept_stores

    with ExitStack() as stack:
        forget_kept_stores()
        stack.callback(forget_kept_stores)
        stack.enter_context(MODES[name]())
        yield
