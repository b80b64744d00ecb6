"""Shipping items: creation, generated tracking numbers, and the item state machine."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction

from modules.shipping import models, services
from modules.shipping.models import ShippingItem, ShippingItemStatus
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
mutation($sku: String!) {
  createShippingItem(input: { sku: $sku }) { shippingItem { trackingNumber sku status } errors
    { field message code } }
}
"""
SET_STATUS = """
mutation($tn: String!, $status: ShippingItemStatus!) {
  updateShippingItemStatus(trackingNumber: $tn, status: $status) {
    shippingItem { trackingNumber status completedAt } errors { field message code }
  }
}
"""
TRACKING_NUMBER = re.compile(r"^\d{8}-[0-9A-HJKMNP-TV-Z]{10}$")


def test_tracking_numbers_are_dated_in_utc_and_random(gql, staff):
    numbers = [
        gql(CREATE, {"sku": "SKU-1"}, as_=staff)["data"]["createShippingItem"]["shippingItem"][
            "trackingNumber"
        ]
        for _ in range(5)
    ]
    assert len(set(numbers)) == 5
    for number in numbers:
        assert TRACKING_NUMBER.match(number), number
        assert number.startswith(datetime.now(UTC).strftime("%Y%m%d"))
        assert not number[9:].startswith("000")  # MMD's were zero-padded small integers


def test_a_tracking_number_collision_is_retried_with_a_fresh_number(staff, monkeypatch):
    taken = services.shipping_item_create(sku="FIRST").tracking_number
    fresh = iter([taken, taken, "20260101-FRESHNUMBR"])
    monkeypatch.setattr(services, "new_tracking_number", lambda: next(fresh))
    with transaction.atomic():  # the retry must not spoil an enclosing transaction
        item = services.shipping_item_create(sku="SECOND")
        assert ShippingItem.objects.count() == 2
    assert item.tracking_number == "20260101-FRESHNUMBR"
    assert [e["tracking_number"] for e in emitted("ShippingItemCreated")] == [
        taken,
        "20260101-FRESHNUMBR",
    ]


def test_created_item_emits_its_event(gql, staff):
    result = gql(CREATE, {"sku": "ABC.123_x-9"}, as_=staff)["data"]["createShippingItem"]
    assert result["errors"] == []
    assert result["shippingItem"]["status"] == "CREATED"
    [event] = emitted("ShippingItemCreated")
    assert event["sku"] == "ABC.123_x-9"
    assert event["tracking_number"] == result["shippingItem"]["trackingNumber"]


@pytest.mark.parametrize(
    "sku", ["", "   ", "has space", "x" * 21, "ünïcode", "a;DROP TABLE", "x" * 10_000]
)
def test_a_bad_sku_is_a_typed_error_and_writes_nothing(gql, staff, sku):
    result = gql(CREATE, {"sku": sku}, as_=staff)
    assert errors_of(result, "createShippingItem") == [("sku", "INVALID_SKU")]
    assert result["data"]["createShippingItem"]["shippingItem"] is None
    assert ShippingItem.objects.count() == 0
    assert outbox_count() == 0


@pytest.mark.parametrize("status", ["DAMAGED", "LOST"])
def test_staff_mark_a_created_item_damaged_or_lost(gql, staff, status):
    item = make_items(1)[0]
    result = gql(SET_STATUS, {"tn": item.tracking_number, "status": status}, as_=staff)["data"][
        "updateShippingItemStatus"
    ]
    assert result["errors"] == []
    assert result["shippingItem"]["status"] == status
    assert result["shippingItem"]["completedAt"] is None
    assert emitted("ShippingItemStatusChanged") == [
        {
            "item_uuid": str(item.uuid),
            "tracking_number": item.tracking_number,
            "previous_status": "CREATED",
            "status": status,
        }
    ]


@pytest.mark.parametrize("status", ["DAMAGED", "LOST"])
def test_a_moving_item_can_be_marked_damaged_or_lost(gql, staff, status):
    item = make_items(1)[0]
    make_batch(items=[item])
    assert ShippingItem.objects.get(pk=item.pk).status == ShippingItemStatus.MOVING
    result = gql(SET_STATUS, {"tn": item.tracking_number, "status": status}, as_=staff)
    assert errors_of(result, "updateShippingItemStatus") == []
    assert ShippingItem.objects.get(pk=item.pk).status == status


@pytest.mark.parametrize("status", ["CREATED", "MOVING", "COMPLETED"])
def test_staff_cannot_set_what_batches_and_transports_decide(gql, staff, status):
    item = make_items(1)[0]
    result = gql(SET_STATUS, {"tn": item.tracking_number, "status": status}, as_=staff)
    assert errors_of(result, "updateShippingItemStatus") == [
        ("status", "INVALID_STATUS_TRANSITION")
    ]
    assert ShippingItem.objects.get(pk=item.pk).status == ShippingItemStatus.CREATED
    assert emitted("ShippingItemStatusChanged") == []


@pytest.mark.parametrize("final", ["DAMAGED", "LOST"])
@pytest.mark.parametrize("wanted", ["CREATED", "MOVING", "COMPLETED", "DAMAGED", "LOST"])
def test_nothing_leaves_damaged_or_lost(gql, staff, final, wanted):
    item = make_items(1)[0]
    services.shipping_item_status_change(tracking_number=item.tracking_number, status=final)
    result = gql(SET_STATUS, {"tn": item.tracking_number, "status": wanted}, as_=staff)
    assert errors_of(result, "updateShippingItemStatus") == [
        ("status", "INVALID_STATUS_TRANSITION")
    ]
    assert ShippingItem.objects.get(pk=item.pk).status == final


@pytest.mark.parametrize("wanted", ["CREATED", "MOVING", "DAMAGED", "LOST"])
def test_nothing_leaves_completed(gql, staff, centers, driver, wanted):
    item = make_items(1)[0]
    make_transport(driver=driver, batches=[make_batch(items=[item])], arrived=True)
    result = gql(SET_STATUS, {"tn": item.tracking_number, "status": wanted}, as_=staff)
    assert errors_of(result, "updateShippingItemStatus") == [
        ("status", "INVALID_STATUS_TRANSITION")
    ]
    assert ShippingItem.objects.get(pk=item.pk).status == ShippingItemStatus.COMPLETED


def test_unknown_tracking_number_is_item_not_found(gql, staff):
    result = gql(SET_STATUS, {"tn": "NOPE", "status": "LOST"}, as_=staff)
    assert errors_of(result, "updateShippingItemStatus") == [("trackingNumber", "ITEM_NOT_FOUND")]


def test_the_database_refuses_a_completion_time_on_an_unfinished_item():
    item = make_items(1)[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        ShippingItem.objects.filter(pk=item.pk).update(completed_at=datetime.now(UTC))


def test_the_database_refuses_an_unknown_status():
    item = make_items(1)[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        ShippingItem.objects.filter(pk=item.pk).update(status="TELEPORTED")


def test_tracking_number_generator_is_not_predictable():
    numbers = {models.new_tracking_number() for _ in range(1000)}
    assert len(numbers) == 1000
