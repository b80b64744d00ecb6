"""Cursors bound to their list: a cursor from one root connection is refused by another.

strawberry-django's keyset cursors carry only the ordering values, so a cursor from `transports`
decodes fine in `shippingItems` whenever both lists order by the same kinds of values, and then
silently pages from a meaningless position; the same within one list, between two orderings whose
values have the same kinds (createdAt and completedAt, or one field ascending and descending).
`bind_cursors` gives a root connection field its own connection extension (BoundCursorConnection):
its cursors are re-encoded with the list's name and the ordering asked for, and a cursor that does
not carry both (another list's, another ordering's, a nested connection's, garbage) is a
BAD_USER_INPUT error. A page whose selection reads no cursor is built without any.

    @bind_cursors
    @strawberry_django.connection(DjangoCursorConnection[Transport], extensions=[Require(Staff)])
    def transports(...) -> QuerySet[...]: ...
"""

from __future__ import annotations

import binascii
import inspect
import json
from base64 import b64decode, b64encode
from collections.abc import Awaitable, Iterator, Mapping
from typing import Any

from django.db.models import QuerySet
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    SelectionSetNode,
)
from strawberry.relay.utils import should_resolve_list_connection_edges
from strawberry.utils.inspect import in_async_context
from strawberry_django.fields.field import StrawberryDjangoConnectionExtension
from strawberry_django.relay.cursor_connection import apply_cursor_pagination
from strawberry_django.relay.utils import resolve_edge_class

from schema.engine import page_info_without_cursors, page_rows, shortcuts_on
from schema.kit.input_text import refusal_of

_SEPARATOR = "|"

# Where a connection's selection reads cursors: its edges' `cursor`, its pageInfo's ends.
_CURSOR_FIELDS = {"edges": {"cursor"}, "pageInfo": {"startCursor", "endCursor"}}


