"""Schema extensions of our own: error codes on every error, and unexpected errors masked."""

from __future__ import annotations

import logging
import re

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

logger = logging.getLogger("majestic.graphql")


def is_unexpected(error: GraphQLError) -> bool:
    """An error raised by our code that nobody meant a client to read."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError | ValueError | TypeError)


class MaskUnexpectedErrors(MaskErrors):
    """Masks unexpected errors (logged with their stack already); code INTERNAL_SERVER_ERROR."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message="Unexpected error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return masked


# Messages of Strawberry's MaxTokensLimiter, QueryDepthLimiter and MaxAliasesLimiter.
_LIMIT_MESSAGES = re.compile(
    r"more than \d+ tokens|exceeds maximum operation depth|aliases found\. Allowed"
)


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
    # A variable that does not coerce (e.g. "nope" for UUID!, an unknown input field) is the
    # client's mistake: graphql-core reports it wrapping a GraphQLError.
    if isinstance(error.original_error, ValueError | TypeError | GraphQLError):
        return "BAD_USER_INPUT"
    return "INTERNAL_SERVER_ERROR"
