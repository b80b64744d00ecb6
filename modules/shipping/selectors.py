"""Reads of the shipping module: querysets with the access rules applied, and derived values.

Who may see what: staff see everything; a driver sees the transports assigned to them and the
batches and items on those transports; anybody else sees nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from modules.shipping.models import (
    BatchMembership,
    ShippingBatch,
    ShippingItem,
    ShippingItemStatus,
    Transport,
)


def transports_visible(
    queryset: QuerySet[Transport] | None = None, *, is_staff: bool, driver_uuid: uuid.UUID | None
) -> QuerySet[Transport]:
    queryset = Transport.objects.all() if queryset is None else queryset
    if is_staff:
        return queryset
    if driver_uuid is not None:
        return queryset.filter(driver_uuid=driver_uuid)
    return queryset.none()


def batches_visible(
    queryset: QuerySet[ShippingBatch] | None = None,
    *,
    is_staff: bool,
    driver_uuid: uuid.UUID | None,
) -> QuerySet[ShippingBatch]:
    queryset = ShippingBatch.objects.all() if queryset is None else queryset
    if is_staff:
        return queryset
    if driver_uuid is not None:
        return queryset.filter(transport__driver_uuid=driver_uuid)
    return queryset.none()


def items_visible(
    queryset: QuerySet[ShippingItem] | None = None, *, is_staff: bool, driver_uuid: uuid.UUID | None
) -> QuerySet[ShippingItem]:
    queryset = ShippingItem.objects.all() if queryset is None else queryset
    if is_staff:
        return queryset
    if driver_uuid is not None:
        # EXISTS, not a join: an item in two of the driver's batches must not show up twice.
        on_drivers_transport = BatchMembership.objects.filter(
            item=OuterRef("pk"), batch__transport__driver_uuid=driver_uuid
        )
        return queryset.filter(Exists(on_drivers_transport))
    return queryset.none()


def travelling_tracking_numbers(transport: Transport) -> list[str]:
    """The items a transport carries: those in its batches, except the ones marked LOST."""
    return list(
        ShippingItem.objects.filter(memberships__batch__transport=transport)
        .exclude(status=ShippingItemStatus.LOST)
        .order_by("pk")
        .values_list("tracking_number", flat=True)
    )


def stale_items(*, older_than: timedelta, now: datetime | None = None) -> QuerySet[ShippingItem]:
    """Items still CREATED or MOVING long after they were created: likely stuck or forgotten."""
    cutoff = (now or timezone.now()) - older_than
    return ShippingItem.objects.filter(
        status__in=[ShippingItemStatus.CREATED, ShippingItemStatus.MOVING], created_at__lt=cutoff
    )
