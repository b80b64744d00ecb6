"""GraphQL over websockets on /graphql/: graphql-transport-ws, and the legacy graphql-ws.

A connection authenticates once, with the `connection_init` payload
`{"authorization": "Bearer …" | "Api-Key …"}` (or the handshake's Authorization header), and checks
those credentials again every GRAPHQL_WS_REAUTHENTICATE_SECONDS, and at once when the live hub
announces that their user's or key's access changed (schema.access: a ban, a demotion, a
sign-out, a revoked key, on any process): a banned user's or a revoked key's subscriptions end
too. Per-address limits (sign-in, codes) count the socket's client address, under the same proxy
rules as HTTP. Each operation runs with a Context of its own (the connection's
principal, a fresh correlation id) and its own loaders. Queries and mutations run exactly like
HTTP ones: synchronously in a worker thread, so every resolver may use the ORM. Subscriptions
stream from this process's live hub (events.fanout).

Close codes: 4400 malformed message, 4401 subscribe before connection_ack, 4403 credentials
refused (at init, or later: on re-check or an announced change), 4408 no connection_init in time,
4409 duplicate operation id, 4429 a second connection_init, 1008 too many unhandled messages, 1009
message too large, 1011 internal error; 1012 when the server restarts (uvicorn), after which
clients reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import random
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from channels.db import database_sync_to_async
from django.conf import settings
from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from strawberry.channels import GraphQLWSConsumer
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.types.graphql import OperationType as StrawberryOperationType

from events import fanout
from modules.auth.api import (
    ANONYMOUS,
    AuthenticationFailed,
    Principal,
    authenticate,
    client_address_from,
)
from request_state import CORRELATION_HEADER, correlation_id, current_actor, new_correlation_id
from schema.guard.extension import admit_subscription
from schema.kit import live, loaders, metrics
from schema.kit.context import Context
from schema.kit.live_counts import live_counts
from schema.trusted_documents import gate as trusted_documents

if TYPE_CHECKING:
    from strawberry.schema.base import BaseSchema
    from strawberry.schema.schema import StreamResult
    from strawberry.subscriptions.protocols.graphql_ws.types import ErrorMessage, OperationMessage

logger = logging.getLogger("majestic.live")

CLOSE_POLICY_VIOLATION = 1008
CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011
CLOSE_FORBIDDEN = 4403


@dataclass
class ConnectionContext(Context):
    """The connection's own context: Strawberry puts connection_init's payload here."""

    connection_params: dict[str, Any] | None = None


def _authorization_from(params: Mapping[str, Any] | None, headers: Mapping[str, str]) -> str | None:
    value = None
    if params:
        value = params.get("authorization", params.get("Authorization"))
    if value is None:
        value = headers.get("authorization")
    if value is not None and not isinstance(value, str):
        raise AuthenticationFailed("authorization must be a string.")
    return value


def _handshake_client_address(scope: Mapping[str, Any]) -> str:
    """The connection's client address, by the rule HTTP requests follow (client_address_from)."""
    client = scope.get("client")
    peer = str(client[0]) if client else None
    # Repeated headers joined as Django joins them into request.META.
    forwarded = ",".join(
        value.decode("latin-1")
        for name, value in scope.get("headers", ())
        if name.lower() == b"x-forwarded-for"
    )
    return client_address_from(peer, forwarded or None)


def _concerns(notice: fanout.AccessChanged, principal: Principal) -> bool:
    """Whether an access change names this connection's caller."""
    if principal.user_uuid is not None and notice.user_uuid == str(principal.user_uuid):
        return True
    return notice.api_key_name is not None and notice.api_key_name == principal.api_key_name


def _operation_type(query: str, operation_name: str | None) -> OperationType | GraphQLError:
    """The type of the operation to run, or the request error that stops it from running.

    Parsed here because Strawberry's parser cache raises syntax errors past its own handler.
    """
    try:
        document = parse(query, no_location=True, max_tokens=settings.GRAPHQL_MAX_TOKENS)
    except GraphQLError as exc:
        code = "QUERY_TOO_COMPLEX" if "tokens" in exc.message else "GRAPHQL_PARSE_FAILED"
        return GraphQLError(exc.message, extensions={"code": code})
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(operations) == 1:
            return operations[0].operation
        message = "Name the operation to run (operationName)." if operations else "No operation."
        return GraphQLError(message, extensions={"code": "BAD_REQUEST"})
    for operation in operations:
        if operation.name is not None and operation.name.value == operation_name:
            return operation.operation
    return GraphQLError(
        f"Unknown operation named '{operation_name}'.", extensions={"code": "BAD_REQUEST"}
    )


