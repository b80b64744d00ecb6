"""Cursors bound to their list: a cursor from one root connection is refused by another.

strawberry-django's keyset cursors carry only the ordering values, so a cursor from `transports`
decodes fine in `shippingItems` whenever both lists order by the same kinds of values, and then
silently pages from a meaningless position; the same within one list, between two orderings whose
values have the same kinds (createdAt and completedAt, or one field ascending and descending).
`bind_cursors` wraps a root connection field: its cursors are re-encoded with the list's name and
the ordering asked for, and a cursor that does not carry both (another list's, another ordering's,
a nested connection's, garbage) is a BAD_USER_INPUT error.

    @bind_cursors
    @strawberry_django.connection(DjangoCursorConnection[Transport], extensions=[Require(Staff)])
    def transports(...) -> QuerySet[...]: ...
"""

from __future__ import annotations

import binascii
import json
from base64 import b64decode, b64encode
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import FieldExtension

from schema.input_text import refusal_of

_SEPARATOR = "|"


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


class BoundCursors(FieldExtension):
    """Must run outermost (after the connection extension), so `bind_cursors` appends it last."""

    def __init__(self, tag: str) -> None:
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

    def resolve(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        return self._bind(next_(source, info, **kwargs), self._tag_for(kwargs))

    async def resolve_async(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        return self._bind(await next_(source, info, **kwargs), self._tag_for(kwargs))


def bind_cursors(field: Any) -> Any:
    """Bind a root connection field's cursors to it (the tag is the resolver's name)."""
    tag = field.base_resolver.name if field.base_resolver is not None else field.python_name
    assert tag, "bind_cursors needs a named resolver"
    field.extensions.append(BoundCursors(tag))
    return field
