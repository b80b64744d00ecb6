"""How subscription events execute: in a worker thread when they need the ORM, once per document
for payloads every subscriber reads alike, and as an EVENTS_DROPPED error when a client fell behind;
the extension hooks each result calls, looked up once per operation (PerResultExtensionsRunner).

Events arrive through the process's live hub (events.fanout): a subscription only filters and
buffers them, so one slow client never holds up another.
"""

from __future__ import annotations

import inspect
import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from channels.db import database_sync_to_async
from django.db import models
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import StreamResultContextManager
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types import ExecutionContext
from strawberry.types.execution import StreamExecutionResult
from strawberry.utils.await_maybe import await_maybe

from events import fanout
from schema.kit import loaders


class PerResultExtensionsRunner(SchemaExtensionsRunner):
    """Strawberry's extensions runner, with the hooks each streamed result calls found once per
    operation rather than once per result.

    For every event of a subscription Strawberry looks through every extension (nine here) for an
    `on_stream_result` hook, and awaits every extension's `get_results`. Only the extensions that
    override them are asked here: the others' are SchemaExtension's own, which do nothing and
    return {}. The same hooks run in the same order, and the results are the same.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._overriding: dict[str, list[SchemaExtension]] = {}

    def extensions_overriding(self, hook: str) -> list[SchemaExtension]:
        """The extensions whose `hook` is not SchemaExtension's (in their order)."""
        found = self._overriding.get(hook)
        if found is None:
            default = getattr(SchemaExtension, hook)
            found = [
                extension
                for extension in self.extensions
                if hook in vars(extension) or getattr(type(extension), hook) is not default
            ]
            self._overriding[hook] = found
        return found

    def on_stream_result(self, result: StreamExecutionResult) -> StreamResultContextManager:
        return StreamResultContextManager(self.extensions_overriding("on_stream_result"), result)

    async def get_extensions_results(self, ctx: ExecutionContext) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for extension in self.extensions_overriding("get_results"):
            data.update(await await_maybe(extension.get_results()))
        data.update(ctx.extensions_results)
        return data


def dropped_error(notice: fanout.Dropped) -> GraphQLError:
    """What the client missed and where to replay from: `after` is the last event it got."""
    why = (
        f"{notice.count} event(s) were dropped because this subscriber fell behind."
        if notice.exact
        else f"Up to {notice.count} event(s) were lost on their way to this server."
    )
    resume = (
        f" Subscribe with after: {notice.after!r} to replay them."
        if notice.after
        else " Replay them with after: set to the last event you kept."
    )
    return GraphQLError(
        why + resume,
        extensions={
            "code": "EVENTS_DROPPED",
            "dropped": notice.count,
            "after": notice.after,
            "exact": notice.exact,
        },
    )


class SharedPayload:
    """A subscription payload whose fields read the same for every caller allowed to subscribe.

    Subscribers running the same document with the same variables then share one execution per
    event: with a thousand watchers of domainEvents, each event is executed once, not 1,000 times.
    """

    @property
    def share_key(self) -> str:
        raise NotImplementedError


@dataclass
class _SharedResult:
    operation: Any  # the parsed operation it ran (held, so that its id is not reused meanwhile)
    result: GraphQLExecutionResult
    data_json: str | None = None  # `result.data` as JSON, once a transport asked for it


# (id of the operation, variables, payload key) -> its result; recent events only.
_shared_results: OrderedDict[tuple[int, str, str], _SharedResult] = OrderedDict()
# id(result.data) -> the same entries, for shared_data_json (the transport has only the data).
_shared_by_data: dict[int, _SharedResult] = {}
SHARED_RESULTS_KEPT = 256


def shared_data_json(data: object, encode: Callable[[object], str]) -> str | None:
    """`encode(data)` computed once for every subscriber, when `data` is a shared result's data
    (the very object, not an equal one); None for any other data, which the caller encodes.

    Every subscriber of a shared payload is sent the same `data`: encoding it is per event work,
    which a thousand subscribers would otherwise each repeat.
    """
    entry = _shared_by_data.get(id(data))
    if entry is None or entry.result.data is not data:
        return None
    if entry.data_json is None:
        entry.data_json = encode(data)
    return entry.data_json


class LiveExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Runs each subscription event; only subscriptions yield the payloads handled here.

    A model instance may load more rows while its fields resolve, and the ORM refuses to run on
    the event loop: such events execute in a worker thread, with loaders of their own (fresh data
    per event). A `Dropped` notice becomes an error-only result telling the client what it missed.
    A `SharedPayload` is executed once per document, variables and event (see there).
    """

    def __copy__(self) -> LiveExecutionContext:
        # graphql-core copies the executor for every event of every subscription
        # (build_per_event_executor). A shallow copy, as copy.copy makes of an object with a
        # __dict__ and no slots, without its trip through __reduce_ex__ and copyreg.
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    def execute_operation(self, serially: bool | None = None) -> Any:
        payload = self.root_value
        if isinstance(payload, fanout.Dropped):
            return GraphQLExecutionResult(data=None, errors=[dropped_error(payload)])
        if isinstance(payload, models.Model):
            return self._execute_in_worker_thread(serially)
        if isinstance(payload, SharedPayload):
            return self._execute_shared(payload, serially)
        return super().execute_operation(serially)

    def _execute_shared(self, payload: SharedPayload, serially: bool | None) -> Any:
        coerced = self.variable_values.coerced
        # Computed for every subscriber and event: most subscriptions pass no variables.
        variables = json.dumps(coerced, sort_keys=True, default=str) if coerced else "{}"
        key = (id(self.operation), variables, payload.share_key)
        cached = _shared_results.get(key)
        if cached is not None and cached.operation is self.operation:  # the same parsed document
            return cached.result
        result = super().execute_operation(serially)
        # Never incremental results: the schema enables no @defer or @stream.
        if not inspect.isawaitable(result):
            complete = cast(GraphQLExecutionResult, result)
            if not complete.errors:
                _remember_shared(key, _SharedResult(self.operation, complete))
        return result

    async def _execute_in_worker_thread(self, serially: bool | None) -> Any:
        def execute() -> Any:
            token = loaders.start_request()
            try:
                return super(LiveExecutionContext, self).execute_operation(serially)
            finally:
                loaders.end_request(token)

        result = await database_sync_to_async(execute)()
        return await result if inspect.isawaitable(result) else result


def _remember_shared(key: tuple[int, str, str], entry: _SharedResult) -> None:
    previous = _shared_results.pop(key, None)
    if previous is not None:
        _forget_data(previous)
    _shared_results[key] = entry
    if isinstance(entry.result.data, dict):
        _shared_by_data[id(entry.result.data)] = entry
    while len(_shared_results) > SHARED_RESULTS_KEPT:
        _forget_data(_shared_results.popitem(last=False)[1])


def _forget_data(entry: _SharedResult) -> None:
    if _shared_by_data.get(id(entry.result.data)) is entry:
        del _shared_by_data[id(entry.result.data)]
