"""ops' root fields: `systemStatus`, and the `heartbeat` and `redriveEvents` mutations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from events.services import dead_events_redrive
from modules.ops import errors, selectors, services
from modules.ops.graphql.types import HeartbeatTask, SystemStatus
from schema.guard.cost import Cost
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
        # Several aggregate queries over the outbox: dearer than the one object it returns.
        directives=[Cost(weight=10)],
        description="Health of the event pipeline (staff).",
    )
    def system_status(self) -> SystemStatus:
        return SystemStatus.of(selectors.system_status())


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
