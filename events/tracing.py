"""Spans of the monolith's own work (outbox write, PutEvents) and the W3C traceparent events carry.

Off unless config/tracing.py has set tracing up (OTEL_TRACES_EXPORTER set): then `span` opens an
OpenTelemetry span and `current_traceparent` names the active one. Off, neither touches
OpenTelemetry at all: `span` hands back one shared no-op context and events carry no traceparent.
Only the API is used here; the SDK, exporters and instrumentations are config's business.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.trace import Link, Tracer

_tracer: Tracer | None = None
_NO_SPAN = contextlib.nullcontext()
TRACER_NAME = "majestic"


def enable(tracer: Tracer) -> None:
    global _tracer
    _tracer = tracer


def disable() -> None:
    global _tracer
    _tracer = None


def enabled() -> bool:
    return _tracer is not None


def span(
    name: str,
    attributes: Mapping[str, str | int | bool] | None = None,
    *,
    kind: str = "internal",
    links: Iterable[Link] = (),
) -> contextlib.AbstractContextManager[Any]:
    """A span around the block, current inside it; a no-op when tracing is off.

    `kind` names a SpanKind in lower case ("producer", "client", ...)."""
    if _tracer is None:
        return _NO_SPAN
    from opentelemetry.trace import SpanKind

    return _tracer.start_as_current_span(
        name,
        kind=SpanKind[kind.upper()],
        attributes=dict(attributes or {}),
        links=list(links),
    )


def current_traceparent() -> str | None:
    """The W3C traceparent of the active span (None when tracing is off or no span is active)."""
    if _tracer is None:
        return None
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier.get("traceparent")


def links_to(traceparents: Iterable[str | None]) -> Iterator[Link]:
    """Links to the spans these traceparents name (a PutEvents batch links to each event's
    cause: one batch carries events of many traces)."""
    if _tracer is None:
        return
    from opentelemetry.trace import Link, get_current_span
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    propagator = TraceContextTextMapPropagator()
    for traceparent in traceparents:
        if traceparent:
            context = get_current_span(propagator.extract({"traceparent": traceparent}))
            if context.get_span_context().is_valid:
                yield Link(context.get_span_context())
