"""The gateway's Prometheus metrics: GraphQL operations, their errors and latency, and the
websocket connections and subscriptions open. config/views.py serves them at /metrics.

Under gunicorn every worker keeps its own values: with PROMETHEUS_MULTIPROC_DIR set (config/
gunicorn.py sets it) prometheus-client writes them to files there and a scrape sums them over the
processes, so these objects must be created after that variable is set, which importing the
schema (config.asgi, gunicorn's preload) does. Gauges say how to sum: `livesum` counts only
processes still alive.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from strawberry.extensions import SchemaExtension

GRAPHQL_OPERATIONS = Counter(
    "majestic_graphql_operations",
    "GraphQL queries and mutations executed, by operation type and outcome "
    "(success, partial: data with errors, error: no data).",
    ["operation_type", "outcome"],
)
GRAPHQL_OPERATION_SECONDS = Histogram(
    "majestic_graphql_operation_duration_seconds",
    "Time to answer a GraphQL query or mutation, from parsing to the result.",
    ["operation_type"],
)
GRAPHQL_ERRORS = Counter(
    "majestic_graphql_errors",
    "Errors in GraphQL results, by extensions.code.",
    ["code"],
)
GRAPHQL_REQUESTS_REFUSED = Counter(
    "majestic_graphql_requests_refused",
    "HTTP requests to /graphql/ answered before any operation ran, by code "
    "(BAD_REQUEST, UNAUTHENTICATED, SERVER_BUSY, refused documents, ...).",
    ["code"],
)
WEBSOCKET_CONNECTIONS = Gauge(
    "majestic_websocket_connections",
    "Websocket connections open on /graphql/.",
    multiprocess_mode="livesum",
)
SUBSCRIPTIONS = Gauge(
    "majestic_subscriptions",
    "GraphQL subscriptions running over websockets.",
    multiprocess_mode="livesum",
)


class OperationMetrics(SchemaExtension):
    """Counts each query and mutation, its outcome and error codes, and times it. Subscriptions
    are counted by SUBSCRIPTIONS in the websocket transport instead: they last, they do not end
    with one result."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        try:
            operation_type = context.operation_type.value
        except Exception:  # a document that does not parse names no operation
            operation_type = "unknown"
        if operation_type == "subscription":
            return
        result: Any = context.result
        errors = list(getattr(result, "errors", None) or context.pre_execution_errors or [])
        data = getattr(result, "data", None)
        outcome = "success" if not errors else ("partial" if data else "error")
        GRAPHQL_OPERATIONS.labels(operation_type, outcome).inc()
        GRAPHQL_OPERATION_SECONDS.labels(operation_type).observe(time.perf_counter() - started)
        for error in errors:
            GRAPHQL_ERRORS.labels(str((error.extensions or {}).get("code", "UNKNOWN"))).inc()
