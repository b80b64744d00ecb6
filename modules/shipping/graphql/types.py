"""shipping's GraphQL types: items, batches, transports, and the enums of their status.

Access rules live in each type's `get_queryset` (lists, nested connections and `node(id:)` all go
through it): staff see everything, a driver sees their own transports and what is on them.
Cross-module fields (centers, driver) resolve through the owning modules' loaders.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import strawberry
import strawberry_django
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from strawberry import relay
from strawberry_django.relay import DjangoCursorConnection, resolve_model_node

from modules.distribution.graphql.types import DistributionCenter, center_loader
from modules.shipping import models as m
from modules.shipping import selectors
from modules.user.graphql.types import User, user_loader
from schema.kit.context import Info
from schema.kit.enums import graphql_enum
from schema.kit.loaders import with_references

if TYPE_CHECKING:
    from enum import StrEnum

    # graphql_enum builds the GraphQL twins at run time: to mypy they are StrEnum classes.
    ShippingItemStatus = StrEnum
    TransportStatus = StrEnum
else:
    ShippingItemStatus = graphql_enum(
        m.ShippingItemStatus,
        name="ShippingItemStatus",
        description="Where an item is in its life.",
        value_descriptions={
            "CREATED": "Registered, in no batch yet.",
            "MOVING": "In a batch: on its way, from its first batch until its transport arrives.",
            "COMPLETED": "Arrived at its destination center with its transport.",
            "DAMAGED": "Reported damaged.",
            "LOST": "Reported lost.",
        },
    )
    TransportStatus = graphql_enum(
        m.TransportStatus,
        name="TransportStatus",
        description="Where a transport is in its trip.",
        value_descriptions={
            "CREATED": "Being loaded; it has not left.",
            "IN_TRANSIT": "On its way.",
            "ARRIVED": "At its destination center.",
        },
    )


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
    return resolve_model_node(cls, key, info=info, required=required)  # type: ignore[call-overload]  # overloads for Literal True/False only


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


@strawberry_django.type(m.ShippingItem, name="ShippingItem", description="A parcel on its way.")
class ShippingItem(relay.Node):
    _id_attr = "uuid"
    resolve_node = classmethod(_resolve_node_by_uuid)

    uuid: strawberry.auto = strawberry_django.field(description="The item's stable identifier.")
    tracking_number: strawberry.auto = strawberry_django.field(
        description="The number on the label (upper case); look an item up by it."
    )
    sku: strawberry.auto = strawberry_django.field(
        description="The stock-keeping unit: what the parcel holds."
    )
    status: ShippingItemStatus = strawberry_django.field(
        description="Where the item is in its life."
    )
    current_center_code: str | None = strawberry_django.field(
        description="The code of the center the item is at; null while it travels."
    )
    created_at: strawberry.auto = strawberry_django.field(description="When the item was created.")
    completed_at: strawberry.auto = strawberry_django.field(
        description="When the item reached its destination; null until then."
    )
    batches: DjangoCursorConnection[ShippingBatch] = strawberry_django.connection(
        description="The batches this item travelled in, newest first."
    )

    @strawberry_django.field(only=["current_center_code"], description="The center the item is at.")
    def current_center(self: Any) -> DistributionCenter | None:
        return center_loader.load(self.current_center_code)  # type: ignore[return-value]  # strawberry-django resolves the row as this type

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs: Any) -> QuerySet:
        visible = selectors.items_visible(queryset, **_viewer(info))
        return with_references(visible, {"current_center_code": center_loader})


@strawberry_django.type(
    m.ShippingBatch, name="ShippingBatch", description="Items that travel together."
)
class ShippingBatch(relay.Node):
    _id_attr = "uuid"
    resolve_node = classmethod(_resolve_node_by_uuid)

    uuid: strawberry.auto = strawberry_django.field(description="The batch's stable identifier.")
    alias: strawberry.auto = strawberry_django.field(
        description="The batch's unique name; look a batch up by it."
    )
    completed: strawberry.auto = strawberry_django.field(
        description="True once its transport arrived; a completed batch takes no more items."
    )
    transport: Transport | None = strawberry_django.field(
        description="The transport it is loaded on, if any."
    )
    items: DjangoCursorConnection[ShippingItem] = strawberry_django.connection(
        description="The items in this batch, newest first."
    )
    created_at: strawberry.auto = strawberry_django.field(description="When the batch was created.")
    transport_assigned_at: strawberry.auto = strawberry_django.field(
        description="When it was loaded on its transport; null while it is on none."
    )
    completed_at: strawberry.auto = strawberry_django.field(
        description="When its transport arrived; null until then."
    )

    @strawberry_django.field(
        annotate={"_item_count": _count_of(m.BatchMembership, "batch")},
        description="How many items the batch holds.",
    )
    def item_count(self: Any) -> int:
        count: int | None = getattr(self, "_item_count", None)
        return count if count is not None else self.memberships.count()

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs: Any) -> QuerySet:
        return selectors.batches_visible(queryset, **_viewer(info))


@strawberry_django.type(
    m.Transport, name="Transport", description="A trip of batches between two centers."
)
class Transport(relay.Node):
    _id_attr = "uuid"
    resolve_node = classmethod(_resolve_node_by_uuid)

    uuid: strawberry.auto = strawberry_django.field(
        description="The transport's stable identifier."
    )
    status: TransportStatus = strawberry_django.field(
        description="Where the transport is in its trip."
    )
    source_center_code: str = strawberry_django.field(
        description="The code of the center it leaves from."
    )
    destination_center_code: str = strawberry_django.field(
        description="The code of the center it drives to."
    )
    driver_uuid: strawberry.auto = strawberry_django.field(
        description="The uuid of its driver; null until one is assigned."
    )
    batches: DjangoCursorConnection[ShippingBatch] = strawberry_django.connection(
        description="The batches on this transport, newest first."
    )
    created_at: strawberry.auto = strawberry_django.field(
        description="When the transport was created."
    )
    departed_at: strawberry.auto = strawberry_django.field(
        description="When it started its trip; null until then."
    )
    arrived_at: strawberry.auto = strawberry_django.field(
        description="When it arrived; null until then."
    )

    @strawberry_django.field(only=["source_center_code"], description="The center it leaves from.")
    def source_center(self: Any) -> DistributionCenter | None:
        return center_loader.load(self.source_center_code)  # type: ignore[return-value]  # strawberry-django resolves the row as this type

    @strawberry_django.field(
        only=["destination_center_code"], description="The center it drives to."
    )
    def destination_center(self: Any) -> DistributionCenter | None:
        return center_loader.load(self.destination_center_code)  # type: ignore[return-value]  # strawberry-django resolves the row as this type

    @strawberry_django.field(only=["driver_uuid"], description="Its driver, once assigned.")
    def driver(self: Any) -> User | None:
        return user_loader.load(self.driver_uuid)  # type: ignore[return-value]  # strawberry-django resolves the row as this type

    @strawberry_django.field(
        annotate={"_batch_count": _count_of(m.ShippingBatch, "transport")},
        description="How many batches are loaded on it.",
    )
    def batch_count(self: Any) -> int:
        count: int | None = getattr(self, "_batch_count", None)
        return count if count is not None else self.batches.count()

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs: Any) -> QuerySet:
        visible = selectors.transports_visible(queryset, **_viewer(info))
        return with_references(
            visible,
            {
                "source_center_code": center_loader,
                "destination_center_code": center_loader,
                "driver_uuid": user_loader,
            },
        )
