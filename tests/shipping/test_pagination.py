"""Cursor pages over every ordering of the shipping lists, nullable timestamps included.

A list ordered by a timestamp that may be empty (`departedAt`, `arrivedAt`, `completedAt`) puts
the empty ones last in both directions, each run of equal values (empty included) in key order
following the direction; paging forward or backward sees every row exactly once, in that order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from modules.shipping.models import (
    ShippingBatch,
    ShippingItem,
    ShippingItemStatus,
    Transport,
    TransportStatus,
)

pytestmark = pytest.mark.django_db

PAGE = """
query Page($first: Int, $after: String, $last: Int, $before: String, $order: %(order)s) {
  %(list)s(first: $first, after: $after, last: $last, before: $before, order: $order) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { %(key)s } }
  }
}
"""

LISTS: dict[str, dict[str, Any]] = {
    "transports": {
        "order": "TransportOrder",
        "key": "uuid",
        "fields": ["CREATED_AT", "DEPARTED_AT", "ARRIVED_AT"],
    },
    "shippingItems": {
        "order": "ShippingItemOrder",
        "key": "trackingNumber",
        "fields": ["CREATED_AT", "COMPLETED_AT", "TRACKING_NUMBER", "STATUS"],
    },
    "shippingBatches": {
        "order": "ShippingBatchOrder",
        "key": "alias",
        "fields": ["CREATED_AT", "COMPLETED_AT", "ALIAS"],
    },
}

# (list, order field, model attribute) of every ordering on a timestamp that may be empty.
NULLABLE = [
    ("transports", "DEPARTED_AT", "departed_at"),
    ("transports", "ARRIVED_AT", "arrived_at"),
    ("shippingItems", "COMPLETED_AT", "completed_at"),
    ("shippingBatches", "COMPLETED_AT", "completed_at"),
]

T0 = timezone.now() - dt.timedelta(days=3)


def at(hours: int) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


@pytest.fixture
def transports(centers: list[Any]) -> list[Transport]:
    """Empty and set departures and arrivals, interleaved by key, with ties."""
    created, in_transit, arrived = (
        TransportStatus.CREATED,
        TransportStatus.IN_TRANSIT,
        TransportStatus.ARRIVED,
    )
    rows = [
        (created, None, None),
        (in_transit, at(2), None),
        (arrived, at(1), at(5)),
        (created, None, None),
        (in_transit, at(2), None),
        (arrived, at(1), at(5)),
        (arrived, at(3), at(4)),
        (created, None, None),
    ]
    return [
        Transport.objects.create(
            source_center_code="ABC001",
            destination_center_code="ABC002",
            status=status,
            departed_at=departed,
            arrived_at=arrived_,
        )
        for status, departed, arrived_ in rows
    ]


@pytest.fixture
def items() -> list[ShippingItem]:
    completed_at = [None, at(2), at(1), None, at(2), None, at(3), None, at(1)]
    return [
        ShippingItem.objects.create(
            tracking_number=f"TN-{n:03d}",
            sku="SKU-1",
            status=ShippingItemStatus.COMPLETED if when else ShippingItemStatus.CREATED,
            completed_at=when,
        )
        for n, when in enumerate(completed_at)
    ]


@pytest.fixture
def batches(transports: list[Transport]) -> list[ShippingBatch]:
    trip = transports[2]  # arrived
    completed_at = [at(2), None, None, at(1), at(2), None, at(1), None]
    return [
        ShippingBatch.objects.create(
            alias=f"B-{n}",
            transport=trip,
            transport_assigned_at=at(0),
            completed=when is not None,
            completed_at=when,
        )
        for n, when in enumerate(completed_at)
    ]


@pytest.fixture
def rows(transports: list[Any], items: list[Any], batches: list[Any]) -> dict[str, list[Any]]:
    return {"transports": transports, "shippingItems": items, "shippingBatches": batches}


ROW_KEYS = {"transports": "uuid", "shippingItems": "tracking_number", "shippingBatches": "alias"}


def key_of(list_name: str, row: Any) -> str:
    return str(getattr(row, ROW_KEYS[list_name]))


def documented_order(list_name: str, rows: list[Any], attribute: str, direction: str) -> list[str]:
    """Set values by value then key, both in `direction`; then the empty ones, by key likewise."""
    descending = direction == "DESC"
    valued = sorted(
        (row for row in rows if getattr(row, attribute) is not None),
        key=lambda row: (getattr(row, attribute), row.pk),
        reverse=descending,
    )
    empty = sorted(
        (row for row in rows if getattr(row, attribute) is None),
        key=lambda row: row.pk,
        reverse=descending,
    )
    return [key_of(list_name, row) for row in valued + empty]


def page_query(list_name: str) -> str:
    spec = LISTS[list_name]
    return PAGE % {"list": list_name, "order": spec["order"], "key": spec["key"]}


def keys(list_name: str, connection: dict[str, Any]) -> list[str]:
    key = LISTS[list_name]["key"]
    return [edge["node"][key] for edge in connection["edges"]]


def walk_forward(gql: Callable[..., Any], staff: Any, list_name: str, order: Any) -> list[str]:
    seen: list[str] = []
    after = None
    for _ in range(50):
        variables = {"first": 2, "after": after, "order": order}
        connection = gql(page_query(list_name), variables, as_=staff)["data"][list_name]
        seen += keys(list_name, connection)
        if not connection["pageInfo"]["hasNextPage"]:
            return seen
        after = connection["pageInfo"]["endCursor"]
    raise AssertionError(f"paging never ended; seen so far: {seen}")


def walk_backward(gql: Callable[..., Any], staff: Any, list_name: str, order: Any) -> list[str]:
    seen: list[str] = []
    before = None
    for _ in range(50):
        variables = {"last": 2, "before": before, "order": order}
        connection = gql(page_query(list_name), variables, as_=staff)["data"][list_name]
        seen = keys(list_name, connection) + seen
        if not connection["pageInfo"]["hasPreviousPage"]:
            return seen
        before = connection["pageInfo"]["startCursor"]
    raise AssertionError(f"paging never ended; seen so far: {seen}")


@pytest.mark.parametrize("walk", [walk_forward, walk_backward], ids=["forward", "backward"])
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
@pytest.mark.parametrize(("list_name", "field", "attribute"), NULLABLE)
def test_pages_over_empty_timestamps_see_every_row_once_in_order(
    gql, staff, rows, list_name, field, attribute, direction, walk
):
    seen = walk(gql, staff, list_name, {"field": field, "direction": direction})
    assert seen == documented_order(list_name, rows[list_name], attribute, direction)


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
@pytest.mark.parametrize(
    ("list_name", "field"),
    [(name, field) for name, spec in LISTS.items() for field in spec["fields"]],
)
def test_pages_of_every_ordering_match_one_long_page(gql, staff, rows, list_name, field, direction):
    order = {"field": field, "direction": direction}
    whole = gql(page_query(list_name), {"first": 100, "order": order}, as_=staff)
    everything = keys(list_name, whole["data"][list_name])
    assert sorted(everything) == sorted(key_of(list_name, row) for row in rows[list_name])
    assert walk_forward(gql, staff, list_name, order) == everything
    assert walk_backward(gql, staff, list_name, order) == everything


def test_empty_completion_times_come_last_after_the_first_page(gql, staff, items):
    order = {"field": "COMPLETED_AT", "direction": "DESC"}
    first = gql(page_query("shippingItems"), {"first": 5, "order": order}, as_=staff)
    page = first["data"]["shippingItems"]
    assert keys("shippingItems", page) == ["TN-006", "TN-004", "TN-001", "TN-008", "TN-002"]
    rest = gql(
        page_query("shippingItems"),
        {"first": 5, "after": page["pageInfo"]["endCursor"], "order": order},
        as_=staff,
    )["data"]["shippingItems"]
    assert keys("shippingItems", rest) == ["TN-007", "TN-005", "TN-003", "TN-000"]
    assert not rest["pageInfo"]["hasNextPage"]
