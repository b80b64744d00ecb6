"""N+1-free: a page of centers with staff and inventory costs the same queries at any size."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from modules.distribution.models import CenterInventoryItem, CenterStaffMember
from tests.distribution.factories import make_center
from tests.factories import make_staff

# Reads of whole lists, to show the SQL count does not grow: dearer than the public cost limit.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("uncapped_cost")]

NESTED = """
{
  distributionCenters(first: 50) {
    totalCount
    edges { node {
      centerCode name
      staff { uuid fullName type }
      inventoryCount
      inventory(first: 10) { totalCount edges { node { trackingNumber arrivedAt transportUuid } } }
    } }
  }
}
"""


def add_centers(start: int, count: int, people: list) -> None:
    """`count` more centers, each with two staff members and three items in inventory."""
    for n in range(start, start + count):
        center = make_center(f"N{n:03d}")
        CenterStaffMember.objects.bulk_create(
            CenterStaffMember(center=center, user_uuid=p.uuid) for p in people[:2]
        )
        CenterInventoryItem.objects.bulk_create(
            CenterInventoryItem(
                center=center, tracking_number=f"TN-{n}-{i}", transport_uuid=uuid.uuid4()
            )
            for i in range(3)
        )


def queries_for(gql, caller) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as captured:
        result = gql(NESTED, as_=caller)
    return len(captured), result["data"]["distributionCenters"]


def test_staff_and_inventory_of_5_or_50_centers_cost_the_same(gql, staff):
    people = [make_staff() for _ in range(3)]
    add_centers(0, 5, people)
    small, small_page = queries_for(gql, staff)
    add_centers(5, 45, [*people[1:], staff])
    large, large_page = queries_for(gql, staff)

    assert len(small_page["edges"]) == 5
    assert len(large_page["edges"]) == 50
    assert all(len(edge["node"]["staff"]) == 2 for edge in large_page["edges"])
    assert all(edge["node"]["inventoryCount"] == 3 for edge in large_page["edges"])
    assert small == large
    # Principal, centers (with counts), staff members, inventory page, total, users, user groups.
    assert large <= 8, f"{large} queries for one page"


IDS_ONLY = "{ distributionCenters(first: 50) { totalCount edges { node { id } } } }"


def test_ids_alone_of_5_or_50_centers_cost_the_same(gql, staff):
    people = [make_staff() for _ in range(3)]
    add_centers(0, 5, people)
    with CaptureQueriesContext(connection) as small:
        small_result = gql(IDS_ONLY, as_=staff)
    add_centers(5, 45, people)
    with CaptureQueriesContext(connection) as large:
        large_result = gql(IDS_ONLY, as_=staff)
    assert len(large_result["data"]["distributionCenters"]["edges"]) == 50
    assert (
        len({e["node"]["id"] for e in large_result["data"]["distributionCenters"]["edges"]}) == 50
    )
    assert small_result != large_result
    assert len(small) == len(large), f"{len(small)} queries for 5 centers, {len(large)} for 50"
