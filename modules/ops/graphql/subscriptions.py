"""ops' live subscriptions: `domainEvents` (every delivered event, filtered) and `systemStatus`."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import strawberry
from channels.db import database_sync_to_async
from django.conf import settings
from graphql import GraphQLError

from events import fanout
from events.selectors import ReplayPoint, ReplayPointUnknown
from modules.ops import selectors
from modules.ops.graphql.types import DomainEvent, SystemStatus
from schema.kit.context import Info
from schema.kit.permissions import ApiKey, Require, Staff

MAX_FILTER_VALUES = 50
# Events read from the outbox per query while replaying.
REPLAY_PAGE_SIZE = 200
# Live events' DomainEvent, by the envelope the hub handed every subscriber (recent ones only).
LIVE_EVENTS_KEPT = 256

T = TypeVar("T")


def _system_status() -> SystemStatus:
    return SystemStatus.now()


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


@dataclass(frozen=True)
class EventFilter:
    """Which delivered events a domainEvents subscriber wants (None: any)."""

    detail_types: frozenset[str] | None
    sources: frozenset[str] | None

    def accepts(self, item: fanout.Item) -> bool:
        return (
            isinstance(item, dict)
            and (self.detail_types is None or item.get("detailType") in self.detail_types)
            and (self.sources is None or item.get("source") in self.sources)
        )


# id(envelope) -> (envelope, its DomainEvent); the envelope is held so that its id is not reused.
_live_events: OrderedDict[int, tuple[dict[str, Any], DomainEvent]] = OrderedDict()


def _live_domain_event(envelope: dict[str, Any]) -> DomainEvent:
    """The DomainEvent of a live envelope, made once for all the subscribers it reaches.

    The hub hands every subscription the same envelope object; a thousand subscribers would
    otherwise each build an equal DomainEvent (and parse its date) for every event.
    """
    cached = _live_events.get(id(envelope))
    if cached is not None and cached[0] is envelope:
        return cached[1]
    event = DomainEvent.from_envelope(envelope)
    _live_events[id(envelope)] = (envelope, event)
    while len(_live_events) > LIVE_EVENTS_KEPT:
        _live_events.popitem(last=False)
    return event


def _event_id(envelope: dict[str, object]) -> str:
    detail = envelope.get("detail")
    return str(detail.get("eventId", "")) if isinstance(detail, dict) else ""


async def _replay_start(after: strawberry.ID, wanted: EventFilter) -> ReplayPoint:
    """The replay point for `after`, refused with a code when unknown or too far back."""
    try:
        event_id = uuid.UUID(str(after))
    except ValueError:
        raise GraphQLError(
            "`after` must be the eventId of a delivered event.",
            extensions={"code": "BAD_USER_INPUT"},
        ) from None
    try:
        point = await database_sync_to_async(selectors.domain_event_replay_point)(event_id)
    except ReplayPointUnknown:
        raise GraphQLError(
            "No delivered event has this eventId (or it was purged): subscribe without `after`.",
            extensions={"code": "EVENT_NOT_FOUND"},
        ) from None
    most = settings.LIVE_REPLAY_MAX_EVENTS
    count = await database_sync_to_async(selectors.domain_event_count_after)(
        point, detail_types=wanted.detail_types, sources=wanted.sources, up_to=most
    )
    if count > most:
        raise GraphQLError(
            f"More than {most} events were delivered since this one: too many to replay.",
            extensions={"code": "REPLAY_TOO_LONG", "max": most},
        )
    return point


async def domain_event_stream(
    wanted: EventFilter, replay_from: ReplayPoint | None = None
) -> AsyncGenerator[DomainEvent | fanout.Dropped, None]:
    """Delivered events: first those after `replay_from` (from the outbox), then live ones.

    It joins the live hub before reading the outbox, so nothing falls between the two; an event
    both replayed and heard live is given once.
    """
    async with fanout.subscription(wanted.accepts) as events:
        replayed: set[str] = set()
        point = replay_from
        while point is not None:
            page = await database_sync_to_async(selectors.domain_events_after)(
                point,
                detail_types=wanted.detail_types,
                sources=wanted.sources,
                limit=REPLAY_PAGE_SIZE,
            )
            for envelope in page.events:
                replayed.add(_event_id(envelope))
                events.last_event_id = _event_id(envelope)  # a later gap resumes after it
                yield DomainEvent.from_envelope(envelope)
            point = page.last if len(page.events) == REPLAY_PAGE_SIZE else None
        async for item in events:
            if isinstance(item, fanout.Dropped):
                yield item  # LiveExecutionContext turns it into an EVENTS_DROPPED error
            elif isinstance(item, dict):
                if replayed and _event_id(item) in replayed:
                    replayed.discard(_event_id(item))
                    continue
                # Sensitive fields were left out on publishing (events.fanout.publish).
                yield _live_domain_event(item)


async def status_changes(
    compute: Callable[[], T], poll_seconds: float, key: Callable[[T], object] = lambda value: value
) -> AsyncGenerator[T, None]:
    """`compute()` now, then again after each change the hub hears of, whenever its `key`
    differs.

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
            if key(current) != key(last):
                last = current
                yield current


@strawberry.type
class Subscription:
    @strawberry.subscription(
        # Every event of every module: staff (ops) and keys made for it, not any machine client.
        extensions=[Require(Staff | ApiKey("EVENTS"))],
        description="Domain events as they are delivered (staff, or an API key with EVENTS); "
        "filter by detail type and source (null or an empty list: all). A client that falls "
        "behind, or that events were lost on their way to, gets an EVENTS_DROPPED error naming "
        "how many it missed and `after`, the last eventId it got: subscribing again with "
        "`after:` replays the gap from the outbox.",
    )
    async def domain_events(
        self,
        info: Info,
        detail_types: Annotated[
            list[str] | None, strawberry.argument(description="Only these detail types; null: all.")
        ] = None,
        sources: Annotated[
            list[str] | None, strawberry.argument(description="Only these sources; null: all.")
        ] = None,
        after: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Replay first the events delivered after this eventId (the `after` "
                "of an EVENTS_DROPPED error, or the last one received), then go on live. At most "
                "LIVE_REPLAY_MAX_EVENTS (REPLAY_TOO_LONG beyond); EVENT_NOT_FOUND when no "
                "delivered event has this id."
            ),
        ] = None,
    ) -> AsyncGenerator[DomainEvent, None]:
        # Arguments are checked before the stream starts, so bad ones get an `error` message.
        wanted = EventFilter(
            _filter_values("detailTypes", detail_types), _filter_values("sources", sources)
        )
        replay_from = None if after is None else await _replay_start(after, wanted)
        return domain_event_stream(wanted, replay_from)  # type: ignore[return-value]  # Dropped: an error (LiveExecutionContext)

    @strawberry.subscription(
        extensions=[Require(Staff)],
        description="The systemStatus query's value now, then again on every heartbeat and every "
        "change of the events' state (staff).",
    )
    async def system_status(self, info: Info) -> AsyncGenerator[SystemStatus, None]:
        return status_changes(
            _system_status, settings.LIVE_STATUS_POLL_SECONDS, key=SystemStatus.change_key
        )
