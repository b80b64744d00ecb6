"""GraphQL face of shipping: items, batches, transports; resolvers call selectors and services.

Access rules live in each type's `get_queryset` (lists, nested connections and `node(id:)` all go
through it): staff see everything, a driver sees their own transports and what is on them.
Cross-module fields (centers, driver) resolve through the request's batch loaders.
"""

from __future__ import annotations

import uuid
from enum import Enum
from typing import Annotated, Any

import strawberry
import strawberry_django
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from strawberry import relay
from strawberry_django.relay import DjangoCursorConnection, resolve_model_node

from modules.distribution.api import CENTER_LOADER, DistributionCenterRef
from modules.shipping import filters, selectors, services
from modules.shipping import models as m
from modules.shipping.errors import ShippingErrorCode as ShippingErrorCodeValues
from modules.shipping.subscriptions import Subscription
from modules.user.api import UserRef
from schema import loaders
from schema.context import Info
from schema.cursors import bind_cursors
from schema.errors import mutate
from schema.filters import apply_filters, filter_input, order_input
from schema.permissions import Driver, Require, Staff

USER_LOADER = "user.user"

ShippingErrorCode = strawberry.enum(ShippingErrorCodeValues, name="ShippingErrorCode")


@strawberry.enum(name="ShippingItemStatus", description="Where an item is in its life.")
class ShippingItemStatus(Enum):
    CREATED = "CREATED"
    MOVING = "MOVING"
    COMPLETED = "COMPLETED"
    DAMAGED = "DAMAGED"
    LOST = "LOST"


@strawberry.enum(name="TransportStatus", description="Where a transport is in its trip.")
class TransportStatus(Enum):
    CREATED = "CREATED"
    IN_TRANSIT = "IN_TRANSIT"
    ARRIVED = "ARRIVED"


@strawberry.type
class ShippingError:
    field: str | None
    message: str
    code: ShippingErrorCode  # type: ignore[valid-type]


ShippingItemFilter = filter_input(
    filters.ShippingItemFilterSet, "ShippingItemFilter", types={"status": ShippingItemStatus}
)
ShippingItemOrder = order_input(filters.ShippingItemFilterSet, "ShippingItemOrder")
ShippingBatchFilter = filter_input(filters.ShippingBatchFilterSet, "ShippingBatchFilter")
ShippingBatchOrder = order_input(filters.ShippingBatchFilterSet, "ShippingBatchOrder")
TransportFilter = filter_input(
    filters.TransportFilterSet, "TransportFilter", types={"status": TransportStatus}
)
TransportOrder = order_input(filters.TransportFilterSet, "TransportOrder")


def _viewer(info: Info) -> dict[str, Any]:
    principal = info.context.principal
    return {
        "is_staff": principal.is_staff,
        "driver_uuid": principal.user_uuid if principal.is_driver else None,
    }


def _resolve_node_by_uuid(cls: Any, node_id: Any, *, info: Any, required: bool = False) -> Any:
    """`node(id:)` for types keyed by uuid: a malformed uuid names no node (null, not a crash)."""
    key = node_id.node_id if isinstance(node_id, relay.GlobalID) else node_id
    try:
        uuid.UUID(str(key))
    except ValueError:
        return None
    return resolve_model_node(cls, key, info=info, required=required)


def _count_of(model: type[Any], parent_field: str) -> Coalesce:
    """A correlated COUNT subquery (no GROUP BY on the parent query, which stays paginable)."""
    return Coalesce(
        Subquery(
            model.objects.filter(**{parent_field: OuterRef("pk")})
            .order_by()
            .values(parent_field)
            .annotate(count=Count("pk"))
            .values("count"),
            output_field=IntegerField(),
        ),
        0,
    )


def _acting_driver(info: Info) -> uuid.UUID | None:
    """The driver a start/complete acts as; None for staff (who may act on any transport)."""
    principal = info.context.principal
    return None if principal.is_staff else principal.user_uuid


@strawberry_django.type(m.ShippingItem, name="ShippingItem", description="A parcel on its way.")
class ShippingItem(relay.Node):
    _id_attr = "uuid"
    resolve_node = classmethod(_resolve_node_by_uuid)  # type: ignore[assignment]

    uuid: strawberry.auto
    tracking_number: strawberry.auto
    sku: strawberry.auto
    status: ShippingItemStatus
    current_center_code: str | None
    created_at: strawberry.auto
    completed_at: strawberry.auto
    batches: DjangoCursorConnection[ShippingBatch] = strawberry_django.connection(
        description="The batches this item travelled in, newest first."
    )

    @strawberry_django.field(only=["current_center_code"], description="The center the item is at.")
    def current_center(self: Any) -> DistributionCenterRef | None:
        return loaders.loader(CENTER_LOADER).load(self.current_center_code)

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs: Any) -> QuerySet:
        return selectors.items_visible(queryset, **_viewer(info))