class ConnectionOperations:
    """What the protocol handlers call `schema`: runs one connection's operations.

    Every operation gets a fresh Context; queries and mutations go to a worker thread and run
    synchronously (like HTTP), subscriptions stream on the event loop.
    """

    def __init__(self, schema: BaseSchema, consumer: GraphQLWebSocketConsumer) -> None:
        self.schema = schema
        self.consumer = consumer

    async def stream(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[StrawberryOperationType] | None = None,
    ) -> StreamResult:
        context = self.consumer.operation_context()
        operation_type = _operation_type(query or "", operation_name)
        if isinstance(operation_type, GraphQLError):
            return _request_error(operation_type)
        if operation_type in (OperationType.QUERY, OperationType.MUTATION):
            return self._execute_in_thread(query, variable_values, operation_name, context)
        # Queries and mutations meet the guard in the schema (schema/guard/extension.py);
        # Strawberry's streaming path has no way to refuse from there, so subscriptions meet
        # it here, before they start.
        refusal = await database_sync_to_async(admit_subscription)(
            self.schema._schema,  # type: ignore[attr-defined]  # the graphql-core schema Strawberry built (private)
            query or "",
            operation_name,
            variable_values,
            context,
        )
        if refusal:
            return _request_error(*refusal)
        # The operation runs in its own task: these stay set for its resolvers, and its events.
        correlation_id.set(context.correlation_id)
        current_actor.set(context.principal.as_actor())
        return _counted_subscription(
            await self.schema.stream(
                query,
                variable_values=variable_values,
                context_value=context,
                root_value=root_value,
                operation_name=operation_name,
                operation_extensions=operation_extensions,
            )
        )

    # The legacy protocol subscribes through `subscribe`; it may run queries and mutations too.
    subscribe = stream

    async def _execute_in_thread(
        self,
        query: Any,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        context: Context,
    ) -> AsyncGenerator[ExecutionResult, None]:
        result = await database_sync_to_async(self._execute_sync)(
            query, variables, operation_name, context
        )
        if result.data is None and result.errors and all(e.path is None for e in result.errors):
            # Validation and other request errors: the protocols answer these with `error`.
            result = PreExecutionError(
                data=None, errors=result.errors, extensions=result.extensions
            )
        yield result

    def _execute_sync(
        self,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        context: Context,
    ) -> ExecutionResult:
        correlation_token = correlation_id.set(context.correlation_id)
        actor_token = current_actor.set(context.principal.as_actor())
        loaders_token = loaders.start_request()
        try:
            return self.schema.execute_sync(
                query,
                variable_values=variables,
                operation_name=operation_name,
                context_value=context,
                allowed_operation_types={
                    StrawberryOperationType.QUERY,
                    StrawberryOperationType.MUTATION,
                },
            )
        finally:
            loaders.end_request(loaders_token)
            current_actor.reset(actor_token)
            correlation_id.reset(correlation_token)


async def _counted_subscription(results: Any) -> AsyncGenerator[Any, None]:
    """The subscription's results, counted in SUBSCRIPTIONS while it runs."""
    metrics.SUBSCRIPTIONS.inc()
    live_counts.change(subscriptions=1)
    try:
        async with aclosing(results):
            async for result in results:
                yield result
    finally:
        metrics.SUBSCRIPTIONS.dec()
        live_counts.change(subscriptions=-1)


async def _request_error(*errors: GraphQLError) -> AsyncGenerator[ExecutionResult, None]:
    yield PreExecutionError(data=None, errors=list(errors))


def _powers(principal: Principal) -> tuple[Any, ...]:
    """What permission checks look at: a change means running subscriptions may be wrong."""
    return (
        principal.user_uuid,
        principal.api_key_name,
        principal.is_staff,
        principal.is_driver,
        principal.is_superuser,
        principal.scopes,
    )


