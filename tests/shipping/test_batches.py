"""Batches: aliases, and adding items all or nothing (MMD defects 14, 16, 17)."""

from __future__ import annotations

import re

import pytest

from modules.shipping import services
from modules.shipping.models import BatchMembership, ShippingBatch, ShippingItem, ShippingItemStatus
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
mutation($input: CreateShippingBatchInput) {
  createShippingBatch(input: $input) { shippingBatch { alias completed itemCount } errors {
    field message code } }
}
"""
ADD = """
mutation($alias: String!, $tns: [String!]!) {
  addItemsToBatch(alias: $alias, trackingNumbers: $tns) {
    shippingBatch { alias itemCount items(first: 100) { edges { node { trackingNumber status } } } }
    errors { field message code }
  }
}
"""


def add(gql, user, alias, numbers):
    return gql(ADD, {"alias": alias, "tns": numbers}, as_=user)


def memberships() -> set[tuple[str, str]]:
    return set(BatchMembership.objects.values_list("batch__alias", "item__tracking_number"))


# --- aliases -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variables",
    [{}, {"input": None}, {"input": {}}, {"input": {"alias": None}}, {"input": {"alias": "  "}}],
)
def test_an_alias_is_generated_when_absent(gql, staff, variables):
    result = gql(CREATE, variables, as_=staff)["data"]["createShippingBatch"]
    assert result["errors"] == []
    assert re.fullmatch(r"B\d{8}-[0-9A-HJKMNP-TV-Z]{10}", result["shippingBatch"]["alias"])
    assert result["shippingBatch"]["itemCount"] == 0


def test_a_duplicate_alias_is_a_typed_error(gql, staff):
    make_batch("AB-132")
    result = gql(CREATE, {"input": {"alias": "AB-132"}}, as_=staff)
    assert errors_of(result, "createShippingBatch") == [("alias", "ALIAS_TAKEN")]
    assert ShippingBatch.objects.count() == 1
    assert len(emitted("ShippingBatchCreated")) == 1


@pytest.mark.parametrize("alias", ["has space", "x" * 21, "-leading-dash", "ünï", "a/b"])
def test_a_malformed_alias_is_a_typed_error(gql, staff, alias):
    result = gql(CREATE, {"input": {"alias": alias}}, as_=staff)
    assert errors_of(result, "createShippingBatch") == [("alias", "INVALID_ALIAS")]
    assert ShippingBatch.objects.count() == 0


def test_an_alias_collision_is_retried(staff, monkeypatch):
    taken = make_batch().alias
    fresh = iter([taken, "B20260101-FRESHALIAS"])
    monkeypatch.setattr(services, "new_batch_alias", lambda: next(fresh))
    assert services.shipping_batch_create().alias == "B20260101-FRESHALIAS"


# --- adding items --------------------------------------------------------------------------------


def test_adding_items_moves_them_and_emits_one_event(gql, staff):
    batch = make_batch("AB-1")
    items = make_items(3)
    result = add(gql, staff, "AB-1", [i.tracking_number for i in items])["data"]["addItemsToBatch"]
    assert result["errors"] == []
    assert result["shippingBatch"]["itemCount"] == 3
    assert {e["node"]["status"] for e in result["shippingBatch"]["items"]["edges"]} == {"MOVING"}
    assert emitted("ItemsAddedToBatch") == [
        {
            "batch_uuid": str(batch.uuid),
            "alias": "AB-1",
            "tracking_numbers": [i.tracking_number for i in items],
            "started_moving": [i.tracking_number for i in items],
        }
    ]
    # Status changes that follow from batching travel in that one event, not one event per item.
    assert emitted("ShippingItemStatusChanged") == []


def test_re_adding_an_item_already_in_the_batch_changes_nothing_and_emits_nothing(gql, staff):
    item = make_items(1)[0]
    make_batch("AB-1", items=[item])
    before = outbox_count()
    result = add(gql, staff, "AB-1", [item.tracking_number, item.tracking_number.lower()])
    assert errors_of(result, "addItemsToBatch") == []
    assert result["data"]["addItemsToBatch"]["shippingBatch"]["itemCount"] == 1
    assert outbox_count() == before


def test_adding_old_and_new_items_reports_only_the_new_ones(gql, staff):
    old, new = make_items(2)
    make_batch("AB-1", items=[old])
    assert (
        errors_of(
            add(gql, staff, "AB-1", [old.tracking_number, new.tracking_number]), "addItemsToBatch"
        )
        == []
    )
    assert emitted("ItemsAddedToBatch")[-1]["tracking_numbers"] == [new.tracking_number]


def test_an_item_sits_in_at_most_one_open_batch(gql, staff):
    item = make_items(1)[0]
    make_batch("FIRST", items=[item])
    make_batch("SECOND")
    result = add(gql, staff, "SECOND", [item.tracking_number])
    errors = result["data"]["addItemsToBatch"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("trackingNumbers", "ITEM_IN_OPEN_BATCH")]
    assert item.tracking_number in errors[0]["message"] and "FIRST" in errors[0]["message"]
    assert memberships() == {("FIRST", item.tracking_number)}


def test_the_database_also_refuses_a_second_open_batch():
    from django.db import IntegrityError, transaction

    item = make_items(1)[0]
    make_batch("FIRST", items=[item])
    second = make_batch("SECOND")
    with pytest.raises(IntegrityError), transaction.atomic():
        BatchMembership.objects.create(batch=second, item=item)


def test_one_bad_tracking_number_writes_nothing(gql, staff):
    items = make_items(3)
    make_batch("AB-1")
    before = outbox_count()
    numbers = [i.tracking_number for i in items] + ["UNKNOWN-1", "UNKNOWN-2"]
    result = add(gql, staff, "AB-1", numbers)
    errors = result["data"]["addItemsToBatch"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("trackingNumbers", "ITEM_NOT_FOUND")]
    assert "UNKNOWN-1" in errors[0]["message"] and "UNKNOWN-2" in errors[0]["message"]
    assert result["data"]["addItemsToBatch"]["shippingBatch"] is None
    assert memberships() == set()
    assert set(ShippingItem.objects.values_list("status", flat=True)) == {
        ShippingItemStatus.CREATED
    }
    assert outbox_count() == before


def test_every_kind_of_bad_element_is_reported_at_once(gql, staff):
    lost, busy, fine = make_items(3)
    services.shipping_item_status_change(tracking_number=lost.tracking_number, status="LOST")
    make_batch("OTHER", items=[busy])
    make_batch("AB-1")
    result = add(
        gql,
        staff,
        "AB-1",
        [fine.tracking_number, lost.tracking_number, busy.tracking_number, "NOPE"],
    )
    assert errors_of(result, "addItemsToBatch") == [
        ("trackingNumbers", "ITEM_NOT_FOUND"),
        ("trackingNumbers", "INVALID_STATUS_TRANSITION"),
        ("trackingNumbers", "ITEM_IN_OPEN_BATCH"),
    ]
    assert ("AB-1", fine.tracking_number) not in memberships()


@pytest.mark.parametrize("status", ["DAMAGED", "LOST"])
def test_damaged_or_lost_items_cannot_be_batched(gql, staff, status):
    item = make_items(1)[0]
    services.shipping_item_status_change(tracking_number=item.tracking_number, status=status)
    make_batch("AB-1")
    assert errors_of(add(gql, staff, "AB-1", [item.tracking_number]), "addItemsToBatch") == [
        ("trackingNumbers", "INVALID_STATUS_TRANSITION")
    ]


def test_completed_items_cannot_be_batched_again(gql, staff, centers, driver):
    item = make_items(1)[0]
    make_transport(driver=driver, batches=[make_batch(items=[item])], arrived=True)
    make_batch("NEXT")
    assert errors_of(add(gql, staff, "NEXT", [item.tracking_number]), "addItemsToBatch") == [
        ("trackingNumbers", "INVALID_STATUS_TRANSITION")
    ]


def test_a_completed_batch_takes_no_items(gql, staff, centers, driver):
    make_transport(driver=driver, batches=[make_batch("DONE", items=make_items(1))], arrived=True)
    new = make_items(1)[0]
    assert errors_of(add(gql, staff, "DONE", [new.tracking_number]), "addItemsToBatch") == [
        ("alias", "BATCH_COMPLETED")
    ]
    assert ShippingItem.objects.get(pk=new.pk).status == ShippingItemStatus.CREATED


def test_a_batch_on_a_departed_transport_takes_no_items(gql, staff, centers, driver):
    # MMD let items join a batch after its transport had left.
    make_transport(driver=driver, batches=[make_batch("GONE", items=make_items(1))], started=True)
    new = make_items(1)[0]
    assert errors_of(add(gql, staff, "GONE", [new.tracking_number]), "addItemsToBatch") == [
        ("alias", "TRANSPORT_ALREADY_STARTED")
    ]


def test_a_batch_on_a_waiting_transport_still_takes_items(gql, staff, centers, driver):
    make_transport(driver=driver, batches=[make_batch("WAIT")])
    new = make_items(1)[0]
    assert errors_of(add(gql, staff, "WAIT", [new.tracking_number]), "addItemsToBatch") == []


def test_unknown_alias_is_batch_not_found(gql, staff):
    item = make_items(1)[0]
    assert errors_of(add(gql, staff, "NOPE", [item.tracking_number]), "addItemsToBatch") == [
        ("alias", "BATCH_NOT_FOUND")
    ]


def test_ten_thousand_tracking_numbers_are_refused_without_a_write(gql, staff):
    items = make_items(2)
    make_batch("AB-1")
    before = outbox_count()
    numbers = [i.tracking_number for i in items] + [f"20260101-{n:010d}" for n in range(9_998)]
    result = add(gql, staff, "AB-1", numbers)
    assert errors_of(result, "addItemsToBatch") == [("trackingNumbers", "TOO_MANY_VALUES")]
    assert result.status_code == 200
    assert memberships() == set()
    assert outbox_count() == before


def test_a_thousand_tracking_numbers_are_fine(gql, staff):
    from modules.shipping.models import new_tracking_number

    ShippingItem.objects.bulk_create(
        [ShippingItem(tracking_number=new_tracking_number(), sku="BULK") for _ in range(1000)]
    )
    make_batch("BIG")
    numbers = list(ShippingItem.objects.values_list("tracking_number", flat=True))
    result = add(gql, staff, "BIG", numbers)
    assert errors_of(result, "addItemsToBatch") == []
    assert result["data"]["addItemsToBatch"]["shippingBatch"]["itemCount"] == 1000
    assert len(emitted("ItemsAddedToBatch")) == 1


def test_an_empty_list_changes_nothing(gql, staff):
    make_batch("AB-1")
    before = outbox_count()
    assert errors_of(add(gql, staff, "AB-1", []), "addItemsToBatch") == []
    assert outbox_count() == before


def test_a_batch_holds_at_most_one_transport_load(gql, staff, monkeypatch):
    monkeypatch.setattr(services, "MAX_ITEMS_PER_TRANSPORT", 3)
    items = make_items(4)
    make_batch("AB-1", items=items[:2])
    result = add(gql, staff, "AB-1", [i.tracking_number for i in items[2:]])
    assert errors_of(result, "addItemsToBatch") == [("trackingNumbers", "CAPACITY_EXCEEDED")]
    assert len(memberships()) == 2
