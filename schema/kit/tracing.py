"""GraphQL spans: Strawberry's OpenTelemetry extension, minus what may hold a secret.

schema/root.py adds `TracedOperations` when tracing is on (settings.TRACING_ENABLED, see
config/tracing.py); off, the schema has no such extension and pays nothing. One span per
operation ("GraphQL Query: <name>"), one per resolver that is not a default one, children of the
HTTP request's span (or of a function's span, in-process).

Left out of the spans: the document's text (Strawberry records it as `query`; a client may inline
a password or a code in it) and the value of any argument whose name says it is a secret or
personal (`password`, `code`, `token`, `key`, `secret`, `phone`): it is recorded as "[redacted]",
in input objects too.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from graphql import GraphQLResolveInfo
from opentelemetry.trace import SpanKind
from strawberry.extensions import LifecycleStep
from strawberry.extensions.tracing import OpenTelemetryExtensionSync

REDACTED = "[redacted]"
SECRET_NAME_PARTS = ("password", "code", "token", "key", "secret", "phone")


def is_secret_name(name: str) -> bool:
    lowered = name.lower()
    return any(part in lowered for part in SECRET_NAME_PARTS)


def redacted(value: Any) -> Any:
    """`value` with the values of secret-named keys replaced, at any depth."""
    if isinstance(value, dict):
        return {k: REDACTED if is_secret_name(str(k)) else redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redacted(v) for v in value]
    if hasattr(value, "__dict__") and not isinstance(value, type):  # a Strawberry input object
        return redacted(dict(vars(value)))
    return value


def without_secrets(args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
    redacted_args: dict[str, Any] = redacted(args)
    return redacted_args


class TracedOperations(OpenTelemetryExtensionSync):
    """The sync variant: the gateway executes synchronously; under async execution (websockets)
    an async resolver's span closes when it returns its awaitable, which is still a span."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(arg_filter=without_secrets, **kwargs)

    def on_operation(self) -> Generator[None, None, None]:
        # Strawberry's on_operation, without the `query` attribute (the document's text).
        operation_name = self.execution_context.operation_name
        span = self._tracer.start_span(
            f"GraphQL Query: {operation_name}" if operation_name else "GraphQL Query",
            kind=SpanKind.SERVER,
        )
        self._span_holder[LifecycleStep.OPERATION] = span
        span.set_attribute("component", "graphql")
        yield
        if not operation_name and self.execution_context.operation_name:
            span.update_name(f"GraphQL Query: {self.execution_context.operation_name}")
        if self.execution_context.operation_name:
            span.set_attribute("graphql.operation.name", self.execution_context.operation_name)
        try:
            operation_type = self.execution_context.operation_type.value
        except RuntimeError:  # the document did not parse: there is no operation to name
            operation_type = ""
        if operation_type:
            span.set_attribute("graphql.operation.type", operation_type)
        span.end()
