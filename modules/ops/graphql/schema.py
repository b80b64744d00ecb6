"""ops' root fields: `systemStatus`, `eventDeliveries`, `eventStats`, and the `heartbeat` and
`redriveEvents` mutations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
import strawberry_django
from django.db.models import QuerySet
from graphql import GraphQLError

from events.models import OutboxEvent
from events.selectors import MAX_DELIVERY_EVENT_IDS, EventStatsRefused
from events.services import dead_events_redrive
from modules.ops import errors, selectors, services
from modules.ops.graphql.types import (
    EventDeliveryConnection,
    EventDeliveryStatus,
    EventStatsType,
    HeartbeatTask,
    SystemStatus,
)
from schema.guard.cost import Cost
from schema.kit.context import Info
from schema.kit.cursors import bind_cursors
from schema.kit.enums import graphql_enum
from schema.kit.errors import ERROR_CODE, ERROR_FIELD, ERROR_MESSAGE, PAYLOAD_ERRORS, mutate
from schema.kit.permissions import ApiKey, Require, Staff

if TYPE_CHECKING:
    from enum import StrEnum

    # graphql_enum builds the GraphQL twins at run time: to mypy they are StrEnum classes.
    OpsErrorCode = StrEnum
else:
    OpsErrorCode = graphql_enum(errors.OpsErrorCode, description="Why an ops mutation was refused.")


@strawberry.type(description="A refused ops request: which input, why, and a stable code.")
class OpsError:
    field: str | None = strawberry.field(description=ERROR_FIELD)
    message: str = strawberry.field(description=ERROR_MESSAGE)
    code: OpsErrorCode = strawberry.field(description=ERROR_CODE)


@strawberry.type(description="The outcome of heartbeat: what housekeeping did.")
class HeartbeatPayload:
    received_at: datetime | None = strawberry.field(
        default=None, description="When the server ran it; null when there are errors."
    )
    tasks: list[HeartbeatTask] = strawberry.field(
        default_factory=list, description="Each housekeeping task and how much it did."
    )
    errors: list[OpsError] = strawberry.field(default_factory=list, description=PAYLOAD_ERRORS)


@strawberry.type(description="The outcome of redriveEvents.")
class RedriveEventsPayload:
    redriven_count: int = strawberry.field(
        default=0, description="How many dead events are pending again."
    )
    errors: list[OpsError] = strawberry.field(default_factory=list, description=PAYLOAD_ERRORS)


def _heartbeat() -> dict[str, object]:
    done = services.housekeeping_run()
    return {
        "received_at": done.received_at,
        "tasks": [HeartbeatTask(name=name, count=count) for name, count in done.tasks.items()],
    }


@strawberry.type
class Query:
    @strawberry.field(
        extensions=[Require(Staff)],
        # Aggregates over the outbox, the heartbeat and relay workers, the sockets in Redis:
        # dearer than the one object it returns.
        directives=[Cost(weight=15)],
        description="Health of the event pipeline (staff).",
    )
    def system_status(self) -> SystemStatus:
        return SystemStatus.now()

    @bind_cursors
    @strawberry_django.connection(
        EventDeliveryConnection,
        extensions=[Require(Staff)],
        description="Outbox events with their delivery attempts, newest first (staff); every "
        "filter given must hold (null: any).",
    )
    def event_deliveries(
        self,
        info: Info,
        status: Annotated[
            list[EventDeliveryStatus] | None,
            strawberry.argument(description="Only events in one of these statuses."),
        ] = None,
        retrying: Annotated[
            bool | None,
            strawberry.argument(
                description="true: only pending events with at least one attempt (retrying); "
                "false: all but those."
            ),
        ] = None,
        event_ids: Annotated[
            list[uuid.UUID] | None,
            strawberry.argument(
                description=f"Only these events (at most {MAX_DELIVERY_EVENT_IDS})."
            ),
        ] = None,
    ) -> QuerySet[OutboxEvent]:
        if event_ids is not None and len(event_ids) > MAX_DELIVERY_EVENT_IDS:
            raise GraphQLError(
                f"`eventIds` takes at most {MAX_DELIVERY_EVENT_IDS} values.",
                extensions={
                    "code": "BAD_USER_INPUT",
                    "argument": "eventIds",
                    "max": MAX_DELIVERY_EVENT_IDS,
                },
            )
        return selectors.deliveries(
            statuses=None if status is None else [str(s.value) for s in status],
            retrying=retrying,
            event_ids=event_ids,
        )

    @strawberry.field(
        extensions=[Require(Staff)],
        # Four aggregate queries over up to a day of events and attempts, whatever the buckets.
        directives=[Cost(weight=20)],
        description="Counts per time bucket since `since` (staff): events emitted by detail "
        "type, deliveries sent and failed, the backlog at each bucket's end. Buckets are aligned "
        "to multiples of bucketSeconds since the epoch, oldest first, the last holding now. "
        "`since` must not be in the future nor older than EVENT_STATS_MAX_WINDOW_SECONDS, "
        "bucketSeconds between 10 and 3600, and the window at most 360 buckets "
        "(BAD_USER_INPUT, naming the argument and the limit).",
    )
    def event_stats(
        self,
        since: Annotated[
            datetime, strawberry.argument(description="From the bucket holding this moment.")
        ],
        bucket_seconds: Annotated[
            int, strawberry.argument(description="Each bucket's length (10 to 3600 seconds).")
        ] = 60,
    ) -> EventStatsType:
        try:
            stats = selectors.delivery_stats(since=since, bucket_seconds=bucket_seconds)
        except EventStatsRefused as refused:
            raise GraphQLError(
                str(refused),
                extensions={
                    "code": "BAD_USER_INPUT",
                    "argument": refused.argument,
                    **refused.limits,
                },
            ) from None
        return EventStatsType.of(stats)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=[Require(ApiKey("HEARTBEAT"))],
        description="Runs housekeeping: purges, event re-drives, stale items (HEARTBEAT key).",
    )
    def heartbeat(self) -> HeartbeatPayload:
        return mutate(HeartbeatPayload, _heartbeat)

    @strawberry.mutation(
        extensions=[Require(Staff)],
        description="Gives dead events (all, or those named) fresh delivery attempts (staff).",
    )
    def redrive_events(
        self,
        event_ids: Annotated[
            list[uuid.UUID] | None, strawberry.argument(description="Only these; null: all.")
        ] = None,
    ) -> RedriveEventsPayload:
        return mutate(
            RedriveEventsPayload,
            lambda: {"redriven_count": dead_events_redrive(event_ids=event_ids)},
        )
