"""Schema extensions of our own: error codes on every error, and unexpected errors masked.

Which errors a client may read: graphql-core's own (syntax, validation, variables that do not
coerce), the GraphQLErrors raised for clients on purpose (ours carry `extensions.code`), and the
refusals of paging arguments and cursors by strawberry and strawberry-django, which say so with
ValueError. Any other exception is a bug, whatever its type: a ValueError or TypeError from a
resolver ("'NoneType' object is not subscriptable") or graphql-core's "Cannot return null for
non-nullable field" (a TypeError) is masked as INTERNAL_SERVER_ERROR and logged with its stack.
So code that refuses client input raises GraphQLError with a code, never ValueError.
"""

from __future__ import annotations

import logging
import re
from types import CodeType, TracebackType

from django.conf import settings
from django.db import DatabaseError
from graphql import GraphQLError
from psycopg_pool import PoolTimeout
from strawberry.extensions import MaskErrors
from strawberry.relay.utils import SliceMetadata, from_base64
from strawberry_django.relay.cursor_connection import (
    OrderedCollectionCursor,
    apply_cursor_pagination,
)

logger = logging.getLogger("majestic.graphql")

MASKED_MESSAGE = "Unexpected error."

# Library functions that refuse a client's paging arguments (`first: -1`, `first: 101`) or cursor
# with ValueError/TypeError. Nested connections parse theirs in the optimizer's prefetch, so the
# error surfaces at the parent field: only where it was raised tells it apart from a bug.
_CLIENT_INPUT_PARSERS: frozenset[CodeType] = frozenset(
    {
        SliceMetadata.from_arguments.__code__,
        apply_cursor_pagination.__code__,
        OrderedCollectionCursor.from_cursor.__code__,
        from_base64.__code__,
    }
)


def _raised_in(traceback: TracebackType | None) -> CodeType | None:
    """The code of the frame that raised (the innermost one)."""
    if traceback is None:
        return None
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    return traceback.tb_frame.f_code


def _is_clients_mistake(error: GraphQLError, original: Exception) -> bool:
    if not isinstance(original, ValueError | TypeError):
        return False
    if error.path is None and error.nodes:
        # A literal a scalar's parse function refused while the document was validated.
        return True
    return _raised_in(original.__traceback__) in _CLIENT_INPUT_PARSERS


# PostgreSQL's query_canceled: what statement_timeout (GRAPHQL_STATEMENT_TIMEOUT_MS) raises.
_QUERY_CANCELED = "57014"


def is_statement_timeout_exception(exc: BaseException | None) -> bool:
    cause = getattr(exc, "__cause__", None)  # Django's OperationalError wraps psycopg's
    return isinstance(exc, DatabaseError) and getattr(cause, "sqlstate", None) == _QUERY_CANCELED


def is_pool_exhausted_exception(exc: BaseException | None) -> bool:
    """No pooled connection came free within DATABASE_POOL_TIMEOUT_SECONDS: overload, not a bug."""
    return isinstance(exc, DatabaseError) and isinstance(exc.__cause__, PoolTimeout)


def is_statement_timeout(error: GraphQLError) -> bool:
    """The database gave up on a statement of this request (a limit, not a bug)."""
    return is_statement_timeout_exception(error.original_error)


def is_pool_exhausted(error: GraphQLError) -> bool:
    return is_pool_exhausted_exception(error.original_error)


SERVER_BUSY_MESSAGE = "The server is busy: every database connection is in use. Try again shortly."


def statement_timeout_error(error: GraphQLError) -> GraphQLError:
    return GraphQLError(
        f"The database took longer than {settings.GRAPHQL_STATEMENT_TIMEOUT_MS} ms for this "
        "request: ask for less (smaller pages, fewer nested lists) or try again.",
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": "STATEMENT_TIMEOUT"},
    )


def is_unexpected(error: GraphQLError) -> bool:
    """An error raised by our code (or a library's) that nobody meant a client to read."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    if is_statement_timeout(error) or is_pool_exhausted(error):
        return False
    return not _is_clients_mistake(error, original)


def masked(error: GraphQLError) -> GraphQLError:
    """The error as a client sees it: where it happened, not what it was."""
    return GraphQLError(
        MASKED_MESSAGE,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR"},
    )


def should_mask(error: GraphQLError) -> bool:
    # DEBUG is read per request, not when the schema is built: whether the schema module was
    # imported before or after a test runner turned DEBUG off must not decide what clients read.
    return not settings.DEBUG and is_unexpected(error)


class MaskUnexpectedErrors(MaskErrors):
    """Masks unexpected errors (logged with their stack already) unless DEBUG is on."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=should_mask, error_message=MASKED_MESSAGE)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return masked(error)


def mask_unexpected(errors: list[GraphQLError]) -> list[GraphQLError]:
    return [masked(error) if should_mask(error) else error for error in errors]


def code_statement_timeouts(errors: list[GraphQLError]) -> list[GraphQLError]:
    """A cancelled statement becomes STATEMENT_TIMEOUT, with no SQL and no input in its message;
    a request that found no free connection becomes SERVER_BUSY."""
    return [
        statement_timeout_error(e)
        if is_statement_timeout(e)
        else server_busy_error(e)
        if is_pool_exhausted(e)
        else e
        for e in errors
    ]


def server_busy_error(error: GraphQLError) -> GraphQLError:
    return GraphQLError(
        SERVER_BUSY_MESSAGE,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": "SERVER_BUSY"},
    )


# Messages of Strawberry's MaxTokensLimiter, QueryDepthLimiter and MaxAliasesLimiter.
# The token limit's (graphql-core's parser); the other limits (schema/guard/) set their code.
_LIMIT_MESSAGES = re.compile(r"more than \d+ tokens")


def tag_error_codes(errors: list[GraphQLError]) -> None:
    """Every top-level error carries `extensions.code`, so clients branch on codes, not text."""
    for error in errors:
        if not (error.extensions and "code" in error.extensions):
            error.extensions = {**(error.extensions or {}), "code": _code_for(error)}


def _code_for(error: GraphQLError) -> str:
    if error.original_error is None:
        if error.path is None:
            message = error.message
            if _LIMIT_MESSAGES.search(message):
                return "QUERY_TOO_COMPLEX"
            if message.startswith("Syntax Error"):
                return "GRAPHQL_PARSE_FAILED"
            return "GRAPHQL_VALIDATION_FAILED"
        return "BAD_REQUEST"
    if is_statement_timeout(error):
        return "STATEMENT_TIMEOUT"
    if is_pool_exhausted(error):
        return "SERVER_BUSY"
    # Unexpected errors keep this code under DEBUG too, where their message is not masked.
    if is_unexpected(error):
        return "INTERNAL_SERVER_ERROR"
    # A variable that does not coerce (e.g. "nope" for UUID!), a refused cursor, a GraphQLError
    # raised for the client without a code of its own: the client's mistake.
    return "BAD_USER_INPUT"
