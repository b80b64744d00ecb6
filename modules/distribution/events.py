"""Events of the distribution module (data is JSON-native: uuids and times as strings)."""

from __future__ import annotations

from dataclasses import dataclass

from events import Event


@dataclass(frozen=True)
class DistributionCenterCreated(Event):
    module = "distribution"
    center_uuid: str
    center_code: str
    name: str


@dataclass(frozen=True)
class DistributionCenterUpdated(Event):
    module = "distribution"
    center_uuid: str
    center_code: str
    name: str
    previous_name: str


@dataclass(frozen=True)
class DistributionCenterDeleted(Event):
    module = "distribution"
    center_uuid: str
    center_code: str


@dataclass(frozen=True)
class CenterStaffChanged(Event):
    module = "distribution"
    center_uuid: str
    center_code: str
    added_user_uuids: list[str]
    removed_user_uuids: list[str]
    staff_user_uuids: list[str]


@dataclass(frozen=True)
class DepartureRecorded(Event):
    module = "distribution"
    transport_uuid: str
    center_code: str
    tracking_numbers: list[str]
    # How many of them were in the center's inventory and left it.
    left_inventory_count: int


@dataclass(frozen=True)
class ArrivalRecorded(Event):
    module = "distribution"
    transport_uuid: str
    center_code: str
    tracking_numbers: list[str]
    # Center code -> how many of the items were taken out of that other center's inventory.
    moved_from: dict[str, int]
