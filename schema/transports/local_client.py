"""The in-process gateway client that the local bus hands the functions (LOCAL_GATEWAY_CLIENT).

`execute` runs one GraphQL operation against the schema in this process, as a machine principal
holding `api_key_scopes` (what the function's API key would carry in AWS), and answers what the
HTTP gateway would: `{"data": ..., "errors": [...]}`. Permissions, error masking, limits and
loaders apply exactly as over HTTP; the correlation id of the event carries on, so the function's
logs and the events its mutations emit stay on the same chain.
"""

from __future__ import annotations

from typing import Any

from strawberry.http import process_result

from modules.auth.api import Principal
from request_state import correlation_id as current_correlation_id
from request_state import current_actor, new_correlation_id
from schema.kit import loaders
from schema.kit.context import Context


def execute(
    query: str,
    variables: dict[str, Any] | None,
    *,
    api_key_scopes: list[str],
    name: str,
    correlation_id: str | None = None,
) -> dict[str, Any]:
    from schema.root import schema  # the schema imports every module: load it on first use

    principal = Principal(api_key_name=name, scopes=frozenset(api_key_scopes))
    chain = new_correlation_id(correlation_id or current_correlation_id.get() or None)
    correlation_token = current_correlation_id.set(chain)
    actor_token = current_actor.set(principal.as_actor())
    loaders_token = loaders.start_request()
    try:
        result = schema.execute_sync(
            query,
            variable_values=variables or {},
            context_value=Context(principal=principal, correlation_id=chain),
        )
        return dict(process_result(result))
    finally:
        loaders.end_request(loaders_token)
        current_actor.reset(actor_token)
        current_correlation_id.reset(correlation_token)
