"""Error messages without graphql-core's suggestions ("Did you mean 'transports'?"), which map
the schema field by field for a caller who may not introspect it (GRAPHQL_HIDE_SUGGESTIONS).

graphql-core can leave them out itself (`hide_suggestions=`), but Strawberry passes that neither
to validation nor to execution, so they are cut from the messages here.
"""

from __future__ import annotations

import re

from graphql import GraphQLError

_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def without_suggestions(errors: list[GraphQLError]) -> list[GraphQLError]:
    """`errors`, those with suggestions copied without them (the validation cache keeps the
    originals: they are not changed)."""
    return [_without_suggestion(error) for error in errors]


def _without_suggestion(error: GraphQLError) -> GraphQLError:
    message = _SUGGESTION.sub("", error.message)
    if message == error.message:
        return error
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions=error.extensions,
    )
