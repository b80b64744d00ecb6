"""Transports: centers, batches, driver, departure and arrival (MMD defects 11-14)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from modules.shipping import services
from modules.shipping.models import (
    ShippingBatch,
    ShippingItem,
    ShippingItemStatus,
    Transport,
    TransportStatus,
)
from tests.factories import make_driver
from tests.shipping.factories import (
    emitted,
    errors_of,
    make_batch,
    make_items,
    make_transport,
    outbox_count,
)

pytestmark = pytest.mark.django_db

CREATE = """
mutation($input: CreateTransportInput!) {
  createTransport(input: $input) {
    transport { uuid status sourceCenterCode destinationCenterCode driver { uuid } } errors {
      field message code }
  }
}
"""
ADD = """
mutation($uuid: UUID!, $aliases: [String!]!) {
  addBatchesToTransport(transportUuid: $uuid, aliases: $aliases) {
    transport { uuid batchCount } errors { field message code }
  }
}
"""
ASSIGN = """
mutation($uuid: UUID!, $driver: UUID!) {
  assignDriver(transportUuid: $uuid, driverUuid: $driver) { transport { driverUuid } errors {
    field message code } }
}
"""
START = """
mutation($uuid: UUID!) { startTransport(transportUuid: $uuid) { transport { status departedAt
  } errors { field message code } } }
"""
COMPLETE = """
mutation($uuid: UUID!) { completeTransport(transportUuid: $uuid) { transport { status
  arrivedAt } errors { field message code } } }
