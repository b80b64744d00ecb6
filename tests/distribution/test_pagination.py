"""distributionCenters as a connection: pages, filters, ordering and bad arguments."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.distribution.factories import make_center, record_arrival

pytestmark = pytest.mark.django_db

PAGE = """
query Page(
  $first: Int, $after: String, $filter: DistributionCenterFilter, $order: DistributionCenterOrder
) {
  distributionCenters(first: $first, after: $after, filter: $filter, order: $order) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { centerCode } }
  }
}
"""


@pytest.fixture
def seven_centers():
    start = timezone.now() - dt.timedelta(days=1)
    names = ["Delta", "Alpha", "Charlie", "Bravo", "Echo", "Foxtrot", "Golf"]
    return [
        make_center(f"C{n}", names[n], created_at=start + dt.timedelta(minutes=n)) for n in range(7)
    ]


def codes(result):
    return [edge["node"]["centerCode"] for edge in result["data"]["distributionCenters"]["edges"]]


def test_pages_follow_each_other_newest_first(gql, staff, seven_centers):
    seen, after = [], None
    while True:
        result = gql(PAGE, {"first": 3, "after": after}, as_=staff)
        seen += codes(result)
        page = result["data"]["distributionCenters"]
        assert page["totalCount"] == 7
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"C{n}" for n in reversed(range(7))]


def test_a_cursor_stays_valid_when_newer_centers_appear(gql, staff, seven_centers):
    first = gql(PAGE, {"first": 3}, as_=staff)["data"]["distributionCenters"]
    make_center("NEWEST")
    rest = gql(PAGE, {"first": 10, "after": first["pageInfo"]["endCursor"]}, as_=staff)
    assert codes(rest) == ["C3", "C2", "C1", "C0"]


def test_order_by_name_ascending(gql, staff, seven_centers):
    result = gql(PAGE, {"first": 3, "order": {"field": "NAME", "direction": "ASC"}}, as_=staff)
    assert codes(result) == ["C1", "C3", "C2"]  # Alpha, Bravo, Charlie


def test_order_by_center_code_descending_pages(gql, staff, seven_centers):
    order = {"field": "CENTER_CODE", "direction": "DESC"}
    first = gql(PAGE, {"first": 4, "order": order}, as_=staff)
    rest = gql(
        PAGE,
        {
            "first": 4,
            "order": order,
            "after": first["data"]["distributionCenters"]["pageInfo"]["endCursor"],
        },
        as_=staff,
    )
    assert codes(first) + codes(rest) == ["C6", "C5", "C4", "C3", "C2", "C1", "C0"]


def test_filter_by_center_code_in_any_case(gql, staff, seven_centers):
    assert codes(gql(PAGE, {"filter": {"centerCode": "c3"}}, as_=staff)) == ["C3"]


def test_filter_by_center_codes(gql, staff, seven_centers):
    result = gql(PAGE, {"filter": {"centerCodeIn": ["C1", "c2", "NOPE"]}}, as_=staff)
    assert sorted(codes(result)) == ["C1", "C2"]


def test_filter_by_name_contains(gql, staff, seven_centers):
    assert sorted(codes(gql(PAGE, {"filter": {"nameContains": "LF"}}, as_=staff))) == ["C6"]
    assert (
        gql(PAGE, {"filter": {"nameContains": "o"}}, as_=staff)["data"]["distributionCenters"][
            "totalCount"
        ]
        == 4
    )  # Bravo, Echo, Foxtrot, Golf


def test_a_page_holds_at_most_a_hundred(gql, staff, seven_centers):
    result = gql(PAGE, {"first": 101}, as_=staff, expect_errors=True)
    assert result.error_codes == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    "cursor", ["garbage", "b3JkZXJlZGN1cnNvcjpub3QganNvbg==", "b3JkZXJlZGN1cnNvcjpbIngiXQ=="]
)
def test_a_garbage_cursor_is_a_coded_error(gql, staff, seven_centers, cursor):
    result = gql(PAGE, {"first": 3, "after": cursor}, as_=staff, expect_errors=True)
    assert result.status_code == 200
    assert result.error_codes == ["BAD_USER_INPUT"]


def test_a_cursor_from_another_ordering_is_a_coded_error(gql, staff, seven_centers):
    by_name = gql(PAGE, {"first": 2, "order": {"field": "NAME", "direction": "ASC"}}, as_=staff)
    cursor = by_name["data"]["distributionCenters"]["pageInfo"]["endCursor"]
    result = gql(PAGE, {"first": 2, "after": cursor}, as_=staff, expect_errors=True)
    assert result.error_codes == ["BAD_USER_INPUT"]


def test_a_cursor_from_another_list_is_a_coded_error(gql, staff, distribution_key, seven_centers):
    record_arrival(gql, distribution_key, "C0", ["A", "B"])
    inventory = gql(
        '{ distributionCenter(centerCode: "C0") { inventory(first: 1) { pageInfo { endCursor } }}}',
        as_=staff,
    )
    cursor = inventory["data"]["distributionCenter"]["inventory"]["pageInfo"]["endCursor"]
    result = gql(PAGE, {"first": 2, "after": cursor}, as_=staff, expect_errors=True)
    assert result.error_codes == ["BAD_USER_INPUT"]


def test_inventory_pages(gql, staff, distribution_key, seven_centers):
    record_arrival(gql, distribution_key, "C0", [f"TN-{i}" for i in range(5)])
    query = """
    query($after: String) { distributionCenter(centerCode: "C0") {
      inventory(first: 2, after: $after) {
        pageInfo { hasNextPage endCursor }
        edges { node { trackingNumber } }
      }
    } }
    """
    seen, after = [], None
    while True:
        page = gql(query, {"after": after}, as_=staff)["data"]["distributionCenter"]["inventory"]
        seen += [edge["node"]["trackingNumber"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == [f"TN-{i}" for i in range(5)]
