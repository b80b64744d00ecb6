"""How distribution learns which movements it may record: shipping's events, as they are emitted."""

from __future__ import annotations

import importlib
import uuid

import pytest
from django.apps import apps
from django.db import transaction

from events.models import OutboxEvent
from modules.distribution.models import AnnouncedMovement, MovementKind, TransportMovement
from modules.shipping import services as shipping
from tests.factories import make_driver
from tests.shipping.factories import make_batch, make_center, make_items, make_transport

pytestmark = pytest.mark.django_db


def announced() -> dict[str, tuple[str, list[str]]]:
    return {
        row.kind: (row.center_code, sorted(row.tracking_numbers))
        for row in AnnouncedMovement.objects.all()
    }


def test_shipping_starting_and_completing_a_transport_announces_both_movements():
    make_center("ABC001")
    make_center("ABC002")
    items = make_items(2)
    numbers = sorted(item.tracking_number for item in items)
    transport = make_transport(
        driver=make_driver(), batches=[make_batch("B-1", items=items)], started=True
    )
    # Noted in the transaction that emitted TransportStarted, before any bus consumer saw it.
    assert announced() == {MovementKind.DEPARTURE: ("ABC001", numbers)}
    started = OutboxEvent.objects.get(detail_type="TransportStarted")
    assert sorted(started.detail["data"]["trackingNumbers"]) == numbers
    shipping.transport_complete(transport_uuid=transport.uuid)
    assert announced() == {
        MovementKind.DEPARTURE: ("ABC001", numbers),
        MovementKind.ARRIVAL: ("ABC002", numbers),
    }


def test_a_change_that_rolls_back_announces_nothing():
    make_center("ABC001")
    make_center("ABC002")
    transport = make_transport(
        driver=make_driver(), batches=[make_batch("B-1", items=make_items(1))]
    )
    with pytest.raises(RuntimeError), transaction.atomic():
        shipping.transport_start(transport_uuid=transport.uuid)
        raise RuntimeError("the request failed after the event was emitted")
    assert not AnnouncedMovement.objects.exists()


def test_the_migration_notes_movements_announced_before_it_and_not_recorded_yet():
    """At deploy time, TransportStarted/Completed may still wait in the outbox: still recordable."""
    backfill = importlib.import_module(
        "modules.distribution.migrations.0002_announced_movement"
    ).note_announcements_already_in_the_outbox
    pending, recorded = uuid.uuid4(), uuid.uuid4()
    for transport, detail_type, key in (
        (pending, "TransportStarted", "sourceCenterCode"),
        (recorded, "TransportCompleted", "destinationCenterCode"),
    ):
        data = {"transportUuid": str(transport), key: "abc001 ", "trackingNumbers": ["TN-1"]}
        OutboxEvent.objects.create(
            event_id=uuid.uuid4(),
            source="majestic.shipping",
            detail_type=detail_type,
            detail={"data": data},
        )
    TransportMovement.objects.create(
        transport_uuid=recorded,
        kind=MovementKind.ARRIVAL,
        center=make_center("ABC001"),
        tracking_numbers=["TN-1"],
    )
    backfill(apps, None)
    [row] = AnnouncedMovement.objects.all()
    assert (row.transport_uuid, row.kind, row.center_code, row.tracking_numbers) == (
        pending,
        MovementKind.DEPARTURE,
        "ABC001",
        ["TN-1"],
    )
