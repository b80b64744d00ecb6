"""Bench data, written with bulk inserts: 10,000 items in 1,000 batches on 100 transports.

Deterministic (the same rows every run) and coherent with the state machines: items on an arrived
transport are COMPLETED at its destination, on a created one MOVING at its source, in transit
MOVING nowhere; a few are DAMAGED. Seeding again is skipped while the counts still match.
"""

from __future__ import annotations

import datetime as dt
from base64 import b64encode
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from modules.distribution.models import DistributionCenter
from modules.shipping.models import (
    BatchMembership,
    ShippingBatch,
    ShippingItem,
    ShippingItemStatus,
    Transport,
    TransportStatus,
)
from modules.user.models import DriverProfile, StaffProfile, User, UserType

STAFF_USERNAME = "bench-staff"
CENTER_COUNT = 8
DRIVER_COUNT = 20
BULK = 2000
# The item read (c) looks up by `node(id:)`: COMPLETED, on an arrived transport (item n is in
# batch n // 10, on transport n // 100; transports 2, 5, 8, ... arrived).
ARRIVALS_ITEM_TRACKING_NUMBER = f"20260101-{2024:010d}"


@dataclass(frozen=True)
class Size:
    items: int = 10_000
    batches: int = 1_000
    transports: int = 100


def is_seeded(size: Size) -> bool:
    return (
        User.objects.filter(username=STAFF_USERNAME).exists()
        and ShippingItem.objects.count() == size.items
        and ShippingBatch.objects.count() == size.batches
        and Transport.objects.count() == size.transports
        and BatchMembership.objects.count() == size.items
    )


def arrivals_item_id() -> str:
    """The Relay global id of read (c)'s item: base64 of `ShippingItem:<uuid>`, as the schema's
    node ids are (the uuid is random, but stays while the seeded rows do)."""
    item = ShippingItem.objects.only("uuid").get(tracking_number=ARRIVALS_ITEM_TRACKING_NUMBER)
    return b64encode(f"ShippingItem:{item.uuid}".encode()).decode()


def clear() -> None:
    BatchMembership.objects.all().delete()
    ShippingItem.objects.all().delete()
    ShippingBatch.objects.all().delete()
    Transport.objects.all().delete()
    DistributionCenter.objects.filter(center_code__startswith="BENCH-").delete()
    User.objects.filter(username__startswith="bench-").delete()


def seed(size: Size) -> User:
    """Seed (unless already seeded) and return the staff user the bench signs in as."""
    if is_seeded(size):
        return User.objects.get(username=STAFF_USERNAME)
    with transaction.atomic():
        clear()
        return _seed(size)


def _seed(size: Size) -> User:
    start = timezone.now() - dt.timedelta(days=30)
    staff = User.objects.create(username=STAFF_USERNAME, type=UserType.STAFF, is_staff=True)
    StaffProfile.objects.create(user=staff, full_name="Bench Staff")
    drivers = User.objects.bulk_create(
        User(username=f"bench-driver-{n}", type=UserType.DRIVER) for n in range(DRIVER_COUNT)
    )
    DriverProfile.objects.bulk_create(
        DriverProfile(user=driver, full_name=f"Driver {n:02d}") for n, driver in enumerate(drivers)
    )
    codes = [f"BENCH-C{n}" for n in range(CENTER_COUNT)]
    DistributionCenter.objects.bulk_create(
        DistributionCenter(center_code=code, name=f"Bench center {n}")
        for n, code in enumerate(codes)
    )

    transports = []
    for n in range(size.transports):
        created = start + dt.timedelta(hours=n)
        transport_status = (
            TransportStatus.CREATED,
            TransportStatus.IN_TRANSIT,
            TransportStatus.ARRIVED,
        )[n % 3]
        transports.append(
            Transport(
                status=transport_status,
                source_center_code=codes[n % CENTER_COUNT],
                destination_center_code=codes[
                    (n + 1 + (n // CENTER_COUNT) % (CENTER_COUNT - 1)) % CENTER_COUNT
                ],
                # Every tenth transport has no driver yet: `driver` is null there.
                driver_uuid=None if n % 10 == 9 else drivers[n % DRIVER_COUNT].uuid,
                created_at=created,
                departed_at=created + dt.timedelta(minutes=30)
                if transport_status != TransportStatus.CREATED
                else None,
                arrived_at=created + dt.timedelta(hours=5)
                if transport_status == TransportStatus.ARRIVED
                else None,
            )
        )
    transports = Transport.objects.bulk_create(transports, batch_size=BULK)

    batches = []
    for n in range(size.batches):
        batch_transport = transports[n * size.transports // size.batches]
        arrived = batch_transport.status == TransportStatus.ARRIVED
        batches.append(
            ShippingBatch(
                alias=f"BENCH-B{n:05d}",
                transport=batch_transport,
                created_at=batch_transport.created_at,
                transport_assigned_at=batch_transport.created_at,
                completed=arrived,
                completed_at=batch_transport.arrived_at if arrived else None,
            )
        )
    batches = ShippingBatch.objects.bulk_create(batches, batch_size=BULK)

    items, memberships = [], []
    for n in range(size.items):
        batch = batches[n * size.batches // size.items]
        transport = batch.transport
        assert transport is not None
        if transport.status == TransportStatus.ARRIVED:
            status, center = ShippingItemStatus.COMPLETED, transport.destination_center_code
        elif transport.status == TransportStatus.IN_TRANSIT:
            status, center = ShippingItemStatus.MOVING, None
        else:
            status, center = ShippingItemStatus.MOVING, transport.source_center_code
        if n % 50 == 7 and status != ShippingItemStatus.COMPLETED:
            status = ShippingItemStatus.DAMAGED
        items.append(
            ShippingItem(
                tracking_number=f"20260101-{n:010d}",
                sku=f"SKU-{n % 97:03d}",
                status=status,
                current_center_code=center,
                created_at=start + dt.timedelta(seconds=n),
                completed_at=transport.arrived_at
                if status == ShippingItemStatus.COMPLETED
                else None,
            )
        )
    items = ShippingItem.objects.bulk_create(items, batch_size=BULK)
    for n, item in enumerate(items):
        batch = batches[n * size.batches // size.items]
        memberships.append(BatchMembership(batch=batch, item=item, batch_open=not batch.completed))
    BatchMembership.objects.bulk_create(memberships, batch_size=BULK)
    return staff
