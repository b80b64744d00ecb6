"""ops' GraphQL types: the system's status, a heartbeat's tasks, domain events as delivered, the
outbox's events with their delivery attempts (`EventDelivery`, a Relay node) and their counts over
time (`EventStats`)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
import strawberry_django
from django.db.models import QuerySet
from graphql import GraphQLError
from strawberry import relay
from strawberry.scalars import JSON
from strawberry_django.relay import DjangoCursorConnection

from events.models import DeliveryAttempt, OutboxEvent
from events.selectors import (
    MAX_ATTEMPTS_SHOWN,
    MAX_BUCKETS,
    EventStats,
    OutboxStatus,
    RelayWorkerSeen,
)
from modules.ops import selectors
from schema.guard.cost import Cost, ListSize
from schema.guard.extension import most_throttled_clients
from schema.kit.context import Info
from schema.kit.enums import graphql_enum
from schema.kit.live import SharedPayload
from schema.kit.live_counts import live_counts
from schema.kit.loaders import Loader, with_references

if TYPE_CHECKING:
    from enum import StrEnum

    # graphql_enum builds the GraphQL twins at run time: to mypy they are StrEnum classes.
    EventDeliveryStatus = StrEnum
    EventDeliveryOutcome = StrEnum
else:
    EventDeliveryStatus = graphql_enum(
        OutboxEvent.Status,
        name="EventDeliveryStatus",
        description="Where an outbox event is on its way to the bus.",
        value_descriptions={
            "PENDING": "Not delivered yet: waiting for its first attempt, or for a retry.",
            "SENT": "Delivered to the bus.",
            "DEAD": "Out of retries (or refused for good): waiting for redriveEvents.",
        },
    )
    EventDeliveryOutcome = graphql_enum(
        DeliveryAttempt.Outcome,
        name="EventDeliveryOutcome",
        description="What became of one publish attempt.",
        value_descriptions={
            "SENT": "The bus took the event.",
            "FAILED": "The bus (or a local handler) failed it; `error` says how.",
        },
    )


@strawberry.type(description="One housekeeping task of a heartbeat and how many things it handled.")
class HeartbeatTask:
    name: str = strawberry.field(description="The housekeeping task's name.")
    count: int = strawberry.field(description="How many things (rows, events, items) it handled.")


THROTTLED_CLIENTS_SHOWN = 10


@strawberry.type(description="A client whose operations the cost budget refused lately.")
class ThrottledClient:
    client: str = strawberry.field(
        description="`user:<uuid>`, `key:<API key name>` or `address:<IP>`."
    )
    refusals: int = strawberry.field(description="Operations refused THROTTLED in the last hour.")


# Relay workers and heartbeat tasks a status usually lists (for the cost: one query each).
STATUS_LIST_SIZE = 10


@strawberry.type(
    description="A relay worker (`manage.py relay_events`, or a server's in-process "
    "relay) as it last recorded itself; it records itself every few seconds while it runs."
)
class RelayWorker:
    name: str = strawberry.field(description="`host:pid` of the relay's process.")
    started_at: dt.datetime = strawberry.field(description="When the relay started.")
    last_seen_at: dt.datetime = strawberry.field(description="When it last recorded itself.")
    published: int = strawberry.field(description="Events it delivered since it started.")
    failed: int = strawberry.field(
        description="Failed deliveries (to retry, or dead) since it started."
    )
    stale: bool = strawberry.field(
        description="Not seen for RELAY_WORKER_STALE_SECONDS: stopped, stuck or unreachable."
    )

    @classmethod
    def of(cls, seen: RelayWorkerSeen) -> RelayWorker:
        return cls(
            name=seen.name,
            started_at=seen.started_at,
            last_seen_at=seen.last_seen_at,
            published=seen.published,
            failed=seen.failed,
            stale=seen.stale,
        )


@strawberry.type(description="Health of the event pipeline and housekeeping.")
class SystemStatus:
    last_heartbeat_at: dt.datetime | None = strawberry.field(
        description="When housekeeping last ran."
    )
    pending_events: int = strawberry.field(description="Outbox events not yet delivered.")
    retrying_events: int = strawberry.field(description="Pending events that failed at least once.")
    failed_events: int = strawberry.field(
        description="Dead events: out of retries until re-driven."
    )
    oldest_pending_event_age: float | None = strawberry.field(
        description="Seconds since the oldest pending event was emitted; null when none is pending."
    )
    websocket_connections: int = strawberry.field(
        description="GraphQL websocket connections open, across all gateway processes."
    )
    active_subscriptions: int = strawberry.field(
        description="Subscriptions running, across all gateway processes."
    )
    relay_workers: list[RelayWorker] = strawberry.field(
        description="Each relay worker seen in the last RELAY_WORKER_FORGET_SECONDS, by name.",
        directives=[ListSize(assumed_size=STATUS_LIST_SIZE)],
    )
    last_heartbeat_tasks: list[HeartbeatTask] = strawberry.field(
        description="The tasks of the last heartbeat and how much each did, by name; empty "
        "before the first.",
        directives=[ListSize(assumed_size=STATUS_LIST_SIZE)],
    )

    @strawberry.field(
        description="The clients refused most often by their cost budget (at most 10).",
        directives=[ListSize(assumed_size=THROTTLED_CLIENTS_SHOWN)],
    )
    def throttled_clients(self) -> list[ThrottledClient]:
        return [
            ThrottledClient(client=client, refusals=refusals)
            for client, refusals in most_throttled_clients(limit=THROTTLED_CLIENTS_SHOWN)
        ]

    @classmethod
    def of(cls, status: OutboxStatus, workers: list[RelayWorkerSeen]) -> SystemStatus:
        sockets = live_counts.totals()
        return cls(
            last_heartbeat_at=status.last_heartbeat_at,
            pending_events=status.pending_events,
            retrying_events=status.retrying_events,
            failed_events=status.failed_events,
            oldest_pending_event_age=status.oldest_pending_event_age,
            websocket_connections=sockets.connections,
            active_subscriptions=sockets.subscriptions,
            relay_workers=[RelayWorker.of(worker) for worker in workers],
            last_heartbeat_tasks=[
                HeartbeatTask(name=name, count=count)
                for name, count in status.last_heartbeat_tasks.items()
            ],
        )

    def change_key(self) -> tuple[object, ...]:
        """What a systemStatus subscriber is told again about when it changes: everything but
        the relay workers' lastSeenAt, which moves every few seconds (their `stale` counts)."""
        return (
            self.last_heartbeat_at,
            self.pending_events,
            self.retrying_events,
            self.failed_events,
            self.oldest_pending_event_age,
            self.websocket_connections,
            self.active_subscriptions,
            tuple(
                (w.name, w.started_at, w.published, w.failed, w.stale) for w in self.relay_workers
            ),
            tuple((t.name, t.count) for t in self.last_heartbeat_tasks),
        )

    @classmethod
    def now(cls) -> SystemStatus:
        """Read now: the outbox, the relay workers, the sockets of every gateway process."""
        return cls.of(selectors.system_status(), selectors.relay_workers())