def _malformed(message: object) -> str | None:
    """Why a graphql-transport-ws message is malformed, or None when its shape is right."""
    if not isinstance(message, dict):
        return "A message must be a JSON object."
    kind = message.get("type")
    if not isinstance(kind, str):
        return "A message needs a string `type`."
    payload = message.get("payload")
    if kind in ("connection_init", "ping", "pong"):
        if payload is not None and not isinstance(payload, dict):
            return f"The {kind} payload must be an object."
    elif kind in ("subscribe", "complete"):
        if not isinstance(message.get("id"), str) or not message["id"]:
            return f"A {kind} message needs a non-empty string `id`."
        if kind == "subscribe":
            if not isinstance(payload, dict) or not (
                isinstance(payload.get("query"), str) or trusted_documents.names_document(payload)
            ):
                return "A subscribe payload needs a string `query` or a `documentId`."
            for key in ("variables", "extensions"):
                if payload.get(key) is not None and not isinstance(payload[key], dict):
                    return f"`{key}` must be an object."
            if payload.get("operationName") is not None and not isinstance(
                payload["operationName"], str
            ):
                return "`operationName` must be a string."
    return None


def _shared_next_message(message: object, encode: Callable[[object], str]) -> str | None:
    """A `next` message carrying a shared result's data (schema.kit.live.SharedPayload), as
    `encode(message)` would write it, with the data encoded once for all its subscribers; None
    for any other message. Only the plain shape, `{"id", "type": "next", "payload": {"data"}}`
    in that order (no errors, no extensions), is written this way: the rest goes to `encode`."""
    if not (
        isinstance(message, dict)
        and list(message) == ["id", "type", "payload"]
        and message["type"] == "next"
        and isinstance(message["id"], str)
        and isinstance(message["payload"], dict)
        and list(message["payload"]) == ["data"]
    ):
        return None
    data = live.shared_data_json(message["payload"]["data"], encode)
    if data is None:
        return None
    return f'{{"id":{encode(message["id"])},"type":"next","payload":{{"data":{data}}}}}'


class TransportWSHandler(BaseGraphQLTransportWSHandler):
    """graphql-transport-ws, with every message's shape checked before Strawberry reads it."""

    async def handle_message(self, message: Any) -> None:
        if problem := _malformed(message):
            await self.handle_invalid_message(problem)
            return
        if message["type"] == "connection_init" and message.get("payload") is None:
            message = {**message, "payload": {}}  # the protocol allows a missing or null payload
        if message["type"] == "subscribe" and self.connection_acknowledged:
            text = await _document_for(message["payload"], self.view)
            if isinstance(text, GraphQLError):
                await self.send_message(
                    {"type": "error", "id": message["id"], "payload": [text.formatted]}
                )
                return
            message = {**message, "payload": {**message["payload"], "query": text}}
        await super().handle_message(message)


async def _document_for(payload: dict[str, Any], consumer: Any) -> str | GraphQLError:
    """The text an operation runs (schema.trusted_documents), or the refusal to send for it."""
    try:
        if settings.GRAPHQL_TRUSTED_DOCUMENTS == "off":  # no lookup, so no worker thread
            return trusted_documents.document_for(payload, consumer.principal)
        return await database_sync_to_async(trusted_documents.document_for)(
            payload, consumer.principal
        )
    except trusted_documents.DocumentRefused as exc:
        return GraphQLError(exc.message, extensions={"code": exc.code})


class LegacyWSHandler(BaseGraphQLWSHandler):
    """The legacy graphql-ws (subscriptions-transport-ws) protocol, for older clients."""

    async def handle_message(self, message: Any) -> None:
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            # No id to answer with: strawberry's ErrorMessage wants one, the protocol allows none.
            error_frame: dict[str, Any] = {
                "type": "error",
                "payload": {"message": "Malformed message."},
            }
            await self.send_message(cast("ErrorMessage", error_frame))
            return
        kind = message["type"]
        if kind == "start":
            payload = message.get("payload")
            if (
                not isinstance(message.get("id"), str)
                or not isinstance(payload, dict)
                or not isinstance(payload.get("query"), str)
            ):
                error = {"message": "A start message needs an `id` and a payload with a `query`."}
                error_frame = {"type": "error", "id": message.get("id"), "payload": error}
                await self.send_message(cast("ErrorMessage", error_frame))  # the id may be absent
                return
            if not self.connection_acknowledged:
                await self.websocket.close(code=4401, reason="Unauthorized")
                return
            text = await _document_for(payload, self.view)
            if isinstance(text, GraphQLError):
                error_frame = {"type": "error", "id": message["id"], "payload": text.formatted}
                await self.send_message(cast("ErrorMessage", error_frame))
                return
            message = {**message, "payload": {**payload, "query": text}}
        elif kind == "stop" and not isinstance(message.get("id"), str):
            return
        # Start and stop messages are checked above; strawberry answers unknown types itself.
        await super().handle_message(cast("OperationMessage", message))


