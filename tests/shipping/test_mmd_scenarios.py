"""GraphQL twins of MMD's shipping scenarios (#24-34 of the REST original's
scenario list).

MMD's shipping defects (section 14) are checked where their behaviour lives:
11 (start/complete repeatable, batches after arrival): test_transports `..._happens_once`,
   `test_a_started_or_arrived_transport_takes_no_batches`;
12 (driver dropped, stale start answer, no driver API or checks): #33 below,
   test_transports `test_only_an_active_driver_can_be_assigned`, `..._at_creation_...`;
13 (center codes unchecked, same source and destination is a 500): test_transports
   `test_unknown_centers_...`, `test_same_source_and_destination_...`;
14 (item lifecycle): test_items (status machine), test_transports `test_arrival_completes_...`,
   test_batches `test_an_item_sits_in_at_most_one_open_batch`, test_transports
   `test_a_batch_is_never_moved_silently_to_another_transport`;
15 (500s on writes, wrong codes): test_bad_input, test_admin `test_history_cannot_be_deleted...`,
   the one BATCH_COMPLETED / ITEM_NOT_FOUND codes in test_batches;
16 (bulk adds): test_batches `test_one_bad_tracking_number_writes_nothing`, `..._emits_nothing`,
   `test_ten_thousand_tracking_numbers_...`, test_transports `test_batches_join_all_or_nothing`;
17 (keys and lists): test_items `test_tracking_numbers_are_dated_in_utc_and_random`,
   `..._collision_is_retried...`, test_batches `test_an_alias_collision_is_retried`, test_queries
   (default order, page cap, cursors).
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from modules.shipping.models import ShippingBatch, ShippingItem, ShippingItemStatus, Transport
from tests.shipping.factories import emitted, errors_of

pytestmark = pytest.mark.django_db

ITEMS = "{ shippingItems(first: 10) { totalCount edges { node { trackingNumber sku status } } } }"
ITEM = """
query Item($tn: String!) {
  shippingItem(trackingNumber: $tn) {
    uuid trackingNumber sku status currentCenterCode createdAt completedAt
    batches(first: 10) { edges { node { alias } } }
  }
}
"""
CREATE_ITEM = """
mutation Create($sku: String!) {
  createShippingItem(input: { sku: $sku }) {
    shippingItem { uuid trackingNumber sku status currentCenterCode createdAt completedAt
      batches(first: 10) { edges { node { alias completed transport { uuid } } } } }
    errors { field message code }
  }
}
"""
BATCHES = "{ shippingBatches(first: 10) { totalCount edges { node { alias } } } }"
BATCH = """
query Batch($alias: String!) {
  shippingBatch(alias: $alias) {
    uuid alias completed transport { uuid } itemCount createdAt transportAssignedAt completedAt
    items(first: 10) { totalCount edges { node { trackingNumber status currentCenterCode } } }
  }
}
"""
CREATE_BATCH = """
mutation Create($alias: String) {
  createShippingBatch(input: { alias: $alias }) {
    shippingBatch { uuid alias completed transport { uuid } createdAt completedAt }
    errors { field message code }
  }
}
"""
TRANSPORTS = "{ transports(first: 10) { totalCount edges { node { uuid } } } }"
TRANSPORT = """
query Transport($uuid: UUID!) {
  transport(uuid: $uuid) {
    uuid status batchCount createdAt departedAt arrivedAt
    sourceCenter { centerCode name } destinationCenter { centerCode name }
    driver { uuid fullName }
    batches(first: 10) { totalCount edges { node { alias completed completedAt } } }
  }
}
"""
CREATE_TRANSPORT = """
mutation Create($input: CreateTransportInput!) {
  createTransport(input: $input) {
    transport { uuid status batchCount createdAt departedAt arrivedAt
      sourceCenter { centerCode name } destinationCenter { centerCode name } driver { uuid } }
    errors { field message code }
  }
}
"""
ADD_ITEMS = """
mutation Add($alias: String!, $tns: [String!]!) {
  addItemsToBatch(alias: $alias, trackingNumbers: $tns) {
    shippingBatch { alias itemCount items(first: 10) { edges { node { trackingNumber status } } } }
    errors { field message code }
  }
}
"""
ADD_BATCHES = """
mutation Add($uuid: UUID!, $aliases: [String!]!) {
  addBatchesToTransport(transportUuid: $uuid, aliases: $aliases) {
    transport { uuid batchCount batches(first: 10) { edges { node { alias } } } }
    errors { field message code }
  }
}
"""
ASSIGN = """
mutation Assign($uuid: UUID!, $driver: UUID!) {
  assignDriver(transportUuid: $uuid, driverUuid: $driver) {
    transport { uuid driver { uuid fullName } }
    errors { field message code }
  }
}
"""
START = """
mutation Start($uuid: UUID!) {
  startTransport(transportUuid: $uuid) { transport { uuid status departedAt } errors { field
    message code } }
}
"""
COMPLETE = """
mutation Complete($uuid: UUID!) {
  completeTransport(transportUuid: $uuid) { transport { uuid status arrivedAt } errors { field
    message code } }
}
"""


@pytest.fixture
def mmd_item():
    """MMD's fixture item (tracking 202201011234, sku 123211, CREATED)."""
    return ShippingItem.objects.create(tracking_number="202201011234", sku="123211")


