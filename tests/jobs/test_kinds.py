"""The three bulk kinds through GraphQL: each row obeys its single mutation's rules, a bad row is a
row error with that mutation's code, and the job goes on (PARTIALLY_FAILED at the end)."""

from __future__ import annotations

import pytest

from modules.shipping.models import ShippingItem, ShippingItemStatus, TransportStatus
from tests.jobs.conftest import run_jobs
from tests.jobs.helpers import ADD_TO_BATCHES, COMPLETE, CREATED, IMPORT, JOB, row_errors
from tests.shipping.factories import emitted, make_batch, make_items, make_transport

pytestmark = pytest.mark.django_db


def test_an_import_returns_its_queued_job_at_once_and_a_worker_creates_every_item(
    gql, staff, small_chunks
):
    items = [{"sku": f"SKU-{n}"} for n in range(7)]
    started = gql(IMPORT, {"items": items}, as_=staff)["data"]["importShippingItems"]
    assert started["errors"] == []
    job = started["bulkJob"]
    assert (job["status"], job["total"], job["processed"]) == ("QUEUED", 7, 0)
    assert job["createdBy"] == {"uuid": str(staff.uuid)}
    assert ShippingItem.objects.count() == 0

    assert run_jobs() == 1

    done = gql(JOB, {"id": job["id"]}, as_=staff)["data"]["bulkJob"]
    assert (done["status"], done["processed"], done["failed"], done["progress"]) == (
        "SUCCEEDED",
        7,
        0,
        1.0,
    )
    assert done["startedAt"] and done["finishedAt"]
    assert sorted(ShippingItem.objects.values_list("sku", flat=True)) == sorted(
        i["sku"] for i in items
    )
    # The same event per row as createShippingItem emits, once each.
    assert sorted(e["sku"] for e in emitted("ShippingItemCreated")) == sorted(
        i["sku"] for i in items
    )
    created = gql(CREATED, {"id": job["id"]}, as_=staff)["data"]["bulkJob"]["createdObjects"]
    assert created["totalCount"] == 7
    assert [e["node"]["sku"] for e in created["edges"]] == [i["sku"] for i in items]


def test_a_bad_row_is_recorded_with_its_code_and_the_job_goes_on(gql, staff, small_chunks):
    items = [{"sku": "GOOD-1"}, {"sku": "bad sku!"}, {"sku": "GOOD-2"}, {"sku": ""}, {"sku": "G3"}]
    job = gql(IMPORT, {"items": items}, as_=staff)["data"]["importShippingItems"]["bulkJob"]
    run_jobs()
    done = gql(JOB, {"id": job["id"]}, as_=staff)["data"]["bulkJob"]
    assert (done["status"], done["processed"], done["failed"]) == ("PARTIALLY_FAILED", 5, 2)
    assert row_errors(done) == [(2, "INVALID_SKU"), (4, "INVALID_SKU")]
    assert "SKU" in done["rowErrors"]["edges"][0]["node"]["message"]
    assert sorted(ShippingItem.objects.values_list("sku", flat=True)) == ["G3", "GOOD-1", "GOOD-2"]


def test_a_job_whose_every_row_fails_is_failed(gql, staff):
    job = gql(IMPORT, {"items": [{"sku": "x y"}]}, as_=staff)["data"]["importShippingItems"]
    run_jobs()
    done = gql(JOB, {"id": job["bulkJob"]["id"]}, as_=staff)["data"]["bulkJob"]
    assert (done["status"], done["failed"]) == ("FAILED", 1)


@pytest.mark.parametrize("rows", [0, 10_001])
def test_an_empty_or_oversized_import_is_refused_and_nothing_is_queued(gql, staff, rows):
    result = gql(IMPORT, {"items": [{"sku": "S"}] * rows}, as_=staff)["data"]
    payload = result["importShippingItems"]
    assert payload["bulkJob"] is None
    expected = "NO_ROWS" if rows == 0 else "TOO_MANY_ROWS"
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("items", expected)]
    assert run_jobs() == 0


def test_an_import_of_exactly_the_limit_is_queued(gql, staff):
    payload = gql(IMPORT, {"items": [{"sku": "S"}] * 10_000}, as_=staff)["data"]
    assert payload["importShippingItems"]["errors"] == []
    assert payload["importShippingItems"]["bulkJob"]["total"] == 10_000


def test_add_items_to_batches_applies_each_pair_as_add_items_to_batch(gql, staff, small_chunks):
    first, second, done_item = make_items(3)
    batch = make_batch("B-ONE")
    other = make_batch("B-TWO", items=[second])
    pairs = [
        {"alias": "B-ONE", "trackingNumber": first.tracking_number},
        {"alias": "B-ONE", "trackingNumber": second.tracking_number},  # in another open batch
        {"alias": "NOPE", "trackingNumber": done_item.tracking_number},
        {"alias": "B-ONE", "trackingNumber": "UNKNOWN-1"},
    ]
    job = gql(ADD_TO_BATCHES, {"items": pairs}, as_=staff)["data"]["addItemsToBatches"]["bulkJob"]
    run_jobs()
    done = gql(JOB, {"id": job["id"]}, as_=staff)["data"]["bulkJob"]
    assert done["status"] == "PARTIALLY_FAILED"
    assert row_errors(done) == [
        (2, "ITEM_IN_OPEN_BATCH"),
        (3, "BATCH_NOT_FOUND"),
        (4, "ITEM_NOT_FOUND"),
    ]
    assert list(batch.items.values_list("pk", flat=True)) == [first.pk]
    assert list(other.items.values_list("pk", flat=True)) == [second.pk]
    first.refresh_from_db()
    assert first.status == ShippingItemStatus.MOVING
    assert [e["tracking_numbers"] for e in emitted("ItemsAddedToBatch")][-1] == [
        first.tracking_number
    ]


def test_complete_transports_completes_each_as_complete_transport(gql, staff, driver, centers):
    gone = make_transport(driver=driver, batches=[make_batch(items=make_items(1))], started=True)
    waiting = make_transport(driver=driver, batches=[make_batch(items=make_items(1))])
    job = gql(COMPLETE, {"uuids": [str(gone.uuid), str(waiting.uuid)]}, as_=staff)["data"][
        "completeTransports"
    ]["bulkJob"]
    run_jobs()
    done = gql(JOB, {"id": job["id"]}, as_=staff)["data"]["bulkJob"]
    assert row_errors(done) == [(2, "TRANSPORT_NOT_DEPARTED")]
    gone.refresh_from_db()
    waiting.refresh_from_db()
    assert (gone.status, waiting.status) == (TransportStatus.ARRIVED, TransportStatus.CREATED)
    assert [e["transport_uuid"] for e in emitted("TransportCompleted")] == [str(gone.uuid)]


def test_a_driver_completes_only_their_own_transports(gql, driver, centers):
    from tests.factories import make_driver

    other = make_driver()
    mine = make_transport(driver=driver, batches=[make_batch(items=make_items(1))], started=True)
    theirs = make_transport(driver=other, batches=[make_batch(items=make_items(1))], started=True)
    job = gql(COMPLETE, {"uuids": [str(theirs.uuid), str(mine.uuid)]}, as_=driver)["data"][
        "completeTransports"
    ]["bulkJob"]
    run_jobs()
    done = gql(JOB, {"id": job["id"]}, as_=driver)["data"]["bulkJob"]
    # The very answer a missing transport gets, as completeTransport gives a driver.
    assert row_errors(done) == [(1, "TRANSPORT_NOT_FOUND")]
    theirs.refresh_from_db()
    assert theirs.status == TransportStatus.IN_TRANSIT