class GraphQLWebSocketConsumer(GraphQLWSConsumer):
    # Subscriptions hear events through the process's live hub, never through a channel per
    # connection: no layer here means no per-connection channel or group to leak.
    channel_layer_alias = None  # type: ignore[assignment]  # no such alias: no channel layer

    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def __init__(self, schema: Any = None) -> None:
        if schema is None:
            from schema.root import schema as default_schema

            schema = default_schema
        super().__init__(
            schema=schema,
            connection_init_wait_timeout=dt.timedelta(
                seconds=settings.GRAPHQL_WS_INIT_TIMEOUT_SECONDS
            ),
            max_subscriptions_per_connection=settings.GRAPHQL_WS_MAX_OPERATIONS,
            # Credentials travel in connection_init, never in cookies, so another origin's page
            # gains nothing by connecting: allow every origin, like the HTTP endpoint's clients.
            allowed_origins=("*",),
        )
        # The protocol handlers call only `stream` and `subscribe` of their `schema`.
        self.schema = ConnectionOperations(schema, self)  # type: ignore[assignment]  # a stand-in schema
        self.connection_id = new_correlation_id()
        self.principal: Principal = ANONYMOUS
        self.authorization: str | None = None
        self.client_address = "unknown"
        self.closed = False
        self.counted = False  # in metrics.WEBSOCKET_CONNECTIONS
        self._reauthenticate_task: asyncio.Task[None] | None = None
        # Access-change notices: the hub this connection watches (while it has credentials), the
        # check they started, and whether another one came in while it ran.
        self._access_hub: fanout.EventHub | None = None
        self._authenticated = False
        self._recheck_task: asyncio.Task[None] | None = None
        self._recheck_again = False
        self._check_lock = asyncio.Lock()

    # --- connection lifecycle --------------------------------------------------------------------

    async def connect(self) -> None:
        metrics.WEBSOCKET_CONNECTIONS.inc()
        live_counts.change(connections=1)
        self.counted = True
        self.connection_id = new_correlation_id(self._headers().get(CORRELATION_HEADER.lower()))
        self.client_address = _handshake_client_address(self.scope)
        self.run_task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            await self.run(self)
        except Exception:  # one broken connection must never take the others down
            logger.exception("Websocket connection %s failed", self.connection_id)
            await self.close(code=CLOSE_INTERNAL_ERROR, reason="Internal error.")

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closed:
            return
        size = len(text_data) if text_data is not None else len(bytes_data or b"")
        if size > settings.GRAPHQL_WS_MAX_MESSAGE_BYTES:
            await self.close(code=CLOSE_MESSAGE_TOO_BIG, reason="Message too large.")
            return
        if self.message_queue.qsize() >= settings.GRAPHQL_WS_MAX_BACKLOG:
            await self.close(code=CLOSE_POLICY_VIOLATION, reason="Too many messages in flight.")
            return
        await super().receive(text_data=text_data, bytes_data=bytes_data)

    async def disconnect(self, code: int) -> None:
        self.closed = True
        if self.counted:  # disconnect can come twice (a close, then the socket's end)
            self.counted = False
            metrics.WEBSOCKET_CONNECTIONS.dec()
            live_counts.change(connections=-1)
        if self._reauthenticate_task is not None:
            self._reauthenticate_task.cancel()
        if self._recheck_task is not None:
            self._recheck_task.cancel()
        await self._unwatch_access()
        await super().disconnect(code)

    async def send(  # type: ignore[override]  # AsyncWebsocketConsumer.send's own signature
        self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False
    ) -> None:
        if self.closed:
            return  # operations still finishing after a close have nobody left to tell
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except OSError:  # the client vanished mid-send; the disconnect event follows
            self.closed = True

    async def close(self, code: int | None = None, reason: str | None = None) -> None:
        if self.closed:
            return
        self.closed = True
        await self._unwatch_access()
        with contextlib.suppress(OSError, RuntimeError):
            await super().close(code=code, reason=reason)

    def encode_json(self, data: object) -> str | bytes:
        return _shared_next_message(data, self._encode_text) or super().encode_json(data)

    def _encode_text(self, data: object) -> str:
        encoded = super().encode_json(data)
        return encoded.decode() if isinstance(encoded, bytes) else encoded

    def decode_json(self, data: str | bytes) -> object:
        try:
            return json.loads(data)
        except RecursionError as exc:  # absurdly nested JSON is malformed input, not a crash
            raise json.JSONDecodeError("JSON nested too deeply", "", 0) from exc

    # --- authentication --------------------------------------------------------------------------

    def _headers(self) -> Mapping[str, str]:
        return self.get_websocket_headers(self)

    # strawberry types its handlers' consumer as GraphQLWSConsumer[None, None]: a consumer that
    # names its own context type is not one, so this one leaves the parameters out.
    async def get_context(  # type: ignore[override]  # see the note above
        self, request: Any, response: Any
    ) -> ConnectionContext:
        return ConnectionContext(
            principal=ANONYMOUS,
            correlation_id=self.connection_id,
            client_address=self.client_address,
        )

    async def on_ws_connect(self, context: Any) -> None:
        try:
            authorization = _authorization_from(context.connection_params, self._headers())
            if authorization:
                # Watch before checking: a change committed while the check runs is not missed.
                await self._watch_access()
            principal = await database_sync_to_async(authenticate)(authorization)
        except AuthenticationFailed as exc:
            logger.info("Websocket %s refused: %s", self.connection_id, exc)
            await self._unwatch_access()
            raise ConnectionRejectionError({"message": "Invalid credentials."}) from exc
        self.authorization, self.principal = authorization, principal
        self._authenticated = True
        context.principal = principal
        if authorization:
            self._reauthenticate_task = asyncio.create_task(self._reauthenticate())
            if self._recheck_again:  # a notice came while the check ran: it may predate it
                self._request_recheck()
        return None

    async def _reauthenticate(self) -> None:
        """The periodic check, for changes nobody announced (or announcements that got lost)."""
        interval = settings.GRAPHQL_WS_REAUTHENTICATE_SECONDS
        # Jitter spreads the checks of many connections opened together.
        await asyncio.sleep(interval * random.uniform(0.5, 1.0))
        while await self._check_credentials():
            await asyncio.sleep(interval)

    async def _check_credentials(self) -> bool:
        """Authenticate again; close with 4403 when refused or when the powers changed.

        False once the connection is closed. One check at a time (periodic and announced ones).
        """
        async with self._check_lock:
            if self.closed:
                return False
            try:
                principal = await database_sync_to_async(authenticate)(self.authorization)
            except AuthenticationFailed as exc:
                logger.info("Websocket %s closed: %s", self.connection_id, exc)
                await self.close(code=CLOSE_FORBIDDEN, reason="Credentials no longer valid.")
                return False
            except Exception:  # e.g. the database is briefly away: keep the connection, try again
                logger.exception("Could not re-check websocket credentials")
                return not self.closed
            if _powers(principal) != _powers(self.principal):
                # Running subscriptions were allowed under the old powers: make the client
                # subscribe again, under the new ones.
                logger.info("Websocket %s closed: permissions changed", self.connection_id)
                await self.close(code=CLOSE_FORBIDDEN, reason="Permissions changed.")
                return False
            self.principal = principal
            return not self.closed

    # --- access changes announced through the live hub (schema.access) ---------------------------

    async def _watch_access(self) -> None:
        current = fanout.hub()
        try:
            await current.watch_access(self._access_changed)
        except Exception:  # e.g. Redis is away: the periodic check still holds
            logger.exception("Websocket %s cannot hear access changes", self.connection_id)
            return
        self._access_hub = current

    async def _unwatch_access(self) -> None:
        current, self._access_hub = self._access_hub, None
        if current is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(current.unwatch_access(self._access_changed))

    def _access_changed(self, notice: fanout.AccessChanged) -> None:
        """Called by the hub on the event loop for every access change: must not block."""
        if self.closed:
            return
        if not self._authenticated:
            self._recheck_again = True  # whom the credentials name is not known yet
        elif _concerns(notice, self.principal):
            self._request_recheck()

    def _request_recheck(self) -> None:
        if self._recheck_task is not None and not self._recheck_task.done():
            # The running check may have read the state before this change was committed.
            self._recheck_again = True
            return
        self._recheck_task = asyncio.create_task(self._recheck())

    async def _recheck(self) -> None:
        self._recheck_again = True
        while self._recheck_again and not self.closed:
            self._recheck_again = False
            if not await self._check_credentials():
                return

    def operation_context(self) -> Context:
        """A new operation's context: the connection's caller, a correlation id of its own."""
        return Context(
            principal=self.principal,
            correlation_id=new_correlation_id(),
            client_address=self.client_address,
        )