"""


def create(gql, user, source, destination, driver=None):
    inputs = {"sourceCenterCode": source, "destinationCenterCode": destination}
    if driver is not None:
        inputs["driverUuid"] = str(driver)
    return gql(CREATE, {"input": inputs}, as_=user)


# --- creating ------------------------------------------------------------------------------------


def test_a_transport_claims_its_centers_so_they_cannot_be_deleted(gql, staff, centers):
    payload = create(gql, staff, "abc001 ", "ABC002")["data"]["createTransport"]
    assert payload["errors"] == []
    assert payload["transport"]["sourceCenterCode"] == "ABC001"  # stored canonical
    deleted = gql(
        'mutation { deleteDistributionCenter(centerCode: "ABC001") { errors { code } } }', as_=staff
    )["data"]["deleteDistributionCenter"]
    assert [e["code"] for e in deleted["errors"]] == ["CENTER_IN_USE"]
    [event] = emitted("TransportCreated")
    assert event == {
        "transport_uuid": payload["transport"]["uuid"],
        "source_center_code": "ABC001",
        "destination_center_code": "ABC002",
        "driver_uuid": None,
    }


def test_unknown_centers_are_typed_errors_per_field(gql, staff, centers):
    result = create(gql, staff, "NOPE01", "NOPE02")
    assert errors_of(result, "createTransport") == [
        ("sourceCenterCode", "UNKNOWN_CENTER"),
        ("destinationCenterCode", "UNKNOWN_CENTER"),
    ]
    assert Transport.objects.count() == 0
    assert outbox_count() == 0


@pytest.mark.parametrize("code", ["", "x" * 500, "ABC 001", "💥"])
def test_malformed_center_codes_are_unknown_centers(gql, staff, centers, code):
    assert errors_of(create(gql, staff, code, "ABC002"), "createTransport") == [
        ("sourceCenterCode", "UNKNOWN_CENTER")
    ]
    assert Transport.objects.count() == 0


@pytest.mark.parametrize("destination", ["ABC001", "abc001", " ABC001 "])
def test_same_source_and_destination_is_a_typed_error_not_a_500(gql, staff, centers, destination):
    result = create(gql, staff, "ABC001", destination)
    assert result.status_code == 200
    assert errors_of(result, "createTransport") == [
        ("destinationCenterCode", "SAME_SOURCE_AND_DESTINATION")
    ]
    assert Transport.objects.count() == 0


def test_the_database_refuses_same_source_and_destination(centers):
    with pytest.raises(IntegrityError), transaction.atomic():
        Transport.objects.create(source_center_code="ABC001", destination_center_code="ABC001")


def test_a_driver_given_at_creation_must_be_an_active_driver(gql, staff, centers, driver):
    ok = create(gql, staff, "ABC001", "ABC002", driver=driver.uuid)["data"]["createTransport"]
    assert ok["errors"] == []
    assert ok["transport"]["driver"] == {"uuid": str(driver.uuid)}
    for not_a_driver in (staff.uuid, uuid.uuid4()):
        result = create(gql, staff, "ABC001", "ABC002", driver=not_a_driver)
        assert errors_of(result, "createTransport") == [("driverUuid", "NOT_A_DRIVER")]
    assert Transport.objects.count() == 1


# --- batches onto the transport ------------------------------------------------------------------


def test_batches_join_all_or_nothing(gql, staff, centers):
    transport = make_transport()
    good = make_batch("GOOD")
    done_transport = make_transport(
        "ABC002",
        "ABC001",
        driver=make_driver(),
        batches=[make_batch("DONE", items=make_items(1))],
        arrived=True,
    )
    assert done_transport.status == TransportStatus.ARRIVED
    before = outbox_count()
    result = gql(
        ADD, {"uuid": str(transport.uuid), "aliases": ["GOOD", "DONE", "MISSING"]}, as_=staff
    )
    assert errors_of(result, "addBatchesToTransport") == [
        ("aliases", "BATCH_NOT_FOUND"),
        ("aliases", "BATCH_COMPLETED"),
    ]
    good.refresh_from_db()
    assert good.transport_id is None and good.transport_assigned_at is None
    assert outbox_count() == before


def test_a_batch_is_never_moved_silently_to_another_transport(gql, staff, centers):
    first = make_transport(batches=[make_batch("AB-1")])
    second = make_transport("ABC002", "ABC001")
    result = gql(ADD, {"uuid": str(second.uuid), "aliases": ["AB-1"]}, as_=staff)
    assert errors_of(result, "addBatchesToTransport") == [("aliases", "BATCH_ON_OTHER_TRANSPORT")]
    assert ShippingBatch.objects.get(alias="AB-1").transport_id == first.pk


def test_re_adding_a_batch_to_its_transport_changes_nothing(gql, staff, centers):
    transport = make_transport(batches=[make_batch("AB-1")])
    assigned_at = ShippingBatch.objects.get(alias="AB-1").transport_assigned_at
    before = outbox_count()
    result = gql(ADD, {"uuid": str(transport.uuid), "aliases": ["AB-1", "AB-1"]}, as_=staff)
    assert errors_of(result, "addBatchesToTransport") == []
    assert result["data"]["addBatchesToTransport"]["transport"]["batchCount"] == 1
    assert ShippingBatch.objects.get(alias="AB-1").transport_assigned_at == assigned_at
    assert outbox_count() == before


def test_adding_batches_emits_one_event_naming_them(gql, staff, centers):
    transport = make_transport()
    make_batch("AB-1")
    make_batch("AB-2")
    result = gql(ADD, {"uuid": str(transport.uuid), "aliases": ["AB-1", "AB-2"]}, as_=staff)
    assert result["data"]["addBatchesToTransport"]["transport"]["batchCount"] == 2
    assert emitted("BatchesAddedToTransport") == [
        {"transport_uuid": str(transport.uuid), "aliases": ["AB-1", "AB-2"]}
    ]


@pytest.mark.parametrize(
    "state,code",
    [("started", "TRANSPORT_ALREADY_STARTED"), ("arrived", "TRANSPORT_ALREADY_COMPLETED")],
)
def test_a_started_or_arrived_transport_takes_no_batches(gql, staff, centers, driver, state, code):
    # MMD accepted batches after arrival (defect 11).
    started_or_arrived: dict[str, Any] = {state: True}
    transport = make_transport(
        driver=driver, batches=[make_batch(items=make_items(1))], **started_or_arrived
    )
    make_batch("LATE")
    result = gql(ADD, {"uuid": str(transport.uuid), "aliases": ["LATE"]}, as_=staff)
    assert errors_of(result, "addBatchesToTransport") == [(None, code)]
    assert ShippingBatch.objects.get(alias="LATE").transport_id is None


def test_too_many_aliases_are_refused(gql, staff, centers):
    transport = make_transport()
    result = gql(
        ADD, {"uuid": str(transport.uuid), "aliases": [f"A{n}" for n in range(1001)]}, as_=staff
    )
    assert errors_of(result, "addBatchesToTransport") == [("aliases", "TOO_MANY_VALUES")]


def test_a_transport_carries_at_most_one_event_of_items(gql, staff, centers, monkeypatch):
    monkeypatch.setattr(services, "MAX_ITEMS_PER_TRANSPORT", 3)
    transport = make_transport(batches=[make_batch("AB-1", items=make_items(2))])
    make_batch("AB-2", items=make_items(2))
    result = gql(ADD, {"uuid": str(transport.uuid), "aliases": ["AB-2"]}, as_=staff)
    assert errors_of(result, "addBatchesToTransport") == [("aliases", "CAPACITY_EXCEEDED")]
    # ...and items added later to a batch already on it count too.
    extra = make_items(2)
    refused = gql(
        "mutation($a: String!, $t: [String!]!) { addItemsToBatch(alias: $a, "
        "trackingNumbers: $t) { errors { field code } } }",
        {"a": "AB-1", "t": [i.tracking_number for i in extra]},
        as_=staff,
    )
    assert refused["data"]["addItemsToBatch"]["errors"] == [
        {"field": "trackingNumbers", "code": "CAPACITY_EXCEEDED"}
    ]


def test_unknown_transport_is_transport_not_found(gql, staff):
    result = gql(ADD, {"uuid": str(uuid.uuid4()), "aliases": ["X"]}, as_=staff)
    assert errors_of(result, "addBatchesToTransport") == [("transportUuid", "TRANSPORT_NOT_FOUND")]
    for mutation, query in (("startTransport", START), ("completeTransport", COMPLETE)):
        result = gql(query, {"uuid": str(uuid.uuid4())}, as_=staff)
        assert errors_of(result, mutation) == [("transportUuid", "TRANSPORT_NOT_FOUND")]


# --- the driver ----------------------------------------------------------------------------------


def test_assigning_a_driver_emits_once_and_the_same_driver_again_is_a_no_op(
    gql, staff, centers, driver, other_driver
):
    transport = make_transport()
    for _ in range(2):
        result = gql(ASSIGN, {"uuid": str(transport.uuid), "driver": str(driver.uuid)}, as_=staff)
        assert errors_of(result, "assignDriver") == []
    swapped = gql(
        ASSIGN, {"uuid": str(transport.uuid), "driver": str(other_driver.uuid)}, as_=staff
    )
    assert swapped["data"]["assignDriver"]["transport"]["driverUuid"] == str(other_driver.uuid)
    assert emitted("DriverAssigned") == [
        {
            "transport_uuid": str(transport.uuid),
            "driver_uuid": str(driver.uuid),
            "previous_driver_uuid": None,
        },
        {
            "transport_uuid": str(transport.uuid),
            "driver_uuid": str(other_driver.uuid),
            "previous_driver_uuid": str(driver.uuid),
        },
    ]


def test_only_an_active_driver_can_be_assigned(gql, staff, superuser, centers):
    transport = make_transport()
    banned = make_driver(banned=True)
    inactive = make_driver(is_active=False)
    for candidate in (staff.uuid, superuser.uuid, banned.uuid, inactive.uuid, uuid.uuid4()):
        result = gql(ASSIGN, {"uuid": str(transport.uuid), "driver": str(candidate)}, as_=staff)
        assert errors_of(result, "assignDriver") == [("driverUuid", "NOT_A_DRIVER")]
    assert Transport.objects.get(pk=transport.pk).driver_uuid is None


@pytest.mark.parametrize(
    "state,code",
    [("started", "TRANSPORT_ALREADY_STARTED"), ("arrived", "TRANSPORT_ALREADY_COMPLETED")],
)
def test_the_driver_cannot_change_once_the_transport_left(
    gql, staff, centers, driver, other_driver, state, code
):
    started_or_arrived: dict[str, Any] = {state: True}
    transport = make_transport(
        driver=driver, batches=[make_batch(items=make_items(1))], **started_or_arrived
    )
    result = gql(ASSIGN, {"uuid": str(transport.uuid), "driver": str(other_driver.uuid)}, as_=staff)
    assert errors_of(result, "assignDriver") == [(None, code)]
    assert Transport.objects.get(pk=transport.pk).driver_uuid == driver.uuid


# --- departure -----------------------------------------------------------------------------------


def test_start_needs_a_batch(gql, staff, centers, driver):
    transport = make_transport(driver=driver)
    assert errors_of(gql(START, {"uuid": str(transport.uuid)}, as_=staff), "startTransport") == [
        (None, "NO_BATCH")
    ]
    assert Transport.objects.get(pk=transport.pk).status == TransportStatus.CREATED


def test_start_needs_a_driver(gql, staff, centers):
    transport = make_transport(batches=[make_batch()])
    assert errors_of(gql(START, {"uuid": str(transport.uuid)}, as_=staff), "startTransport") == [
        (None, "NO_DRIVER")
    ]


def test_start_refuses_a_driver_who_stopped_being_one(gql, staff, centers, driver):
    transport = make_transport(driver=driver, batches=[make_batch()])
    driver.banned = True
    driver.save(update_fields=["banned"])
    assert errors_of(gql(START, {"uuid": str(transport.uuid)}, as_=staff), "startTransport") == [
        (None, "NOT_A_DRIVER")
    ]


def test_start_needs_both_centers_known(gql, staff, centers, driver):
    transport = make_transport(driver=driver, batches=[make_batch()])
    # Rows written around the services (an import, a restore) are checked again at departure.
    Transport.objects.filter(pk=transport.pk).update(destination_center_code="GONE01")
    assert errors_of(gql(START, {"uuid": str(transport.uuid)}, as_=staff), "startTransport") == [
        (None, "UNKNOWN_CENTER")
    ]


def test_start_happens_once(gql, staff, centers, driver):
    # MMD let start repeat, resetting the departure time (defect 11).
    transport = make_transport(driver=driver, batches=[make_batch(items=make_items(2))])
    first = gql(START, {"uuid": str(transport.uuid)}, as_=staff)["data"]["startTransport"]
    assert first["errors"] == [] and first["transport"]["status"] == "IN_TRANSIT"
    departed_at = Transport.objects.get(pk=transport.pk).departed_at
    again = gql(START, {"uuid": str(transport.uuid)}, as_=staff)
    assert errors_of(again, "startTransport") == [(None, "TRANSPORT_ALREADY_STARTED")]
    assert Transport.objects.get(pk=transport.pk).departed_at == departed_at
    assert len(emitted("TransportStarted")) == 1


def test_start_event_carries_what_distribution_needs(gql, staff, centers, driver):
    items = make_items(3)
    services.shipping_item_status_change(tracking_number=items[2].tracking_number, status="LOST")
    batch = make_batch("AB-1", items=items[:2])
    transport = make_transport(driver=driver, batches=[batch])
    gql(START, {"uuid": str(transport.uuid)}, as_=staff)
    [event] = emitted("TransportStarted")
    assert event["transport_uuid"] == str(transport.uuid)
    assert (event["source_center_code"], event["destination_center_code"]) == ("ABC001", "ABC002")
    assert event["driver_uuid"] == str(driver.uuid)
    assert event["aliases"] == ["AB-1"]
    assert sorted(event["tracking_numbers"]) == sorted(i.tracking_number for i in items[:2])
    assert event["departed_at"]


# --- arrival -------------------------------------------------------------------------------------


def test_complete_needs_a_departure(gql, staff, centers, driver):
    transport = make_transport(driver=driver, batches=[make_batch(items=make_items(1))])
    assert errors_of(
        gql(COMPLETE, {"uuid": str(transport.uuid)}, as_=staff), "completeTransport"
    ) == [(None, "TRANSPORT_NOT_DEPARTED")]
    assert Transport.objects.get(pk=transport.pk).arrived_at is None


def test_complete_happens_once(gql, staff, centers, driver):
    transport = make_transport(
        driver=driver, batches=[make_batch(items=make_items(1))], started=True
    )
    assert (
        errors_of(gql(COMPLETE, {"uuid": str(transport.uuid)}, as_=staff), "completeTransport")
        == []
    )
    arrived_at = Transport.objects.get(pk=transport.pk).arrived_at
    again = gql(COMPLETE, {"uuid": str(transport.uuid)}, as_=staff)
    assert errors_of(again, "completeTransport") == [(None, "TRANSPORT_ALREADY_COMPLETED")]
    assert Transport.objects.get(pk=transport.pk).arrived_at == arrived_at
    assert len(emitted("TransportCompleted")) == 1
    started_again = gql(START, {"uuid": str(transport.uuid)}, as_=staff)
    assert errors_of(started_again, "startTransport") == [(None, "TRANSPORT_ALREADY_COMPLETED")]


def test_arrival_completes_batches_and_items_and_moves_them_to_the_destination(
    gql, staff, centers, driver
):
    moving, damaged, lost = make_items(3)
    batch = make_batch("AB-1", items=[moving, damaged, lost])
    transport = make_transport(driver=driver, batches=[batch], started=True)
    services.shipping_item_status_change(tracking_number=damaged.tracking_number, status="DAMAGED")
    services.shipping_item_status_change(tracking_number=lost.tracking_number, status="LOST")

    result = gql(COMPLETE, {"uuid": str(transport.uuid)}, as_=staff)["data"]["completeTransport"]
    assert result["errors"] == [] and result["transport"]["status"] == "ARRIVED"

    batch.refresh_from_db()
    assert batch.completed and batch.completed_at is not None
    states = {
        i.tracking_number: (i.status, i.current_center_code, i.completed_at is not None)
        for i in ShippingItem.objects.all()
    }
    assert states[moving.tracking_number] == (ShippingItemStatus.COMPLETED, "ABC002", True)
    assert states[damaged.tracking_number] == (ShippingItemStatus.DAMAGED, "ABC002", False)
    assert states[lost.tracking_number] == (ShippingItemStatus.LOST, None, False)
    [event] = emitted("TransportCompleted")
    assert sorted(event["tracking_numbers"]) == sorted(
        [moving.tracking_number, damaged.tracking_number]
    )
    assert event["aliases"] == ["AB-1"]


def test_items_can_start_a_new_batch_only_after_their_old_one_closed(gql, staff, centers, driver):
    item = make_items(1)[0]
    make_transport(driver=driver, batches=[make_batch("FIRST", items=[item])], started=True)
    make_batch("SECOND")
    add = (
        'mutation($t: [String!]!) { addItemsToBatch(alias: "SECOND", '
        "trackingNumbers: $t) { errors { code } } }"
    )
    assert gql(add, {"t": [item.tracking_number]}, as_=staff)["data"]["addItemsToBatch"][
        "errors"
    ] == [{"code": "ITEM_IN_OPEN_BATCH"}]


def test_a_transport_carries_at_most_a_thousand_batches(gql, staff, centers, monkeypatch):
    monkeypatch.setattr(services, "MAX_BATCHES_PER_TRANSPORT", 2)
    transport = make_transport(batches=[make_batch("AB-1")])
    make_batch("AB-2")
    make_batch("AB-3")
    result = gql(ADD, {"uuid": str(transport.uuid), "aliases": ["AB-2", "AB-3"]}, as_=staff)
    assert errors_of(result, "addBatchesToTransport") == [("aliases", "CAPACITY_EXCEEDED")]
    assert transport.batches.count() == 1


def test_a_full_transport_still_fits_in_its_events(staff, centers, driver):
    """The largest load a transport may carry departs and arrives within EventBridge's limits."""
    from modules.shipping.models import new_tracking_number

    load = services.MAX_ITEMS_PER_TRANSPORT
    ShippingItem.objects.bulk_create(
        [ShippingItem(tracking_number=new_tracking_number(), sku="BULK") for _ in range(load)]
    )
    numbers = list(ShippingItem.objects.values_list("tracking_number", flat=True))
    batches = []
    for start in range(0, load, services.MAX_VALUES_PER_CALL):
        batch = services.shipping_batch_create()
        services.shipping_batch_add_items(
            alias=batch.alias,
            tracking_numbers=numbers[start : start + services.MAX_VALUES_PER_CALL],
        )
        batches.append(batch)
    transport = make_transport(driver=driver, batches=batches, arrived=True)
    assert transport.status == TransportStatus.ARRIVED
    assert len(emitted("TransportStarted")[0]["tracking_numbers"]) == load
    assert len(emitted("TransportCompleted")[0]["tracking_numbers"]) == load