# --- 10.5 CRUD -----------------------------------------------------------------------------------


def test_24_anonymous_item_listing_is_refused(gql, mmd_item):
    result = gql(ITEMS, expect_errors=True)
    assert result.error_codes == ["UNAUTHENTICATED"]
    assert result["data"] is None


def test_25_staff_lists_the_one_item(gql, mmd_item, staff):
    items = gql(ITEMS, as_=staff)["data"]["shippingItems"]
    assert items["totalCount"] == 1
    assert items["edges"][0]["node"] == {
        "trackingNumber": "202201011234",
        "sku": "123211",
        "status": "CREATED",
    }


def test_26_staff_creates_an_item_that_then_lists_and_resolves(gql, mmd_item, staff):
    payload = gql(CREATE_ITEM, {"sku": "123211231"}, as_=staff)["data"]["createShippingItem"]
    assert payload["errors"] == []
    item = payload["shippingItem"]
    assert item["sku"] == "123211231"
    assert item["status"] == "CREATED"
    assert item["currentCenterCode"] is None
    assert item["completedAt"] is None
    assert item["batches"]["edges"] == []
    assert item["createdAt"].endswith("+00:00") or item["createdAt"].endswith("Z")

    assert gql(ITEMS, as_=staff)["data"]["shippingItems"]["totalCount"] == 2
    fetched = gql(ITEM, {"tn": item["trackingNumber"]}, as_=staff)["data"]["shippingItem"]
    assert fetched["trackingNumber"] == item["trackingNumber"]
    assert fetched["uuid"] == item["uuid"]
    assert emitted("ShippingItemCreated")[0]["tracking_number"] == item["trackingNumber"]


def test_27_anonymous_batch_listing_is_refused(gql):
    assert gql(BATCHES, expect_errors=True).error_codes == ["UNAUTHENTICATED"]


def test_28_staff_sees_no_batches_yet(gql, staff):
    assert gql(BATCHES, as_=staff)["data"]["shippingBatches"]["totalCount"] == 0


def test_29_staff_creates_a_batch_that_then_lists_and_resolves(gql, staff):
    payload = gql(CREATE_BATCH, {"alias": "AB-132"}, as_=staff)["data"]["createShippingBatch"]
    assert payload["errors"] == []
    batch = payload["shippingBatch"]
    assert batch["alias"] == "AB-132"
    assert batch["completed"] is False
    assert batch["transport"] is None
    assert batch["completedAt"] is None

    assert gql(BATCHES, as_=staff)["data"]["shippingBatches"]["totalCount"] == 1
    assert (
        gql(BATCH, {"alias": "AB-132"}, as_=staff)["data"]["shippingBatch"]["uuid"] == batch["uuid"]
    )
    assert emitted("ShippingBatchCreated") == [{"batch_uuid": batch["uuid"], "alias": "AB-132"}]


def test_30_anonymous_transport_listing_is_refused(gql):
    assert gql(TRANSPORTS, expect_errors=True).error_codes == ["UNAUTHENTICATED"]


def test_31_staff_sees_no_transports_yet(gql, staff):
    assert gql(TRANSPORTS, as_=staff)["data"]["transports"]["totalCount"] == 0


def test_32_staff_creates_a_transport_between_the_two_centers(gql, staff, centers):
    inputs = {"sourceCenterCode": "ABC001", "destinationCenterCode": "ABC002"}
    payload = gql(CREATE_TRANSPORT, {"input": inputs}, as_=staff)["data"]["createTransport"]
    assert payload["errors"] == []
    transport = payload["transport"]
    assert transport["status"] == "CREATED"
    assert transport["batchCount"] == 0
    assert transport["sourceCenter"] == {"centerCode": "ABC001", "name": "CENTER-ABC"}
    assert transport["destinationCenter"] == {"centerCode": "ABC002", "name": "CENTER-ABC2"}
    assert transport["driver"] is None
    assert transport["departedAt"] is None and transport["arrivedAt"] is None

    assert gql(TRANSPORTS, as_=staff)["data"]["transports"]["totalCount"] == 1
    fetched = gql(TRANSPORT, {"uuid": transport["uuid"]}, as_=staff)["data"]["transport"]
    assert fetched["uuid"] == transport["uuid"]