@strawberry_django.type(
    m.ShippingBatch, name="ShippingBatch", description="Items that travel together."
)
class ShippingBatch(relay.Node):
    _id_attr = "uuid"
    resolve_node = classmethod(_resolve_node_by_uuid)  # type: ignore[assignment]

    uuid: strawberry.auto
    alias: strawberry.auto
    completed: strawberry.auto
    transport: Transport | None
    items: DjangoCursorConnection[ShippingItem] = strawberry_django.connection(
        description="The items in this batch, newest first."
    )
    created_at: strawberry.auto
    transport_assigned_at: strawberry.auto
    completed_at: strawberry.auto

    @strawberry_django.field(annotate={"_item_count": _count_of(m.BatchMembership, "batch")})
    def item_count(self: Any) -> int:
        count = getattr(self, "_item_count", None)
        return count if count is not None else self.memberships.count()

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs: Any) -> QuerySet:
        return selectors.batches_visible(queryset, **_viewer(info))


@strawberry_django.type(
    m.Transport, name="Transport", description="A trip of batches between two centers."
)
class Transport(relay.Node):
    _id_attr = "uuid"
    resolve_node = classmethod(_resolve_node_by_uuid)  # type: ignore[assignment]

    uuid: strawberry.auto
    status: TransportStatus
    source_center_code: str
    destination_center_code: str
    driver_uuid: uuid.UUID | None
    batches: DjangoCursorConnection[ShippingBatch] = strawberry_django.connection(
        description="The batches on this transport, newest first."
    )
    created_at: strawberry.auto
    departed_at: strawberry.auto
    arrived_at: strawberry.auto

    @strawberry_django.field(only=["source_center_code"])
    def source_center(self: Any) -> DistributionCenterRef | None:
        return loaders.loader(CENTER_LOADER).load(self.source_center_code)

    @strawberry_django.field(only=["destination_center_code"])
    def destination_center(self: Any) -> DistributionCenterRef | None:
        return loaders.loader(CENTER_LOADER).load(self.destination_center_code)

    @strawberry_django.field(only=["driver_uuid"])
    def driver(self: Any) -> UserRef | None:
        return loaders.loader(USER_LOADER).load(self.driver_uuid)

    @strawberry_django.field(annotate={"_batch_count": _count_of(m.ShippingBatch, "transport")})
    def batch_count(self: Any) -> int:
        count = getattr(self, "_batch_count", None)
        return count if count is not None else self.batches.count()

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs: Any) -> QuerySet:
        return selectors.transports_visible(queryset, **_viewer(info))


# --- payloads and inputs -------------------------------------------------------------------------


@strawberry.type
class ShippingItemPayload:
    shipping_item: ShippingItem | None = None
    errors: list[ShippingError] = strawberry.field(default_factory=list)


@strawberry.type
class ShippingBatchPayload:
    shipping_batch: ShippingBatch | None = None
    errors: list[ShippingError] = strawberry.field(default_factory=list)


@strawberry.type
class TransportPayload:
    transport: Transport | None = None
    errors: list[ShippingError] = strawberry.field(default_factory=list)


@strawberry.input
class CreateShippingItemInput:
    sku: str


@strawberry.input
class CreateShippingBatchInput:
    alias: str | None = strawberry.field(
        default=None, description="Generated when absent or blank."
    )


@strawberry.input
class CreateTransportInput:
    source_center_code: str
    destination_center_code: str
    driver_uuid: uuid.UUID | None = None


# --- root fields ---------------------------------------------------------------------------------


