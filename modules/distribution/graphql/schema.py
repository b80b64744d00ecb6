"""distribution's root fields: centers, their staff, and the movements of items."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry_django.relay import DjangoCursorConnection

from modules.distribution import errors, models, selectors, services
from modules.distribution.filters import DistributionCenterFilterSet
from modules.distribution.graphql.types import DistributionCenter
from schema.kit.context import Info
from schema.kit.cursors import bind_cursors
from schema.kit.enums import graphql_enum
from schema.kit.errors import ERROR_CODE, ERROR_FIELD, ERROR_MESSAGE, PAYLOAD_ERRORS, mutate
from schema.kit.filters import FILTER, ORDER, apply_filters, filter_input, order_input
from schema.kit.permissions import ApiKey, Require, SignedIn, Staff

A = strawberry.argument  # an argument's description: Annotated[type, A("...")]

if TYPE_CHECKING:
    from enum import StrEnum

    # graphql_enum builds the GraphQL twins at run time: to mypy they are StrEnum classes.
    DistributionErrorCode = StrEnum
else:
    DistributionErrorCode = graphql_enum(
        errors.DistributionErrorCode,
        description="Why a distribution mutation was refused.",
        value_descriptions={
            "CENTER_CODE_TAKEN": "Another center has that code.",
            "INVALID_CENTER_CODE": "Not 2-16 letters, digits or hyphens.",
            "CENTER_CODE_IMMUTABLE": "A center keeps its code.",
            "INVALID_NAME": "The name is not acceptable (the message says why).",
            "UNKNOWN_CENTER": "No center has that code.",
            "CENTER_IN_USE": "Something still refers to the center (a transport, an item).",
            "UNKNOWN_USER": "No user has that uuid.",
            "NOT_STAFF_USER": "Only active STAFF users work at a center.",
            "NOT_CENTER_STAFF": "That user does not work at this center.",
            "TOO_MANY_USERS": "More users in one call than allowed; split the call.",
            "INVALID_TRACKING_NUMBER": "Not a tracking number.",
            "TOO_MANY_TRACKING_NUMBERS": "More tracking numbers in one call than allowed.",
            "MOVEMENT_CONFLICT": "This transport's movement was recorded with other items.",
            "MOVEMENT_NOT_ANNOUNCED": "No transport event announced this movement.",
        },
    )


@strawberry.type(description="A refused distribution change: which input, why, and a stable code.")
class DistributionError:
    field: str | None = strawberry.field(description=ERROR_FIELD)
    message: str = strawberry.field(description=ERROR_MESSAGE)
    code: DistributionErrorCode = strawberry.field(description=ERROR_CODE)


if TYPE_CHECKING:
    # filter_input and order_input build these inputs at run time: to mypy they are Any.
    DistributionCenterFilter = Any
    DistributionCenterOrder = Any
else:
    DistributionCenterFilter = filter_input(DistributionCenterFilterSet, "DistributionCenterFilter")
    DistributionCenterOrder = order_input(DistributionCenterFilterSet, "DistributionCenterOrder")


@strawberry.type
class Query:
    @bind_cursors
    @strawberry_django.connection(
        DjangoCursorConnection[DistributionCenter],
        extensions=[Require(SignedIn)],
        description="Distribution centers, newest first unless `order` says otherwise.",
    )
    def distribution_centers(
        self,
        info: Info,
        filter: Annotated[DistributionCenterFilter | None, FILTER] = None,
        sort: Annotated[DistributionCenterOrder | None, ORDER] = None,
    ) -> QuerySet[models.DistributionCenter]:
        return apply_filters(selectors.center_list(), DistributionCenterFilterSet, filter, sort)

    @strawberry_django.field(
        extensions=[Require(SignedIn)], description="The center with this code, if any."
    )
    def distribution_center(
        self, info: Info, center_code: Annotated[str, A("The center's code (any case).")]
    ) -> DistributionCenter | None:
        return selectors.center_by_code(center_code)  # type: ignore[return-value]  # strawberry-django resolves the row as this type


@strawberry.input(description="A new distribution center.")
class CreateDistributionCenterInput:
    center_code: str = strawberry.field(
        description="2-16 letters, digits or hyphens; stored upper case."
    )
    name: str = strawberry.field(description="The center's name, for people.")


@strawberry.input(description="What to change on a center; leave a field out to keep it.")
class UpdateDistributionCenterInput:
    name: str | None = strawberry.field(default=None, description="The new name.")
    center_code: str | None = strawberry.field(
        default=None,
        description="A center keeps its code: another value is refused (CENTER_CODE_IMMUTABLE).",
    )


@strawberry.type(description="The outcome of createDistributionCenter.")
class CreateDistributionCenterPayload:
    distribution_center: DistributionCenter | None = strawberry.field(
        default=None, description="The new center; null when there are errors."
    )
    errors: list[DistributionError] = strawberry.field(
        default_factory=list, description=PAYLOAD_ERRORS
    )


@strawberry.type(description="The outcome of updateDistributionCenter.")
class UpdateDistributionCenterPayload:
    distribution_center: DistributionCenter | None = strawberry.field(
        default=None, description="The center as it is now; null when there are errors."
    )
    errors: list[DistributionError] = strawberry.field(
        default_factory=list, description=PAYLOAD_ERRORS
    )


@strawberry.type(description="The outcome of deleteDistributionCenter.")
class DeleteDistributionCenterPayload:
    distribution_center: DistributionCenter | None = strawberry.field(
        default=None, description="The center as it was before deletion."
    )
    errors: list[DistributionError] = strawberry.field(
        default_factory=list, description=PAYLOAD_ERRORS
    )


@strawberry.type(description="The outcome of addCenterStaff and removeCenterStaff.")
class CenterStaffPayload:
    distribution_center: DistributionCenter | None = strawberry.field(
        default=None, description="The center with its staff now; null when there are errors."
    )
    errors: list[DistributionError] = strawberry.field(
        default_factory=list, description=PAYLOAD_ERRORS
    )


@strawberry.type(description="The outcome of recordDeparture and recordArrival.")
class RecordMovementPayload:
    distribution_center: DistributionCenter | None = strawberry.field(
        default=None, description="The center with its inventory now; null when there are errors."
    )
    already_recorded: bool | None = strawberry.field(
        default=None,
        description="True when this transport's movement was recorded before: nothing changed.",
    )
    errors: list[DistributionError] = strawberry.field(
        default_factory=list, description=PAYLOAD_ERRORS
    )


def _movement(outcome: services.MovementOutcome) -> dict[str, Any]:
    return {"distribution_center": outcome.center, "already_recorded": outcome.already_recorded}


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=[Require(Staff)], description="Create a distribution center.")
    def create_distribution_center(
        self, input: Annotated[CreateDistributionCenterInput, A("The new center.")]
    ) -> CreateDistributionCenterPayload:
        return mutate(
            CreateDistributionCenterPayload,
            lambda: services.center_create(center_code=input.center_code, name=input.name),
        )

    @strawberry.mutation(
        extensions=[Require(Staff)], description="Rename a center (its code never changes)."
    )
    def update_distribution_center(
        self,
        center_code: Annotated[str, A("The center to change.")],
        input: Annotated[UpdateDistributionCenterInput, A("What to change.")],
    ) -> UpdateDistributionCenterPayload:
        return mutate(
            UpdateDistributionCenterPayload,
            lambda: services.center_update(
                center_code=center_code, name=input.name, new_center_code=input.center_code
            ),
        )

    @strawberry.mutation(
        extensions=[Require(Staff)],
        description="Delete a center; refused (CENTER_IN_USE) while anything refers to it.",
    )
    def delete_distribution_center(
        self, center_code: Annotated[str, A("The center to delete.")]
    ) -> DeleteDistributionCenterPayload:
        return mutate(
            DeleteDistributionCenterPayload, lambda: services.center_delete(center_code=center_code)
        )

    @strawberry.mutation(
        extensions=[Require(Staff)], description="Add active STAFF users: all of them or none."
    )
    def add_center_staff(
        self,
        center_code: Annotated[str, A("The center.")],
        user_uuids: Annotated[list[uuid.UUID], A("The STAFF users who start working there.")],
    ) -> CenterStaffPayload:
        return mutate(
            CenterStaffPayload,
            lambda: services.center_staff_add(center_code=center_code, user_uuids=user_uuids),
        )

    @strawberry.mutation(
        extensions=[Require(Staff)], description="Remove staff members: all of them or none."
    )
    def remove_center_staff(
        self,
        center_code: Annotated[str, A("The center.")],
        user_uuids: Annotated[list[uuid.UUID], A("The staff who stop working there.")],
    ) -> CenterStaffPayload:
        return mutate(
            CenterStaffPayload,
            lambda: services.center_staff_remove(center_code=center_code, user_uuids=user_uuids),
        )

    @strawberry.mutation(
        extensions=[Require(ApiKey("DISTRIBUTION"))],
        description="A transport left the center: its items leave the inventory. Idempotent. "
        "Only as TransportStarted announced it (that source center, those tracking numbers); "
        "anything else is MOVEMENT_NOT_ANNOUNCED.",
    )
    def record_departure(
        self,
        transport_uuid: Annotated[uuid.UUID, A("The transport that left.")],
        center_code: Annotated[str, A("Its source center.")],
        tracking_numbers: Annotated[list[str], A("The items it carries.")],
    ) -> RecordMovementPayload:
        return mutate(
            RecordMovementPayload,
            lambda: _movement(
                services.departure_record(
                    transport_uuid=transport_uuid,
                    center_code=center_code,
                    tracking_numbers=tracking_numbers,
                )
            ),
        )

    @strawberry.mutation(
        extensions=[Require(ApiKey("DISTRIBUTION"))],
        description="A transport reached the center: its items enter the inventory. Idempotent. "
        "Only as TransportCompleted announced it (that destination, those tracking numbers); "
        "anything else is MOVEMENT_NOT_ANNOUNCED.",
    )
    def record_arrival(
        self,
        transport_uuid: Annotated[uuid.UUID, A("The transport that arrived.")],
        center_code: Annotated[str, A("Its destination center.")],
        tracking_numbers: Annotated[list[str], A("The items it carries.")],
    ) -> RecordMovementPayload:
        return mutate(
            RecordMovementPayload,
            lambda: _movement(
                services.arrival_record(
                    transport_uuid=transport_uuid,
                    center_code=center_code,
                    tracking_numbers=tracking_numbers,
                )
            ),
        )
