"""Live ops subscriptions (`domainEvents`, `systemStatus`) and how subscription events execute.

Events arrive through the process's live hub (events.fanout): a subscription only filters and
buffers them, so one slow client never holds up another.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import inspect
import json
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable
from typing import Any

import strawberry
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import models
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.scalars import JSON
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from events import fanout
from schema import loaders
from schema.context import Info
from schema.ops import SystemStatus, system_status
from schema.permissions import ApiKey, Require, Staff

MAX_FILTER_VALUES = 50


def dropped_error(notice: fanout.Dropped) -> GraphQLError:
    return GraphQLError(
        f"{notice.count} event(s) were dropped because this subscriber fell behind.",
        extensions={"code": "EVENTS_DROPPED", "dropped": notice.count},
    )


class SharedPayload:
    """A subscription payload whose fields read the same for every caller allowed to subscribe.

    Subscribers running the same document with the same variables then share one execution per
    event: with a thousand watchers of domainEvents, each event is executed once, not 1,000 times.
    """

    @property
    def share_key(self) -> str:
        raise NotImplementedError


# (id of the operation, variables, payload key) -> (operation, result); recent events only.
_shared_results: OrderedDict[tuple[int, str, str], tuple[Any, Any]] = OrderedDict()
SHARED_RESULTS_KEPT = 256


class LiveExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Runs each subscription event; only subscriptions yield the payloads handled here.

    A model instance may load more rows while its fields resolve, and the ORM refuses to run on
    the event loop: such events execute in a worker thread, with loaders of their own (fresh data
    per event). A `Dropped` notice becomes an error-only result telling the client what it missed.
    A `SharedPayload` is executed once per document, variables and event (see there).
    """

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
        variables = json.dumps(self.variable_values.coerced, sort_keys=True, default=str)
        key = (id(self.operation), variables, payload.share_key)
        cached = _shared_results.get(key)
        if cached is not None and cached[0] is self.operation:  # the same parsed document
            return cached[1]
        result = super().execute_operation(serially)
        if not inspect.isawaitable(result) and not result.errors:
            _shared_results[key] = (self.operation, result)
            while len(_shared_results) > SHARED_RESULTS_KEPT:
                _shared_results.popitem(last=False)
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


@strawberry.type(description="A domain event, as it went to EventBridge.")
class DomainEvent(SharedPayload):
    event_id: strawberry.ID
    source: str = strawberry.field(description="`<prefix>.<module>`, e.g. majestic.shipping.")
    detail_type: str = strawberry.field(description="What happened, e.g. TransportStarted.")
    occurred_at: dt.datetime
    detail: JSON = strawberry.field(
        description="The detail: eventId, occurredAt, version, correlationId, actor, data. "
        "Personal or secret data never comes here: the keys the event catalog marks as "
        "sensitiveFields are left out of data, and `redacted` names them."
    )

    @classmethod
    def from_envelope(cls, envelope: dict[str, Any]) -> DomainEvent:
        detail = envelope.get("detail") or {}
        return cls(
            event_id=strawberry.ID(str(detail.get("eventId", ""))),
            source=str(envelope.get("source", "")),
            detail_type=str(envelope.get("detailType", "")),
            occurred_at=dt.datetime.fromisoformat(detail["occurredAt"]),
            detail=detail,
        )

    @property
    def share_key(self) -> str:
        return f"event:{self.event_id}"


def _filter_values(name: str, values: list[str] | None) -> frozenset[str] | None:
    """None (or an empty list) means every value."""
    if not values:
        return None
    if len(values) > MAX_FILTER_VALUES:
        raise GraphQLError(
            f"`{name}` takes at most {MAX_FILTER_VALUES} values.",
            extensions={"code": "BAD_USER_INPUT"},
        )
    return frozenset(values)


def events_matching(
    detail_types: frozenset[str] | None, sources: frozenset[str] | None
) -> Callable[[fanout.Item], bool]:
    def accepts(item: fanout.Item) -> bool:
        return (
            isinstance(item, dict)
            and (detail_types is None or item.get("detailType") in detail_types)
            and (sources is None or item.get("source") in sources)
        )

    return accepts


async def domain_event_stream(
    accepts: Callable[[fanout.Item], bool],
) -> AsyncGenerator[DomainEvent | fanout.Dropped, None]:
    async with fanout.subscription(accepts) as events:
        async for item in events:
            if isinstance(item, fanout.Dropped):
                yield item  # LiveExecutionContext turns it into an EVENTS_DROPPED error
            elif isinstance(item, dict):
                # Sensitive fields were left out on publishing (events.fanout.publish).
                yield DomainEvent.from_envelope(item)


async def status_changes(
    compute: Callable[[], Any], poll_seconds: float
) -> AsyncGenerator[Any, None]:
    """`compute()` now, then again after each change the hub hears of, whenever it differs.

    Every delivered event and every announced change (heartbeat, dead events) counts; it also looks
    every `poll_seconds` for changes made where nobody announces them (another relay's backlog).
    Only the latest change matters, so a slow client just gets the newest status.
    """
    everything = fanout.subscription(lambda item: True, buffer_size=1, keep_latest_only=True)
    async with everything as changes:
        last = await database_sync_to_async(compute)()
        yield last
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changes.next(), timeout=poll_seconds)
            current = await database_sync_to_async(compute)()
            if current != last:
                last = current
                yield current


@strawberry.type
class Subscription:
    @strawberry.subscription(
        # Every event of every module: staff (ops) and keys made for it, not any machine client.
        extensions=[Require(Staff | ApiKey("EVENTS"))],
        description="Domain events as they are delivered (staff, or an API key with EVENTS); "
        "filter by detail type and source (null or an empty list: all). A client that falls "
        "behind gets an EVENTS_DROPPED error naming how many events it missed, then the newest "
        "ones.",
    )
    async def domain_events(
        self,
        info: Info,
        detail_types: list[str] | None = None,
        sources: list[str] | None = None,
    ) -> AsyncGenerator[DomainEvent, None]:
        # Arguments are checked before the stream starts, so bad ones get an `error` message.
        accepts = events_matching(
            _filter_values("detailTypes", detail_types), _filter_values("sources", sources)
        )
        return domain_event_stream(accepts)  # type: ignore[return-value]

    @strawberry.subscription(
        extensions=[Require(Staff)],
        description="The systemStatus query's value now, then again on every heartbeat and every "
        "change of the events' state (staff).",
    )
    async def system_status(self, info: Info) -> AsyncGenerator[SystemStatus, None]:
        return status_changes(system_status, settings.LIVE_STATUS_POLL_SECONDS)  # type: ignore[return-value]
