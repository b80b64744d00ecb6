"""ops' live subscriptions: `domainEvents` (every delivered event, filtered) and `systemStatus`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable
from typing import TypeVar

import strawberry
from channels.db import database_sync_to_async
from django.conf import settings
from graphql import GraphQLError

from events import fanout
from modules.ops import selectors
from modules.ops.graphql.types import DomainEvent, SystemStatus
from schema.kit.context import Info
from schema.kit.permissions import ApiKey, Require, Staff

MAX_FILTER_VALUES = 50

T = TypeVar("T")


def _system_status() -> SystemStatus:
    return SystemStatus.of(selectors.system_status())


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


async def status_changes(compute: Callable[[], T], poll_seconds: float) -> AsyncGenerator[T, None]:
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
        return domain_event_stream(accepts)  # type: ignore[return-value]  # Dropped: an error (LiveExecutionContext)

    @strawberry.subscription(
        extensions=[Require(Staff)],
        description="The systemStatus query's value now, then again on every heartbeat and every "
        "change of the events' state (staff).",
    )
    async def system_status(self, info: Info) -> AsyncGenerator[SystemStatus, None]:
        return status_changes(_system_status, settings.LIVE_STATUS_POLL_SECONDS)