def _encode(tag: str, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    return b64encode(f"{tag}{_SEPARATOR}{cursor}".encode()).decode()


def _base64_text(value: str) -> str:
    try:
        return b64decode(value.encode(), validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        return ""


def _holds_refused_text(cursor: str) -> bool:
    """Whether the connection's own cursor (base64 of `<kind>:<JSON values>`) carries a NUL or an
    unpaired surrogate, raw or as JSON's escape: PostgreSQL refuses to compare text holding NUL,
    no encoder takes a lone surrogate (schema/input_text.py), and we never issue either."""
    text = _base64_text(cursor)
    if refusal_of(cursor) or refusal_of(text):
        return True
    try:
        values = json.loads(text.partition(":")[2])
    except (ValueError, RecursionError):
        return False  # malformed: strawberry-django refuses it as such
    return isinstance(values, list) and any(
        isinstance(value, str) and refusal_of(value) for value in values
    )


def _decode(tag: str, cursor: str) -> str:
    text = _base64_text(cursor)
    prefix = f"{tag}{_SEPARATOR}"
    if not text.startswith(prefix) or _holds_refused_text(text[len(prefix) :]):
        raise GraphQLError(
            "This cursor does not come from this list; page with the cursors this list returned.",
            extensions={"code": "BAD_USER_INPUT"},
        )
    return text[len(prefix) :]


def _fields(
    selection_set: SelectionSetNode | None, fragments: Mapping[str, FragmentDefinitionNode]
) -> Iterator[FieldNode]:
    """The fields of a selection set, through its fragments (validation has refused cycles)."""
    for selection in selection_set.selections if selection_set is not None else ():
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            yield from _fields(fragments[selection.name.value].selection_set, fragments)


def selects_cursors(info: Any) -> bool:
    """Whether the connection field's selection reads any cursor. Directives are not evaluated:
    a cursor under `@include(if: false)` counts as read, which only costs the encoding."""
    raw = getattr(info, "_raw_info", info)  # a Strawberry Info, or graphql-core's
    for node in raw.field_nodes:
        for field in _fields(node.selection_set, raw.fragments):
            wanted = _CURSOR_FIELDS.get(field.name.value)
            if wanted and any(
                inner.name.value in wanted for inner in _fields(field.selection_set, raw.fragments)
            ):
                return True
    return False


class BoundCursorConnection(StrawberryDjangoConnectionExtension):
    """strawberry-django's connection extension for a root list, with cursors bound to the list.

    `bind_cursors` puts it in place of the field's own connection extension, so it runs outside
    the field's permission extensions, as that one did; `after` and `before` arrive decoded
    (`map_arguments` runs first).

    Cursors are made only when the selection reads one. strawberry-django computes, JSON-encodes
    and base64-encodes every row's cursor; a page of 100 rows read without cursors spends more
    on them than on its rows' columns. Such a page (forward, in a sync context) is built here
    without them; every other page is strawberry-django's, with its cursors bound to the list.
    """

    def __init__(self, tag: str, max_results: int | None = None) -> None:
        super().__init__(max_results=max_results)
        self.tag = tag

    def _tag_for(self, kwargs: dict[str, Any]) -> str:
        """The list's name and the ordering asked for (`transports`, `transports/createdAt:ASC`)."""
        sort = kwargs.get("sort")  # the `order` argument (see schema/filters.py)
        if sort is None:
            return self.tag
        field, direction = getattr(sort, "field", None), getattr(sort, "direction", None)
        return (
            f"{self.tag}/{getattr(field, 'value', field)}:{getattr(direction, 'value', direction)}"
        )

    def map_arguments(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        tag = self._tag_for(kwargs)
        for name in ("after", "before"):
            if kwargs.get(name):
                kwargs[name] = _decode(tag, kwargs[name])
        return kwargs

    def _bind(self, connection: Any, tag: str) -> Any:
        for edge in getattr(connection, "edges", None) or []:
            edge.cursor = _encode(tag, edge.cursor)
        page_info = getattr(connection, "page_info", None)
        if page_info is not None:
            page_info.start_cursor = _encode(tag, page_info.start_cursor)
            page_info.end_cursor = _encode(tag, page_info.end_cursor)
        return connection

    def resolve(
        self,
        next_: Any,
        source: Any,
        info: Any,
        *,
        before: str | None = None,
        after: str | None = None,
        first: int | None = None,
        last: int | None = None,
        **kwargs: Any,
    ) -> Any:
        pages: dict[str, Any] = {"before": before, "after": after, "first": first, "last": last}
        if selects_cursors(info):
            connection = super().resolve(next_, source, info, **pages, **kwargs)
            if inspect.isawaitable(connection):
                return self._bind_later(connection, self._tag_for(kwargs))
            return self._bind(connection, self._tag_for(kwargs))
        nodes = next_(source, info, **kwargs)
        if (
            last is None
            and isinstance(nodes, QuerySet)
            and shortcuts_on()
            and not in_async_context()
            and should_resolve_list_connection_edges(info)
        ):
            return self._page_without_cursors(nodes, info, before, after, first, kwargs)
        return super().resolve(lambda *_, **__: nodes, source, info, **pages, **kwargs)

    async def _bind_later(self, connection: Awaitable[Any], tag: str) -> Any:
        return self._bind(await connection, tag)

    def _page_without_cursors(
        self,
        nodes: QuerySet,
        info: Any,
        before: str | None,
        after: str | None,
        first: int | None,
        kwargs: dict[str, Any],
    ) -> Any:
        """The page DjangoCursorConnection.resolve_connection builds from `first` alone, with no
        cursors: the edges' cursors are null (a read would be a loud error, never a wrong one)."""
        # A DjangoCursorConnection (bind_cursors binds only those), whose total_count_qs and edge
        # class the library's types of the extension do not know.
        connection_type: Any = self.connection_type
        page, _ = apply_cursor_pagination(
            nodes,
            info=info,
            before=before,
            after=after,
            first=first,
            last=None,
            max_results=self.max_results,
        )
        rows, has_next_page = page_rows(page, first)
        edge_class = resolve_edge_class(connection_type)
        return connection_type(
            edges=[
                edge_class(
                    node=connection_type.resolve_node(row, info=info, **kwargs),
                    cursor=None,  # type: ignore[arg-type]  # no cursor: reading one fails loudly
                )
                for row in rows
            ],
            total_count_qs=nodes,
            page_info=page_info_without_cursors(has_next_page=has_next_page),
        )

    async def resolve_async(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        connection = await super().resolve_async(next_, source, info, **kwargs)
        return self._bind(connection, self._tag_for(kwargs))


def bind_cursors(field: Any) -> Any:
    """Bind a root connection field's cursors to it (the tag is the resolver's name)."""
    tag = field.base_resolver.name if field.base_resolver is not None else field.python_name
    assert tag, "bind_cursors needs a named resolver"
    for index, extension in enumerate(field.extensions):
        if type(extension) is StrawberryDjangoConnectionExtension:
            field.extensions[index] = BoundCursorConnection(tag, extension.max_results)
            return field
    raise TypeError("bind_cursors binds a strawberry_django.connection field's cursors")


# Strawberry describes `last` with `after`'s text ("...come after the specified cursor"); every
# connection's paging arguments, described as they work. Strawberry adds these arguments when it
# builds the schema (relay.ConnectionExtension.apply), so they are described on the built schema.
PAGING_DESCRIPTIONS = {
    "first": "Returns the first n items of the list (or of what comes after `after`).",
    "after": "Returns the items that come after this cursor (an edge's `cursor`).",
    "last": "Returns the last n items of the list (or of what comes before `before`).",
    "before": "Returns the items that come before this cursor (an edge's `cursor`).",
}


def describe_paging_arguments(graphql_schema: Any) -> None:
    """Set PAGING_DESCRIPTIONS on every connection field's paging arguments (a GraphQLSchema)."""
    for graphql_type in graphql_schema.type_map.values():
        for field in getattr(graphql_type, "fields", {}).values():
            if not {"first", "after", "last", "before"} <= set(getattr(field, "args", {})):
                continue
            for name, description in PAGING_DESCRIPTIONS.items():
                field.args[name].description = description