@strawberry.type(description="A domain event, as it went to EventBridge.")
class DomainEvent(SharedPayload):
    event_id: strawberry.ID = strawberry.field(description="The event's unique id (a UUID).")
    source: str = strawberry.field(description="`<prefix>.<module>`, e.g. majestic.user.")
    detail_type: str = strawberry.field(description="What happened, e.g. UserSignedUp.")
    occurred_at: dt.datetime = strawberry.field(description="When it happened.")
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
            detail=JSON(detail),
        )

    @property
    def share_key(self) -> str:
        return f"event:{self.event_id}"


# --- event deliveries ----------------------------------------------------------------------------

DEFAULT_ATTEMPTS_SHOWN = 10

# A page's events announce their row ids, so the first `attempts` of the page loads them all.
delivery_attempts_loader: Loader[int, list[DeliveryAttempt]] = Loader(
    "delivery_attempts", selectors.delivery_attempts_of
)


@strawberry.type(description="One attempt to publish an outbox event to the bus.")
class EventDeliveryAttempt:
    attempted_at: dt.datetime = strawberry.field(description="When the bus answered.")
    outcome: EventDeliveryOutcome = strawberry.field(description="What became of it.")
    error: str | None = strawberry.field(
        description="Why it failed (secrets redacted, at most 2000 characters); null when sent."
    )
    duration_ms: float | None = strawberry.field(
        description="How long the bus call carrying it took, in milliseconds (a batch of up to "
        "ten events shares one call)."
    )
    worker: str | None = strawberry.field(
        description="The relay worker that made it (`host:pid`, as in relayWorkers)."
    )

    @classmethod
    def of(cls, attempt: DeliveryAttempt) -> EventDeliveryAttempt:
        return cls(
            attempted_at=attempt.attempted_at,
            outcome=EventDeliveryOutcome(attempt.outcome),
            error=attempt.error or None,
            duration_ms=attempt.duration_ms,
            worker=attempt.worker or None,
        )


