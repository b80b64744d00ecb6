"""Tracing set-up: OpenTelemetry, on only when OTEL_TRACES_EXPORTER is set (TRACING_ENABLED).

Called once per process at start-up (config/asgi.py, manage.py), before the first request and the
first database connection. It sets the global tracer provider with the exporters the standard
variables name (`otlp`: OTLP over HTTP, configured by OTEL_EXPORTER_OTLP_*; `console`: each span as
JSON on standard output), then turns on:
- HTTP request spans (opentelemetry-instrumentation-django), the query string left out: a GET
  request's variables travel in it;
- GraphQL operation and resolver spans (schema/kit/tracing.py, added by schema/root.py);
- database spans, one per statement run inside a traced operation (`_traced_statement`);
- the monolith's own spans (events/tracing.py: outbox write, PutEvents) and the traceparent in
  each event's envelope, which the functions continue (infra/functions/shared/tracing.py).
Unset, nothing here runs: no provider, no middleware, no extension, no wrapper.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

import events.tracing

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span

logger = logging.getLogger("majestic.tracing")

_provider: TracerProvider | None = None


def processors_from_settings() -> list[SpanProcessor]:
    """A span processor per exporter OTEL_TRACES_EXPORTER names (comma-separated, as the
    specification allows): OTLP in batches, the console span by span as each ends."""
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    names = [n.strip() for n in settings.OTEL_TRACES_EXPORTER.split(",") if n.strip()]
    chosen: list[SpanProcessor] = []
    for name in names:
        if name == "none":
            continue
        if name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            # Endpoint, headers, timeout, compression: the standard OTEL_EXPORTER_OTLP_* variables.
            chosen.append(BatchSpanProcessor(OTLPSpanExporter()))
        elif name == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            chosen.append(SimpleSpanProcessor(ConsoleSpanExporter()))
        else:
            raise ImproperlyConfigured(
                f"OTEL_TRACES_EXPORTER: {name!r} is not one of otlp, console, none."
            )
    return chosen


def configure_tracing(extra_exporters: Sequence[SpanExporter] = ()) -> bool:
    """Set tracing up when settings ask for it; True when it is on. A test may add exporters
    (an in-memory one), which export span by span. Idempotent: a second call changes nothing."""
    global _provider
    if _provider is not None:
        return True
    if not settings.TRACING_ENABLED:
        return False
    from opentelemetry import trace
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    resource = Resource.create({"service.name": settings.OTEL_SERVICE_NAME})
    provider = TracerProvider(resource=resource)
    for processor in processors_from_settings():
        provider.add_span_processor(processor)
    for exporter in extra_exporters:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument(
        tracer_provider=provider, request_hook=_without_query_string, is_sql_commentor_enabled=False
    )
    _trace_database_statements()
    events.tracing.enable(provider.get_tracer(events.tracing.TRACER_NAME))
    _provider = provider
    logger.info("Tracing on: exporting to %s", settings.OTEL_TRACES_EXPORTER)
    return True


# Attributes in which the instrumentation records the URL with its query string.
_URL_ATTRIBUTES = ("http.url", "url.full", "http.target", "url.query")


def _without_query_string(span: Span, request: Any) -> None:
    """A GET request's query string holds its GraphQL variables (sign-in codes, passwords):
    record the path only."""
    recorded = getattr(span, "attributes", None) or {}
    path = request.path
    replacements = {
        "http.url": request.build_absolute_uri(path),
        "url.full": request.build_absolute_uri(path),
        "http.target": path,
        "url.query": "",
    }
    for key in _URL_ATTRIBUTES:
        if key in recorded:
            span.set_attribute(key, replacements[key])


# --- database spans ------------------------------------------------------------------------------
# Django's own hook (a connection's execute wrappers) rather than opentelemetry-instrumentation-
# psycopg / -sqlite3: Django's psycopg backend replaces the connection's cursor_factory, where the
# psycopg instrumentation hooks in, and one wrapper covers both engines. `execute_wrappers` is the
# list behind the documented `connection.execute_wrapper()`; appending to it on
# `connection_created` puts the wrapper on every connection for good (not for one block).


def _trace_database_statements() -> None:
    from django.db import connections
    from django.db.backends.signals import connection_created

    connection_created.connect(_add_wrapper, dispatch_uid="majestic-tracing")
    for connection in connections.all(initialized_only=True):
        _add_wrapper(sender=None, connection=connection)


def _add_wrapper(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    if _traced_statement not in connection.execute_wrappers:
        connection.execute_wrappers.append(_traced_statement)


def _traced_statement(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    """One span per statement, inside a traced operation only (the relay's idle polling makes no
    traces of its own). The statement is recorded with its placeholders, never its parameters."""
    from opentelemetry import trace

    if not trace.get_current_span().get_span_context().is_valid:
        return execute(sql, params, many, context)
    connection = context["connection"]
    operation = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "SQL"
    with trace.get_tracer("majestic.db").start_as_current_span(
        operation,
        kind=trace.SpanKind.CLIENT,
        attributes={
            "db.system": connection.vendor,
            "db.name": str(connection.settings_dict.get("NAME") or ""),
            "db.statement": sql,
            "db.operation": operation,
        },
    ):
        return execute(sql, params, many, context)