@strawberry.type
class Query:
    @bind_cursors
    @strawberry_django.connection(DjangoCursorConnection[ShippingItem], extensions=[Require(Staff)])
    def shipping_items(
        self,
        info: Info,
        filter: ShippingItemFilter | None = None,  # type: ignore[valid-type]
        # Named `order` in GraphQL only: strawberry-django claims a Python argument called `order`.
        sort: Annotated[ShippingItemOrder | None, strawberry.argument(name="order")] = None,  # type: ignore[valid-type]
    ) -> QuerySet[m.ShippingItem]:
        return apply_filters(
            m.ShippingItem.objects.all(), filters.ShippingItemFilterSet, filter, sort
        )

    @strawberry_django.field(extensions=[Require(Staff)])
    def shipping_item(self, info: Info, tracking_number: str) -> ShippingItem | None:
        return m.ShippingItem.objects.filter(tracking_number=tracking_number.strip().upper())  # type: ignore[return-value]

    @bind_cursors
    @strawberry_django.connection(
        DjangoCursorConnection[ShippingBatch], extensions=[Require(Staff)]
    )
    def shipping_batches(
        self,
        info: Info,
        filter: ShippingBatchFilter | None = None,  # type: ignore[valid-type]
        sort: Annotated[ShippingBatchOrder | None, strawberry.argument(name="order")] = None,  # type: ignore[valid-type]
    ) -> QuerySet[m.ShippingBatch]:
        return apply_filters(
            m.ShippingBatch.objects.all(), filters.ShippingBatchFilterSet, filter, sort
        )

    @strawberry_django.field(extensions=[Require(Staff)])
    def shipping_batch(self, info: Info, alias: str) -> ShippingBatch | None:
        return m.ShippingBatch.objects.filter(alias=alias.strip())  # type: ignore[return-value]

    @bind_cursors
    @strawberry_django.connection(
        DjangoCursorConnection[Transport],
        extensions=[Require(Staff | Driver)],
        description="Staff see every transport; a driver sees the transports assigned to them.",
    )
    def transports(
        self,
        info: Info,
        filter: TransportFilter | None = None,  # type: ignore[valid-type]
        sort: Annotated[TransportOrder | None, strawberry.argument(name="order")] = None,  # type: ignore[valid-type]
    ) -> QuerySet[m.Transport]:
        return apply_filters(m.Transport.objects.all(), filters.TransportFilterSet, filter, sort)

    @strawberry_django.field(extensions=[Require(Staff | Driver)])
    def transport(self, info: Info, uuid: uuid.UUID) -> Transport | None:
        return m.Transport.objects.filter(uuid=uuid)  # type: ignore[return-value]


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=[Require(Staff)])
    def create_shipping_item(
        self, info: Info, input: CreateShippingItemInput
    ) -> ShippingItemPayload:
        return mutate(ShippingItemPayload, lambda: services.shipping_item_create(sku=input.sku))

    @strawberry.mutation(
        extensions=[Require(Staff)],
        description="Mark an item DAMAGED or LOST (from CREATED or MOVING); other changes follow "
        "from batches and transports.",
    )
    def update_shipping_item_status(
        self, info: Info, tracking_number: str, status: ShippingItemStatus
    ) -> ShippingItemPayload:
        return mutate(
            ShippingItemPayload,
            lambda: services.shipping_item_status_change(
                tracking_number=tracking_number, status=status.value
            ),
        )

    @strawberry.mutation(extensions=[Require(Staff)])
    def create_shipping_batch(
        self, info: Info, input: CreateShippingBatchInput | None = None
    ) -> ShippingBatchPayload:
        alias = input.alias if input is not None else None
        return mutate(ShippingBatchPayload, lambda: services.shipping_batch_create(alias=alias))

    @strawberry.mutation(
        extensions=[Require(Staff)],
        description=(
            f"All or nothing; at most {services.MAX_VALUES_PER_CALL} tracking numbers per call."
        ),
    )
    def add_items_to_batch(
        self, info: Info, alias: str, tracking_numbers: list[str]
    ) -> ShippingBatchPayload:
        return mutate(
            ShippingBatchPayload,
            lambda: services.shipping_batch_add_items(
                alias=alias, tracking_numbers=tracking_numbers
            ),
        )

    @strawberry.mutation(extensions=[Require(Staff)])
    def create_transport(self, info: Info, input: CreateTransportInput) -> TransportPayload:
        return mutate(
            TransportPayload,
            lambda: services.transport_create(
                source_center_code=input.source_center_code,
                destination_center_code=input.destination_center_code,
                driver_uuid=input.driver_uuid,
            ),
        )

    @strawberry.mutation(
        extensions=[Require(Staff)],
        description=f"All or nothing; at most {services.MAX_VALUES_PER_CALL} aliases per call.",
    )
    def add_batches_to_transport(
        self, info: Info, transport_uuid: uuid.UUID, aliases: list[str]
    ) -> TransportPayload:
        return mutate(
            TransportPayload,
            lambda: services.transport_add_batches(transport_uuid=transport_uuid, aliases=aliases),
        )

    @strawberry.mutation(extensions=[Require(Staff)])
    def assign_driver(
        self, info: Info, transport_uuid: uuid.UUID, driver_uuid: uuid.UUID
    ) -> TransportPayload:
        return mutate(
            TransportPayload,
            lambda: services.transport_assign_driver(
                transport_uuid=transport_uuid, driver_uuid=driver_uuid
            ),
        )

    @strawberry.mutation(
        extensions=[Require(Staff | Driver)], description="Staff or the transport's driver."
    )
    def start_transport(self, info: Info, transport_uuid: uuid.UUID) -> TransportPayload:
        as_driver = _acting_driver(info)
        return mutate(
            TransportPayload,
            lambda: services.transport_start(transport_uuid=transport_uuid, as_driver=as_driver),
        )

    @strawberry.mutation(
        extensions=[Require(Staff | Driver)], description="Staff or the transport's driver."
    )
    def complete_transport(self, info: Info, transport_uuid: uuid.UUID) -> TransportPayload:
        as_driver = _acting_driver(info)
        return mutate(
            TransportPayload,
            lambda: services.transport_complete(transport_uuid=transport_uuid, as_driver=as_driver),
        )


__all__ = ["Mutation", "Query", "Subscription"]