@strawberry_django.type(
    OutboxEvent,
    name="EventDelivery",
    description="An event in the outbox and its way to the bus: status, attempts, last error "
    "(staff).",
)
class EventDelivery(relay.Node):
    _id_attr = "event_id"

    event_id: uuid.UUID = strawberry_django.field(description="The event's eventId.")
    source: str = strawberry_django.field(description="`<prefix>.<module>`, e.g. majestic.user.")
    detail_type: str = strawberry_django.field(description="What happened, e.g. UserSignedUp.")
    status: EventDeliveryStatus = strawberry_django.field(description="Where the event is.")
    attempt_count: int = strawberry_django.field(
        field_name="attempts",
        description="Publish attempts so far (a redrive starts again from 0).",
    )
    created_at: dt.datetime = strawberry_django.field(
        description="When it was written to the outbox."
    )
    sent_at: dt.datetime | None = strawberry_django.field(
        description="When the bus took it; null until then."
    )

    @strawberry_django.field(
        only=["last_error"],
        description="Why the last attempt failed (secrets redacted); null when none did.",
    )
    def last_error(self: Any) -> str | None:
        return self.last_error or None

    @strawberry_django.field(
        only=["status", "next_attempt_at"],
        description="When it is next due (or a relay's claim on it ends); null unless PENDING.",
    )
    def next_attempt_at(self: Any) -> dt.datetime | None:
        return self.next_attempt_at if self.status == OutboxEvent.Status.PENDING else None

    @strawberry_django.field(
        only=["id"],
        description="Its latest publish attempts, newest first (kept "
        "EVENTS_DELIVERY_RETENTION_DAYS).",
    )
    def attempts(
        self: Any,
        first: Annotated[
            int | None,
            strawberry.argument(
                description=f"At most this many (0 to {MAX_ATTEMPTS_SHOWN}; null: "
                f"{DEFAULT_ATTEMPTS_SHOWN})."
            ),
        ] = DEFAULT_ATTEMPTS_SHOWN,
    ) -> list[EventDeliveryAttempt]:
        if first is None:
            first = DEFAULT_ATTEMPTS_SHOWN
        if not 0 <= first <= MAX_ATTEMPTS_SHOWN:
            raise GraphQLError(
                f"`first` must be between 0 and {MAX_ATTEMPTS_SHOWN}.",
                extensions={"code": "BAD_USER_INPUT", "argument": "first"},
            )
        found = delivery_attempts_loader.load(self.id) or []
        return [EventDeliveryAttempt.of(attempt) for attempt in found[:first]]

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs: Any) -> QuerySet:
        # Staff only, however it is reached (eventDeliveries, node(id:)).
        if not info.context.principal.is_staff:
            return queryset.none()
        return with_references(queryset, {"id": delivery_attempts_loader})


@strawberry.type(
    name="EventDeliveryConnection", description="A page of outbox events, newest first."
)
class EventDeliveryConnection(DjangoCursorConnection[EventDelivery]):
    pass


# --- event stats ---------------------------------------------------------------------------------


# Counted in eventStats' own weight: all its buckets come from four queries.
@strawberry.type(description="How many events of one detail type.", directives=[Cost(weight=0)])
class DetailTypeCount:
    detail_type: str = strawberry.field(description="What happened, e.g. UserSignedUp.")
    count: int = strawberry.field(description="How many.")


@strawberry.type(
    description="One time bucket of eventStats: what happened in it.", directives=[Cost(weight=0)]
)
class EventStatsBucket:
    start: dt.datetime = strawberry.field(
        description="Its start, a multiple of bucketSeconds since the epoch; it lasts "
        "bucketSeconds."
    )
    emitted: list[DetailTypeCount] = strawberry.field(
        description="Events written to the outbox in the bucket, by detail type (only those "
        "with some)."
    )
    deliveries_sent: int = strawberry.field(description="Publish attempts the bus took.")
    deliveries_failed: int = strawberry.field(description="Publish attempts that failed.")
    pending_events: int = strawberry.field(
        description="Events pending at the bucket's end (now, for the last bucket): written "
        "before it and not sent before it. Events dead now are left out."
    )
    oldest_pending_event_age: float | None = strawberry.field(
        description="Seconds the oldest of those had waited at that moment; null when none."
    )


@strawberry.type(name="EventStats", description="Counts of the event pipeline per time bucket.")
class EventStatsType:
    since: dt.datetime = strawberry.field(description="The `since` asked for.")
    bucket_seconds: int = strawberry.field(description="Each bucket's length, in seconds.")
    buckets: list[EventStatsBucket] = strawberry.field(
        description="Oldest first, one per bucket (empty ones too), from the one holding "
        "`since` to the one holding now.",
        directives=[ListSize(assumed_size=MAX_BUCKETS)],
    )

    @classmethod
    def of(cls, stats: EventStats) -> EventStatsType:
        return cls(
            since=stats.since,
            bucket_seconds=stats.bucket_seconds,
            buckets=[
                EventStatsBucket(
                    start=bucket.start,
                    emitted=[
                        DetailTypeCount(detail_type=detail_type, count=count)
                        for detail_type, count in bucket.emitted.items()
                    ],
                    deliveries_sent=bucket.deliveries_sent,
                    deliveries_failed=bucket.deliveries_failed,
                    pending_events=bucket.pending_events,
                    oldest_pending_event_age=bucket.oldest_pending_event_age,
                )
                for bucket in stats.buckets
            ],
        )
