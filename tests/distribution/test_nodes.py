"""Relay ids: centers and inventory items resolve through node(id:) under the same rules."""

from __future__ import annotations

import base64

import pytest

from tests.distribution.factories import make_center, record_arrival

pytestmark = pytest.mark.django_db

NODE = """
query N($id: ID!) {
  node(id: $id) {
    __typename
    ... on DistributionCenter { centerCode }
    ... on CenterInventoryItem { trackingNumber }
  }
}
"""


def test_a_center_id_wraps_its_uuid_and_resolves(gql, non_staff):
    center = make_center("ABC001")
    query = '{ distributionCenter(centerCode: "ABC001") { id } }'
    node_id = gql(query, as_=non_staff)["data"]["distributionCenter"]["id"]
    assert base64.b64decode(node_id).decode() == f"DistributionCenter:{center.uuid}"
    assert gql(NODE, {"id": node_id}, as_=non_staff)["data"]["node"] == {
        "__typename": "DistributionCenter",
        "centerCode": "ABC001",
    }


def test_inventory_items_resolve_by_node_id_for_staff_only(gql, staff, non_staff, distribution_key):
    make_center("ABC001")
    record_arrival(gql, distribution_key, "ABC001", ["TN-1"])
    node_id = base64.b64encode(b"CenterInventoryItem:TN-1").decode()
    assert gql(NODE, {"id": node_id}, as_=staff)["data"]["node"] == {
        "__typename": "CenterInventoryItem",
        "trackingNumber": "TN-1",
    }
    assert gql(NODE, {"id": node_id}, as_=non_staff)["data"]["node"] is None


def test_anonymous_callers_get_no_nodes(gql):
    center = make_center("ABC001")
    node_id = base64.b64encode(f"DistributionCenter:{center.uuid}".encode()).decode()
    assert gql(NODE, {"id": node_id}, expect_errors=True).error_codes == ["UNAUTHENTICATED"]
