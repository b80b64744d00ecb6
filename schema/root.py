"""The composition root: every module's GraphQL face merged into one schema, the gateway's
extensions around it, and the read engine installed on it."""

from __future__ import annotations

import dataclasses
import importlib
import uuid
from collections.abc import AsyncGenerator
from contextlib import aclosing
from types import ModuleType
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, OperationDefinitionNode, OperationType
from strawberry import Schema
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.types.base_scalars import UUIDDefinition
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.base import get_object_definition
from strawberry_django.optimizer import DjangoOptimizerExtension

from schema import engine
from schema.guard.cost import describe_directive_arguments
from schema.guard.document_limits import document_limits_rule
from schema.guard.extension import OperationGuard
from schema.guard.suggestions import without_suggestions
from schema.kit import node as node_face
from schema.kit.cursors import describe_paging_arguments
from schema.kit.extensions import (
    MaskUnexpectedErrors,
    code_statement_timeouts,
    is_unexpected,
    logger,
    mask_unexpected,
    tag_error_codes,
)
from schema.kit.input_text import TextCheckedExecution, ValidTextInStringLiterals
from schema.kit.live import LiveExecutionContext, PerResultExtensionsRunner
from schema.kit.metrics import OperationMetrics
from schema.kit.tracing import TracedOperations


def module_faces() -> tuple[ModuleType, ...]:
    """Each module's face (`modules.<name>.graphql`), in the order of `settings.MODULES`."""
    return tuple(importlib.import_module(f"modules.{name}.graphql") for name in settings.MODULES)


# Each exports Query, Mutation and Subscription (None when it has none); the order is the SDL's.
FACES = (node_face, *module_faces())


def merge_root(name: str, types: list[type]) -> type | None:
    """Merge root types; two modules declaring the same field is a start-up error, not a warning."""
    if not types:
        return None
    owners: dict[str, str] = {}
    for root_type in types:
        for field in get_object_definition(root_type, strict=True).fields:
            if field.name in owners:
                raise ImproperlyConfigured(
                    f"{name}.{field.name} is defined by both {owners[field.name]}"
                    f" and {root_type.__module__}"
                )
            owners[field.name] = root_type.__module__
    merged = merge_types(name, tuple(types))
    get_object_definition(merged, strict=True).description = ROOT_DESCRIPTIONS[name]
    return merged


ROOT_DESCRIPTIONS = {
    "Query": "Everything to read, from every module.",
    "Mutation": "Everything to change; each answers with a payload whose `errors` say why not.",
    "Subscription": "Live feeds over a websocket (graphql-transport-ws on /graphql/).",
}
# Strawberry's own UUID scalar (its internal `base_scalars`, the same parsing), described.
UUID_SCALAR = dataclasses.replace(
    UUIDDefinition, description="A UUID in its canonical text form (RFC 9562)."
)


def roots(attribute: str) -> list[type]:
    return [
        getattr(face, attribute) for face in FACES if getattr(face, attribute, None) is not None
    ]


