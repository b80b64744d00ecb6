"""Events of the shipping module (data is JSON-native: uuids and times as strings).

Status changes that follow from a batch or a transport (CREATED → MOVING when an item is batched,
MOVING → COMPLETED on arrival) are carried by `ItemsAddedToBatch` and `TransportCompleted`, one
event per call; `ShippingItemStatusChanged` is for the changes staff make by hand (DAMAGED, LOST).

`TransportStarted` and `TransportCompleted` carry everything the distribution function needs
(both center codes and the tracking numbers), so distribution never reads shipping's data. Their
`tracking_numbers` are the items that travel: every item in the transport's batches except those
marked LOST (a lost item is neither taken out of nor put into a center's inventory).
"""

from __future__ import annotations

from dataclasses import dataclass

from events import Event


@dataclass(frozen=True)
class ShippingItemCreated(Event):
    module = "shipping"
    item_uuid: str
    tracking_number: str
    sku: str


@dataclass(frozen=True)
class ShippingItemStatusChanged(Event):
    module = "shipping"
    item_uuid: str
    tracking_number: str
    previous_status: str
    status: str


@dataclass(frozen=True)
class ShippingBatchCreated(Event):
    module = "shipping"
    batch_uuid: str
    alias: str


@dataclass(frozen=True)
class ItemsAddedToBatch(Event):
    module = "shipping"
    batch_uuid: str
    alias: str
    # Only the items this call added (re-adding an item already in the batch emits nothing).
    tracking_numbers: list[str]
    # The subset that moved CREATED → MOVING with this call (their first batch).
    started_moving: list[str]


@dataclass(frozen=True)
class BatchesAddedToTransport(Event):
    module = "shipping"
    transport_uuid: str
    aliases: list[str]


@dataclass(frozen=True)
class TransportCreated(Event):
    module = "shipping"
    transport_uuid: str
    source_center_code: str
    destination_center_code: str
    driver_uuid: str | None


@dataclass(frozen=True)
class DriverAssigned(Event):
    module = "shipping"
    transport_uuid: str
    driver_uuid: str
    previous_driver_uuid: str | None


@dataclass(frozen=True)
class TransportStarted(Event):
    module = "shipping"
    transport_uuid: str
    source_center_code: str
    destination_center_code: str
    driver_uuid: str
    departed_at: str
    aliases: list[str]
    tracking_numbers: list[str]


@dataclass(frozen=True)
class TransportCompleted(Event):
    module = "shipping"
    transport_uuid: str
    source_center_code: str
    destination_center_code: str
    driver_uuid: str
    arrived_at: str
    aliases: list[str]
    tracking_numbers: list[str]
