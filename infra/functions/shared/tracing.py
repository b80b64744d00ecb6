"""Tracing for the functions: a span per invocation, continuing the trace the event carries.

The gateway writes the W3C `traceparent` of the span that emitted an event into its envelope
(`detail.traceparent`); `traced_handler` continues that trace for the handler's invocation, and
the gateway client sends the `traceparent` of its call with the callback mutation (gateway.py), so
one trace runs from the request that caused the event to the mutation the function calls back.

On only when OpenTelemetry is installed and OTEL_TRACES_EXPORTER is set (a Django setting
in-process, the environment in Lambda) to something else than "none"; otherwise every function
here is a plain pass-through and nothing of OpenTelemetry is imported. In-process (the local bus)
the monolith has set the tracer provider up; in Lambda (AWS_LAMBDA_FUNCTION_NAME set) the first
traced invocation sets one up from the standard variables (`otlp`: OTLP over HTTP with
OTEL_EXPORTER_OTLP_*, `console`: JSON on standard output), unless one is set already (e.g. by an
OpenTelemetry Lambda layer), and each invocation flushes before it returns, as Lambda may freeze
the process right after. Needs opentelemetry-api (and, in Lambda, opentelemetry-sdk and
opentelemetry-exporter-otlp-proto-http); imports nothing of the monolith.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from .runtime import setting

try:
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
except ImportError:  # a package without OpenTelemetry: tracing is simply off
    trace = None  # type: ignore[assignment]
    TraceContextTextMapPropagator = None  # type: ignore[assignment, misc]

Handler = Callable[[dict[str, Any], Any], Any]
TRACER_NAME = "majestic.functions"
_setup_lock = threading.Lock()
_lambda_provider: Any = None


def enabled() -> bool:
    return trace is not None and setting("OTEL_TRACES_EXPORTER").strip().lower() not in (
        "",
        "none",
    )


def traced_handler(function_name: str) -> Callable[[Handler], Handler]:
    """Decorate a Lambda handler: one span per invocation, child of the event's traceparent."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def invoke(event: dict[str, Any], context: Any) -> Any:
            if not enabled():
                return handler(event, context)
            _set_up_in_lambda()
            detail = event.get("detail") if isinstance(event, Mapping) else None
            attributes = {
                "faas.name": function_name,
                "faas.trigger": "pubsub",
                "faas.invocation_id": str(getattr(context, "aws_request_id", "")),
                "event.detail_type": str(event.get("detail-type", "")),
            }
            if isinstance(detail, Mapping) and detail.get("eventId"):
                attributes["event.id"] = str(detail["eventId"])
            try:
                with trace.get_tracer(TRACER_NAME).start_as_current_span(
                    f"{function_name} {event.get('detail-type', 'invocation')}",
                    context=_parent_context(detail),
                    kind=trace.SpanKind.CONSUMER,
                    attributes=attributes,
                ):
                    return handler(event, context)
            finally:
                if _lambda_provider is not None:
                    _lambda_provider.force_flush()

        return invoke

    return decorate


@contextmanager
def call_span(operation_name: str) -> Iterator[None]:
    """A client span around one call to the gateway (a no-op when tracing is off)."""
    if not enabled():
        yield
        return
    with trace.get_tracer(TRACER_NAME).start_as_current_span(
        f"gateway {operation_name}",
        kind=trace.SpanKind.CLIENT,
        attributes={"graphql.operation.name": operation_name},
    ):
        yield


def trace_headers() -> dict[str, str]:
    """The `traceparent` header of the current span, for the callback request ({} when off)."""
    if not enabled():
        return {}
    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier


def _parent_context(detail: Any) -> Any:
    traceparent = detail.get("traceparent") if isinstance(detail, Mapping) else None
    if not isinstance(traceparent, str) or not traceparent:
        return None  # an event from an untraced emitter: the invocation starts its own trace
    return TraceContextTextMapPropagator().extract({"traceparent": traceparent})


def _set_up_in_lambda() -> None:
    """In Lambda, a tracer provider from the standard variables, once per cold start."""
    global _lambda_provider
    if not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return
    with _setup_lock:
        if _lambda_provider is not None:
            return
        if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
            _lambda_provider = trace.get_tracer_provider()  # set by a layer: flush it all the same
            if not hasattr(_lambda_provider, "force_flush"):
                _lambda_provider = None
            return
        try:
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import (
                BatchSpanProcessor,
                ConsoleSpanExporter,
                SimpleSpanProcessor,
            )
        except ImportError:  # the API alone: spans are no-ops
            return
        service = os.environ.get("OTEL_SERVICE_NAME") or os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        for name in os.environ.get("OTEL_TRACES_EXPORTER", "").split(","):
            name = name.strip().lower()
            if name == "console":
                provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
            elif name == "otlp":
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                    OTLPSpanExporter,
                )

                provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
        _lambda_provider = provider
