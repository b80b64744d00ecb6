"""What distribution notes of shipping's events as they are emitted (events.listeners).

TransportStarted and TransportCompleted announce a departure from the source center and an arrival
at the destination, with the tracking numbers that travel. Distribution notes each one (in the
emitting transaction) and later lets recordDeparture / recordArrival record only what was noted.
Only the event contract (module, detail type, data keys of events/catalog.json) is used here:
distribution imports nothing of shipping.
"""

from __future__ import annotations

from typing import Any

from events.listeners import listen
from modules.distribution import services
from modules.distribution.models import MovementKind

EMITTER = "shipping"


def note_departure(data: dict[str, Any]) -> None:
    services.movement_announce(
        transport_uuid=data["transportUuid"],
        kind=MovementKind.DEPARTURE,
        center_code=data["sourceCenterCode"],
        tracking_numbers=data["trackingNumbers"],
    )


def note_arrival(data: dict[str, Any]) -> None:
    services.movement_announce(
        transport_uuid=data["transportUuid"],
        kind=MovementKind.ARRIVAL,
        center_code=data["destinationCenterCode"],
        tracking_numbers=data["trackingNumbers"],
    )


def register() -> None:
    listen(EMITTER, "TransportStarted", note_departure)
    listen(EMITTER, "TransportCompleted", note_arrival)