class MajesticSchema(Schema):
    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return PerResultExtensionsRunner(execution_context=execution_context, extensions=extensions)

    def execute_sync(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        return self._masked(super().execute_sync(*args, **kwargs))

    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        return self._masked(await super().execute(*args, **kwargs))

    async def stream(self, *args: Any, **kwargs: Any) -> Any:
        # Subscriptions (and operations over websockets) stream their results: each is treated
        # as execute's are, so no stream shows what a single result would not.
        return self._masked_stream(await super().stream(*args, **kwargs))

    async def _masked_stream(self, results: AsyncGenerator[Any, None]) -> AsyncGenerator[Any, None]:
        async with aclosing(results):
            async for result in results:
                yield self._masked(result) if isinstance(result, ExecutionResult) else result

    def _masked(self, result: ExecutionResult) -> ExecutionResult:
        # MaskUnexpectedErrors masks as the operation ends; an exception escaping graphql-core's
        # execute (building the execution context, say) becomes an error after that, unmasked.
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = code_statement_timeouts(mask_unexpected(errors))
            if settings.GRAPHQL_HIDE_SUGGESTIONS:
                result.errors = without_suggestions(result.errors)
        return result

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Client mistakes (syntax, validation, limits) are not server errors: no ERROR logs.
        tag_error_codes(errors)
        operation = loggable_operation_name(execution_context)
        for error in errors:
            if is_unexpected(error):
                logger.error(
                    "Unexpected error at %s in %s",
                    error.path,
                    operation,
                    exc_info=error.original_error,
                )
            else:
                # Never the message: graphql-core quotes the input it refuses there ("Variable
                # '$input' got invalid value {...}"), codes and passwords with it.
                logger.info(
                    "GraphQL error %s at %s in %s",
                    (error.extensions or {}).get("code"),
                    error_location(error),
                    operation,
                )


def loggable_operation_name(execution_context: ExecutionContext | None) -> str:
    """The operation's name for a log line, when the document defines it. The client's
    `operationName` may be any string: one the document does not define is not logged."""
    document = execution_context.graphql_document if execution_context is not None else None
    if execution_context is None or document is None:
        return "unparsed document"
    defined = [
        d.name.value
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode) and d.name is not None
    ]
    # The name the client asked for, else the first operation's (None when it has no name).
    name = execution_context.operation_name
    if name is None:
        return "anonymous"
    return name if name in defined else "unknown operation"


def error_location(error: GraphQLError) -> str:
    """Where an error happened (response path, or line:column in the document), never what."""
    if error.path:
        return ".".join(str(part) for part in error.path)
    if error.locations:
        return ",".join(f"{loc.line}:{loc.column}" for loc in error.locations)
    return "request"


class MajesticExecutionContext(TextCheckedExecution, LiveExecutionContext):
    """Variables holding NUL or unpaired surrogates never reach a resolver; subscription events
    run as schema/kit/live.py says. The engine adds its mixins above this (schema.engine)."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        result = super().execute_operation(serially)
        if (
            isinstance(result, GraphQLExecutionResult)
            and self.operation.operation is not OperationType.SUBSCRIPTION
        ):
            # Done with resolvers. graphql-core's executor and its `async_helpers` refer to each
            # other, and through the middleware manager to Strawberry's extensions, which hold
            # the result: left linked, every response's data (a 5,000-row read: ~30,000
            # objects) would wait for the garbage collector instead of going with the response.
            self.middleware_manager = None
        return result


def build_schema() -> Schema:
    query = merge_root("Query", roots("Query"))
    assert query is not None  # every face but node's may leave it out; node's has one
    built = MajesticSchema(
        query=query,
        mutation=merge_root("Mutation", roots("Mutation")),
        subscription=merge_root("Subscription", roots("Subscription")),
        config=StrawberryConfig(relay_max_results=settings.GRAPHQL_MAX_PAGE_SIZE),
        scalar_overrides={uuid.UUID: UUID_SCALAR},
        execution_context_class=MajesticExecutionContext,
        extensions=[
            OperationMetrics,  # outermost: it times and counts the whole operation
            # Tracing on (OTEL_TRACES_EXPORTER): the operation's span encloses all the others' work.
            *([TracedOperations] if settings.TRACING_ENABLED else []),
            OperationGuard,  # its size check runs before the document is parsed
            lambda: ParserCache(maxsize=512),
            lambda: ValidationCache(maxsize=512),
            lambda: MaxTokensLimiter(max_token_count=settings.GRAPHQL_MAX_TOKENS),
            lambda: AddValidationRules(
                [
                    document_limits_rule(
                        settings.GRAPHQL_MAX_DEPTH,
                        settings.GRAPHQL_MAX_ALIASES,
                        settings.GRAPHQL_MAX_DIRECTIVES,
                    ),
                    ValidTextInStringLiterals,
                ]
            ),
            DjangoOptimizerExtension,  # the engine puts its own subclass here
            MaskUnexpectedErrors,  # masks nothing under DEBUG
        ],
    )
    describe_paging_arguments(built._schema)  # Strawberry's graphql-core schema, built above
    describe_directive_arguments(built._schema)
    node_face.load_node_keys(built)
    if settings.GRAPHQL_ENGINE:
        engine.install(built)
    return built


schema = build_schema()