# --- 10.6 the transport scenario, with the driver assigned through the API ------------------------


def test_33_the_transport_runs_end_to_end(gql, staff, driver, centers, mmd_item):
    inputs = {"sourceCenterCode": "ABC001", "destinationCenterCode": "ABC002"}
    transport_uuid = gql(CREATE_TRANSPORT, {"input": inputs}, as_=staff)["data"]["createTransport"][
        "transport"
    ]["uuid"]

    assert (
        gql(CREATE_BATCH, {"alias": "AB-132"}, as_=staff)["data"]["createShippingBatch"]["errors"]
        == []
    )

    added = gql(ADD_ITEMS, {"alias": "AB-132", "tns": ["202201011234"]}, as_=staff)["data"][
        "addItemsToBatch"
    ]
    assert added["errors"] == []
    assert added["shippingBatch"]["itemCount"] == 1
    assert added["shippingBatch"]["items"]["edges"] == [
        {"node": {"trackingNumber": "202201011234", "status": "MOVING"}}
    ]

    on_transport = gql(ADD_BATCHES, {"uuid": transport_uuid, "aliases": ["AB-132"]}, as_=staff)
    assert on_transport["data"]["addBatchesToTransport"]["errors"] == []
    assert on_transport["data"]["addBatchesToTransport"]["transport"]["batchCount"] == 1

    # No driver yet: refused with a typed error, and nothing changes.
    no_driver = gql(START, {"uuid": transport_uuid}, as_=staff)
    assert errors_of(no_driver, "startTransport") == [(None, "NO_DRIVER")]
    assert Transport.objects.get(uuid=transport_uuid).departed_at is None

    # MMD set the driver through the ORM ("api not available yet"); here the API does it.
    assigned = gql(ASSIGN, {"uuid": transport_uuid, "driver": str(driver.uuid)}, as_=staff)["data"][
        "assignDriver"
    ]
    assert assigned["errors"] == []
    assert assigned["transport"]["driver"] == {"uuid": str(driver.uuid), "fullName": "Dana Driver"}

    started = gql(START, {"uuid": transport_uuid}, as_=staff)["data"]["startTransport"]
    assert started["errors"] == []
    assert started["transport"]["status"] == "IN_TRANSIT"
    assert started["transport"]["departedAt"] is not None  # MMD answered with a stale null

    completed = gql(COMPLETE, {"uuid": transport_uuid}, as_=staff)["data"]["completeTransport"]
    assert completed["errors"] == []
    assert completed["transport"]["status"] == "ARRIVED"
    assert completed["transport"]["arrivedAt"] is not None

    batch = ShippingBatch.objects.get(alias="AB-132")
    assert batch.completed is True
    assert batch.completed_at is not None
    assert batch.transport is not None
    assert str(batch.transport.uuid) == transport_uuid
    item = ShippingItem.objects.get(tracking_number="202201011234")
    # MMD left the item MOVING; arrival completes it (the item state machine).
    assert item.status == ShippingItemStatus.COMPLETED
    assert item.completed_at is not None
    assert item.current_center_code == "ABC002"

    view = gql(TRANSPORT, {"uuid": transport_uuid}, as_=staff)["data"]["transport"]
    assert view["batches"]["edges"][0]["node"]["completed"] is True
    assert view["driver"]["fullName"] == "Dana Driver"

    started_events = emitted("TransportStarted")
    completed_events = emitted("TransportCompleted")
    assert len(started_events) == len(completed_events) == 1
    for event in (started_events[0], completed_events[0]):
        assert event["transport_uuid"] == transport_uuid
        assert event["source_center_code"] == "ABC001"
        assert event["destination_center_code"] == "ABC002"
        assert event["tracking_numbers"] == ["202201011234"]
        assert event["driver_uuid"] == str(driver.uuid)
    assert [e["tracking_numbers"] for e in emitted("ItemsAddedToBatch")] == [["202201011234"]]
    assert [e["aliases"] for e in emitted("BatchesAddedToTransport")] == [["AB-132"]]
    assert [e["driver_uuid"] for e in emitted("DriverAssigned")] == [str(driver.uuid)]


# --- 10.7 unit -----------------------------------------------------------------------------------


def test_34_a_created_item_with_a_completion_time_is_invalid():
    item = ShippingItem(
        tracking_number="12341234",
        sku="123123",
        status=ShippingItemStatus.CREATED,
        completed_at=timezone.now(),
    )
    with pytest.raises(ValidationError):
        item.full_clean()
