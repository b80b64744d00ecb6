"""distribution's GraphQL types, and what other modules' faces may use of them.

Others import from here only: `DistributionCenter` (a Relay node) and `center_loader`, which
resolves center codes to centers for the whole request in one query.
"""

from __future__ import annotations

from typing import Any

import strawberry
import strawberry_django
from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from strawberry import relay
from strawberry_django.relay import DjangoCursorConnection

from modules.distribution import models, selectors
from modules.user.graphql.types import User, user_loader
from schema.guard.cost import ListSize
from schema.kit.context import Info
from schema.kit.loaders import Loader, with_references
from schema.kit.permissions import Require, Staff


def _is_staff(info: Info) -> bool:
    return info.context.principal.is_staff


@strawberry_django.type(
    models.CenterInventoryItem,
    name="CenterInventoryItem",
    description="An item at a distribution center, since its arrival by a transport.",
)
class CenterInventoryItem(relay.Node):
    _id_attr = "tracking_number"

    tracking_number: strawberry.auto = strawberry_django.field(
        description="The item's tracking number."
    )
    arrived_at: strawberry.auto = strawberry_django.field(
        description="When it arrived at the center."
    )
    transport_uuid: strawberry.auto = strawberry_django.field(
        description="The transport that brought it."
    )

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs: Any) -> QuerySet:
        # Inventory is staff-only, also through node(id:).
        return queryset if _is_staff(info) else queryset.none()


_inventory_count = Coalesce(
    Subquery(
        models.CenterInventoryItem.objects.filter(center=OuterRef("pk"))
        .order_by()
        .values("center")
        .annotate(count=Count("pk"))
        .values("count"),
        output_field=IntegerField(),
    ),
    0,
)


@strawberry_django.type(
    models.DistributionCenter,
    name="DistributionCenter",
    description="A distribution center. Any signed-in user reads its code and name; the rest is "
    "staff-only.",
)
class DistributionCenter(relay.Node):
    _id_attr = "uuid"

    uuid: strawberry.auto = strawberry_django.field(description="The center's stable identifier.")
    center_code: strawberry.auto = strawberry_django.field(
        description="Its unique code (upper case); look a center up by it."
    )
    name: strawberry.auto = strawberry_django.field(description="Its name, for people.")
    created_at: strawberry.auto = strawberry_django.field(
        description="When the center was created."
    )

    inventory: DjangoCursorConnection[CenterInventoryItem] = strawberry_django.connection(
        field_name="inventory_items",
        extensions=[Require(Staff)],
        description="Items at this center, most recent arrival first (staff only).",
    )

    @strawberry_django.field(
        prefetch_related=[
            Prefetch(
                "staff_members",
                queryset=with_references(
                    models.CenterStaffMember.objects.all(), {"user_uuid": user_loader}
                ),
            )
        ],
        extensions=[Require(Staff)],
        # Not paged: a center's staff is a few dozen people, counted as 50 by the cost rules.
        directives=[ListSize(assumed_size=50)],
        description="The users working at this center (staff only).",
    )
    def staff(self: Any) -> list[User]:
        uuids = [member.user_uuid for member in self.staff_members.all()]
        # A member whose user no longer exists is left out (MMD answered null or crashed).
        return [user for user in user_loader.load_many(uuids) if user is not None]  # type: ignore[misc]  # rows, resolved as User

    @strawberry_django.field(
        annotate={"inventory_count_annotated": _inventory_count},
        extensions=[Require(Staff)],
        description="How many items are at this center (staff only).",
    )
    def inventory_count(self: Any) -> int:
        counted: int | None = getattr(self, "inventory_count_annotated", None)
        return counted if counted is not None else self.inventory_items.count()

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs: Any) -> QuerySet:
        return queryset if info.context.principal.is_user else queryset.none()


center_loader: Loader[str, models.DistributionCenter] = Loader(
    "distribution.center", selectors.centers_keyed_by_code
)
"""Centers by canonical center code, for other modules' center fields."""
