"""ops' GraphQL types: the system's status, a heartbeat's tasks, domain events as delivered."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.scalars import JSON

from events.selectors import OutboxStatus
from schema.guard.cost import ListSize
from schema.guard.extension import most_throttled_clients
from schema.kit.live import SharedPayload


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
    def of(cls, status: OutboxStatus) -> SystemStatus:
        return cls(
            last_heartbeat_at=status.last_heartbeat_at,
            pending_events=status.pending_events,
            retrying_events=status.retrying_events,
            failed_events=status.failed_events,
            oldest_pending_event_age=status.oldest_pending_event_age,
        )


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
