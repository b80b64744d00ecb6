"""Ops: the heartbeat's housekeeping, the system's status, and re-driving dead events.

Housekeeping spans modules (auth's expired credentials, shipping's stale items, the outbox), so it
is orchestrated here, where the gateway may reach every module's api.py; each task is idempotent,
so a retried heartbeat does no harm. The systemStatus and domainEvents subscriptions live with
the other subscriptions; they reuse `SystemStatus` and `system_status()` from here.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import strawberry
from django.utils import timezone

from events.relay import relay_pending_events
from events.selectors import dead_event_count, outbox_status
from events.services import dead_events_redrive, heartbeat_record, sent_events_purge
from modules.auth import api as auth_api
from modules.shipping import api as shipping_api
from schema.errors import mutate
from schema.permissions import ApiKey, Require, Staff

logger = logging.getLogger("majestic.ops")

# The heartbeat relays one batch itself: a safety net should no relay be running.
HEARTBEAT_RELAY_BATCH = 10


class OpsErrorCodeEnum(StrEnum):
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    UNAUTHENTICATED = "UNAUTHENTICATED"


OpsErrorCode = strawberry.enum(
    OpsErrorCodeEnum, name="OpsErrorCode", description="Why an ops mutation was refused."
)


@strawberry.type(description="A refused ops request: which input, why, and a stable code.")
class OpsError:
    field: str | None
    message: str
    code: OpsErrorCode


@strawberry.type(description="One housekeeping task of a heartbeat and how many things it handled.")
class HeartbeatTask:
    name: str
    count: int


@strawberry.type
class HeartbeatPayload:
    received_at: datetime | None = None
    tasks: list[HeartbeatTask] = strawberry.field(default_factory=list)
    errors: list[OpsError] = strawberry.field(default_factory=list)


@strawberry.type
class RedriveEventsPayload:
    redriven_count: int = strawberry.field(
        default=0, description="How many dead events are pending again."
    )
    errors: list[OpsError] = strawberry.field(default_factory=list)


@strawberry.type(description="Health of the event pipeline and housekeeping.")
class SystemStatus:
    last_heartbeat_at: datetime | None = strawberry.field(description="When housekeeping last ran.")
    pending_events: int = strawberry.field(description="Outbox events not yet delivered.")
    retrying_events: int = strawberry.field(description="Pending events that failed at least once.")
    failed_events: int = strawberry.field(
        description="Dead events: out of retries until re-driven."
    )
    oldest_pending_event_age: float | None = strawberry.field(
        description="Seconds since the oldest pending event was emitted; null when none is pending."
    )


def system_status() -> SystemStatus:
    status = outbox_status()
    return SystemStatus(
        last_heartbeat_at=status.last_heartbeat_at,
        pending_events=status.pending_events,
        retrying_events=status.retrying_events,
        failed_events=status.failed_events,
        oldest_pending_event_age=status.oldest_pending_event_age,
    )


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def housekeeping() -> dict[str, Any]:
    """Run every housekeeping task; each is safe to repeat. Returns the heartbeat payload fields."""
    received_at = timezone.now()
    tasks: dict[str, int] = {}
    for kind, count in auth_api.purge_expired().items():
        tasks[f"{_camel(kind)}Purged"] = int(count)
    tasks["sentEventsPurged"] = sent_events_purge(now=received_at)
    tasks["dueEventsRedriven"] = relay_pending_events(
        max_rounds=1, claim_size=HEARTBEAT_RELAY_BATCH
    ).sent
    tasks["deadEvents"] = dead_event_count()
    tasks["staleItemsReported"] = shipping_api.stale_items_report()
    heartbeat_record(received_at=received_at, tasks=tasks)
    _announce_status()
    logger.info("Heartbeat housekeeping: %s", tasks)
    return {
        "received_at": received_at,
        "tasks": [HeartbeatTask(name=n, count=c) for n, c in tasks.items()],
    }


def _announce_status() -> None:
    try:
        from events.fanout import publish_status_changed
    except ImportError:
        return
    try:
        publish_status_changed()
    except Exception:  # live status is best effort; the heartbeat itself is recorded
        logger.exception("Could not announce the heartbeat to live subscribers")


@strawberry.type
class Query:
    @strawberry.field(
        extensions=[Require(Staff)], description="Health of the event pipeline (staff)."
    )
    def system_status(self) -> SystemStatus:
        return system_status()


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=[Require(ApiKey("HEARTBEAT"))],
        description="Runs housekeeping: purges, event re-drives, stale items (HEARTBEAT key).",
    )
    def heartbeat(self) -> HeartbeatPayload:
        return mutate(HeartbeatPayload, housekeeping)

    @strawberry.mutation(
        extensions=[Require(Staff)],
        description="Gives dead events (all, or those named) fresh delivery attempts (staff).",
    )
    def redrive_events(self, event_ids: list[uuid.UUID] | None = None) -> RedriveEventsPayload:
        return mutate(
            RedriveEventsPayload,
            lambda: {"redriven_count": dead_events_redrive(event_ids=event_ids)},
        )


Subscription = None
