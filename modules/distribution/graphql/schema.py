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
from schema.kit.errors import mutate
from schema.kit.filters import apply_filters, filter_input, order_input
from schema.kit.permissions import ApiKey, Require, SignedIn, Staff

if TYPE_CHECKING:
    from enum import StrEnum

    # graphql_enum builds the GraphQL twins at run time: to mypy they are StrEnum classes.
    DistributionErrorCode = StrEnum
else:
    DistributionErrorCode = graphql_enum(
        errors.DistributionErrorCode, description="Why a distribution mutation was refused."
    )


@strawberry.type(description="A refused distribution change: which input, why, and a stable code.")
class DistributionError:
    field: str | None
    message: str
    code: DistributionErrorCode


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
        filter: DistributionCenterFilter | None = None,
        # Named `order` in GraphQL only: strawberry-django claims a Python argument called `order`.
        sort: Annotated[DistributionCenterOrder | None, strawberry.argument(name="order")] = None,
    ) -> QuerySet[models.DistributionCenter]:
        return apply_filters(selectors.center_list(), DistributionCenterFilterSet, filter, sort)

    @strawberry_django.field(
        extensions=[Require(SignedIn)], description="The center with this code, if any."
    )
    def distribution_center(self, info: Info, center_code: str) -> DistributionCenter | None:
        return selectors.center_by_code(center_code)  # type: ignore[return-value]  # strawberry-django resolves the row as this type


@strawberry.input
class CreateDistributionCenterInput:
    center_code: str = strawberry.field(
        description="2-16 letters, digits or hyphens; stored upper case."
    )
    name: str


@strawberry.input
class UpdateDistributionCenterInput:
    name: str | None = None
    center_code: str | None = strawberry.field(
        default=None,
        description="A center keeps its code: another value is refused (CENTER_CODE_IMMUTABLE).",
    )


@strawberry.type
class CreateDistributionCenterPayload:
    distribution_center: DistributionCenter | None = None
    errors: list[DistributionError] = strawberry.field(default_factory=list)


@strawberry.type
class UpdateDistributionCenterPayload:
    distribution_center: DistributionCenter | None = None
    errors: list[DistributionError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteDistributionCenterPayload:
    distribution_center: DistributionCenter | None = strawberry.field(
        default=None, description="The center as it was before deletion."
    )
    errors: list[DistributionError] = strawberry.field(default_factory=list)


@strawberry.type
class CenterStaffPayload:
    distribution_center: DistributionCenter | None = None
    errors: list[DistributionError] = strawberry.field(default_factory=list)


@strawberry.type
class RecordMovementPayload:
    distribution_center: DistributionCenter | None = None
    already_recorded: bool | None = strawberry.field(
        default=None,
        description="True when this transport's movement was recorded before: nothing changed.",
    )
    errors: list[DistributionError] = strawberry.field(default_factory=list)


def _movement(outcome: services.MovementOutcome) -> dict[str, Any]:
    return {"distribution_center": outcome.center, "already_recorded": outcome.already_recorded}


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=[Require(Staff)])
    def create_distribution_center(
        self, input: CreateDistributionCenterInput
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
        center_code: str,
        input: UpdateDistributionCenterInput,
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
    def delete_distribution_center(self, center_code: str) -> DeleteDistributionCenterPayload:
        return mutate(
            DeleteDistributionCenterPayload, lambda: services.center_delete(center_code=center_code)
        )

    @strawberry.mutation(
        extensions=[Require(Staff)], description="Add active STAFF users: all of them or none."
    )
    def add_center_staff(self, center_code: str, user_uuids: list[uuid.UUID]) -> CenterStaffPayload:
        return mutate(
            CenterStaffPayload,
            lambda: services.center_staff_add(center_code=center_code, user_uuids=user_uuids),
        )

    @strawberry.mutation(
        extensions=[Require(Staff)], description="Remove staff members: all of them or none."
    )
    def remove_center_staff(
        self, center_code: str, user_uuids: list[uuid.UUID]
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
        self, transport_uuid: uuid.UUID, center_code: str, tracking_numbers: list[str]
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
        self, transport_uuid: uuid.UUID, center_code: str, tracking_numbers: list[str]
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
