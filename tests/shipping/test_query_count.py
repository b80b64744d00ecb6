"""N+1-free: the nested transports query costs the same few SQL queries at any data size."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from modules.shipping import services
from tests.factories import make_driver
from tests.shipping.factories import make_center

# Reads of whole lists, to show the SQL count does not grow: dearer than the public cost limit.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("uncapped_cost")]

NESTED = """
{ transports(first: 50) { edges { node {
    sourceCenter { name } destinationCenter { name } driver { fullName }
    batches(first: 20) { edges { node {
      alias
      items(first: 50) { edges { node { trackingNumber status currentCenter { name } } } }
    } } }
} } } }
"""

ITEMS = """
{ shippingItems(first: 100) { totalCount edges { node {
    trackingNumber status currentCenter { centerCode name }
    batches(first: 5) { edges { node { alias completed transport { uuid status } } } }
} } } }
"""

BATCHES = """
{ shippingBatches(first: 100) { edges { node {
    alias itemCount transport { uuid batchCount sourceCenter { name } driver { fullName } }
} } } }
"""


# Clients that normalise by `id` (Apollo, Relay, urql) select it everywhere: the id wraps the uuid,
# which must come with the row, not one query per object.
IDS = """
{ transports(first: 50) { edges { node { id ...batchIds } } }
  shippingItems(first: 100) { edges { node { id batches(first: 5) { edges { node { id } } } } } } }
fragment batchIds on Transport { batches(first: 20) { edges { node { id items(first: 50) {
  edges { node { id } } } } } } }
"""

# Only `id` (what a normalising client asks first): the id must not cost a query per row.
IDS_ONLY = """
{ transports(first: 20) { edges { node { id } } }
  shippingItems(first: 50) { edges { node { id } } }
  shippingBatches(first: 50) { edges { node { ... on ShippingBatch { id } } } } }
"""

# totalCount at the root and on nested pages: one count per list, not one per parent.
COUNTS = """
{ transports(first: 50, filter: { status: ARRIVED }, order: { field: ARRIVED_AT }) { totalCount
    edges { node { status arrivedAt batches(first: 1) { totalCount edges { node { alias
      items(first: 2) { totalCount edges { node { trackingNumber } } } } } } } } } }
"""


def build_network(
    transports: int, *, batches_each: int = 2, items_each: int = 3, prefix: str = "C"
) -> None:
    """`transports` transports in every state between several centers, with batches of items."""
    codes = [f"{prefix}{n:03d}" for n in range(max(3, transports // 2))]
    for code in codes:
        make_center(code)
    drivers = [make_driver() for _ in range(max(2, transports // 3))]
    for n in range(transports):
        source, destination = codes[n % len(codes)], codes[(n + 1) % len(codes)]
        transport = services.transport_create(
            source_center_code=source,
            destination_center_code=destination,
            driver_uuid=drivers[n % len(drivers)].uuid,
        )
        aliases = []
        for _ in range(batches_each):
            batch = services.shipping_batch_create()
            items = [services.shipping_item_create(sku="SKU") for _ in range(items_each)]
            services.shipping_batch_add_items(
                alias=batch.alias, tracking_numbers=[i.tracking_number for i in items]
            )
            aliases.append(batch.alias)
        services.transport_add_batches(transport_uuid=transport.uuid, aliases=aliases)
        if n % 3 >= 1:
            services.transport_start(transport_uuid=transport.uuid)
        if n % 3 == 2:
            services.transport_complete(transport_uuid=transport.uuid)


def count_queries(gql, query: str, user) -> tuple[int, dict]:
    # The token check of the request itself is not what this test measures: count the execution.
    with CaptureQueriesContext(connection) as captured:
        result = gql(query, as_=user)
    return len(captured.captured_queries), result


@pytest.mark.parametrize(
    "query",
    [NESTED, ITEMS, BATCHES, IDS, IDS_ONLY, COUNTS],
    ids=["nested-transports", "items", "batches", "ids", "ids-only", "total-counts"],
)
def test_query_count_does_not_grow_with_the_data(gql, staff, query):
    build_network(5)
    small, small_result = count_queries(gql, query, staff)
    build_network(45, prefix="L")
    large, large_result = count_queries(gql, query, staff)
    assert small == large, f"{small} queries for the small network, {large} for the large one"
    assert small <= 10
    assert large_result != small_result


def test_the_nested_query_resolves_every_reference(gql, staff):
    build_network(5)
    transports = gql(NESTED, as_=staff)["data"]["transports"]["edges"]
    assert len(transports) == 5
    for edge in transports:
        node = edge["node"]
        assert node["sourceCenter"]["name"].startswith("Center ")
        assert node["destinationCenter"]["name"].startswith("Center ")
        assert node["driver"]["fullName"]
        assert len(node["batches"]["edges"]) == 2
        for batch in node["batches"]["edges"]:
            assert len(batch["node"]["items"]["edges"]) == 3


def test_nested_pages_are_cut_per_parent(gql, staff):
    build_network(2, batches_each=3, items_each=4)
    query = (
        "{ transports(first: 5) { edges { node { batches(first: 2) { totalCount edges { node { "
        "items(first: 3) { totalCount edges { node { trackingNumber } } } } } } } } } }"
    )
    for edge in gql(query, as_=staff)["data"]["transports"]["edges"]:
        batches = edge["node"]["batches"]
        assert batches["totalCount"] == 3
        assert len(batches["edges"]) == 2
        for batch in batches["edges"]:
            assert batch["node"]["items"]["totalCount"] == 4
            assert len(batch["node"]["items"]["edges"]) == 3
