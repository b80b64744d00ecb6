"""Reading shipping data: filters, ordering, pages, cursors, node ids and who sees what."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from django.utils import timezone

from modules.shipping import services
from modules.shipping.models import ShippingItem, ShippingItemStatus
from tests.shipping.factories import make_batch, make_items, make_transport

pytestmark = pytest.mark.django_db

ITEMS = """
query Items($filter: ShippingItemFilter, $order: ShippingItemOrder, $first: Int, $after: String) {
  shippingItems(filter: $filter, order: $order, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id trackingNumber sku status currentCenterCode } }
  }
}
"""
BATCHES = """
query Batches($filter: ShippingBatchFilter, $order: ShippingBatchOrder, $first: Int, $after:
  String) {
  shippingBatches(filter: $filter, order: $order, first: $first, after: $after) {
    totalCount pageInfo { endCursor } edges { node { alias completed } }
  }
}
"""
TRANSPORTS = """
query Transports($filter: TransportFilter, $order: TransportOrder, $first: Int, $after: String) {
  transports(filter: $filter, order: $order, first: $first, after: $after) {
    totalCount pageInfo { endCursor } edges { node { id uuid status } }
  }
}
"""


def tracking_numbers(result) -> list[str]:
    return [edge["node"]["trackingNumber"] for edge in result["data"]["shippingItems"]["edges"]]


def test_items_list_newest_first_by_default(gql, staff):
    items = make_items(3)
    result = gql(ITEMS, {"first": 10}, as_=staff)
    assert tracking_numbers(result) == [i.tracking_number for i in reversed(items)]


def test_items_filter_by_status_sku_and_creation_time(gql, staff):
    old, new = make_items(2, sku="OLD")
    ShippingItem.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=3))
    other = make_items(1, sku="OTHER")[0]
    services.shipping_item_status_change(tracking_number=other.tracking_number, status="LOST")

    assert tracking_numbers(gql(ITEMS, {"filter": {"status": "LOST"}}, as_=staff)) == [
        other.tracking_number
    ]
    assert tracking_numbers(gql(ITEMS, {"filter": {"sku": "OLD"}}, as_=staff)) == [
        new.tracking_number,
        old.tracking_number,
    ]
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()
    recent = tracking_numbers(
        gql(ITEMS, {"filter": {"sku": "OLD", "createdAfter": since}}, as_=staff)
    )
    assert recent == [new.tracking_number]
    before = tracking_numbers(gql(ITEMS, {"filter": {"createdBefore": since}}, as_=staff))
    assert before == [old.tracking_number]


def test_items_filter_by_current_center(gql, staff, centers, driver):
    moved, stayed = make_items(2)
    make_transport(driver=driver, batches=[make_batch(items=[moved])], arrived=True)
    result = gql(ITEMS, {"filter": {"currentCenterCode": "abc002"}}, as_=staff)
    assert tracking_numbers(result) == [moved.tracking_number]
    assert stayed.tracking_number not in tracking_numbers(result)


def test_items_order_by_tracking_number_both_ways(gql, staff):
    numbers = sorted(i.tracking_number for i in make_items(4))
    ascending = gql(ITEMS, {"order": {"field": "TRACKING_NUMBER", "direction": "ASC"}}, as_=staff)
    descending = gql(ITEMS, {"order": {"field": "TRACKING_NUMBER", "direction": "DESC"}}, as_=staff)
    assert tracking_numbers(ascending) == numbers
    assert tracking_numbers(descending) == list(reversed(numbers))


def test_pages_walk_the_whole_list_once(gql, staff):
    items = make_items(7)
    seen, after = [], None
    while True:
        page = gql(ITEMS, {"first": 3, "after": after}, as_=staff)["data"]["shippingItems"]
        seen += [edge["node"]["trackingNumber"] for edge in page["edges"]]
        assert page["totalCount"] == 7
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [i.tracking_number for i in reversed(items)]


def test_a_cursor_stays_valid_when_new_items_arrive(gql, staff):
    make_items(4)
    first = gql(ITEMS, {"first": 2}, as_=staff)["data"]["shippingItems"]
    expected_rest = gql(ITEMS, {"first": 10}, as_=staff)["data"]["shippingItems"]["edges"][2:]
    make_items(3)  # newer items land before the page already read, never inside the rest
    rest = gql(ITEMS, {"first": 10, "after": first["pageInfo"]["endCursor"]}, as_=staff)
    assert rest["data"]["shippingItems"]["edges"] == expected_rest


def test_a_page_holds_at_most_100_nodes(gql, staff):
    result = gql(ITEMS, {"first": 101}, as_=staff, expect_errors=True)
    assert result.error_codes == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "",
        base64.b64encode(b'orderedcursor:["1"]').decode(),
        base64.b64encode(b"shippingItems|nope").decode(),
    ],
)
def test_a_garbage_cursor_is_a_coded_error(gql, staff, cursor):
    make_items(3)
    result = gql(ITEMS, {"first": 2, "after": cursor or "=="}, as_=staff, expect_errors=True)
    assert result.status_code == 200
    assert result.error_codes == ["BAD_USER_INPUT"]


def test_a_cursor_from_another_list_is_a_coded_error(gql, staff, centers):
    make_items(3)
    make_transport()
    make_transport("ABC002", "ABC001")
    cursor = gql(TRANSPORTS, {"first": 1}, as_=staff)["data"]["transports"]["pageInfo"]["endCursor"]
    result = gql(ITEMS, {"first": 2, "after": cursor}, as_=staff, expect_errors=True)
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result["data"] is None


def test_a_cursor_from_a_nested_list_is_a_coded_error(gql, staff):
    batch = make_batch(items=make_items(3))
    nested = gql(
        "query($a: String!) { shippingBatch(alias: $a) { "
        "items(first: 1) { pageInfo { endCursor } } } }",
        {"a": batch.alias},
        as_=staff,
    )
    cursor = nested["data"]["shippingBatch"]["items"]["pageInfo"]["endCursor"]
    assert gql(ITEMS, {"first": 2, "after": cursor}, as_=staff, expect_errors=True).error_codes == [
        "BAD_USER_INPUT"
    ]


def test_a_cursor_from_another_ordering_is_a_coded_error(gql, staff):
    make_items(3)
    by_number = gql(
        ITEMS, {"first": 1, "order": {"field": "TRACKING_NUMBER", "direction": "ASC"}}, as_=staff
    )
    cursor = by_number["data"]["shippingItems"]["pageInfo"]["endCursor"]
    result = gql(ITEMS, {"first": 2, "after": cursor}, as_=staff, expect_errors=True)
    assert result.error_codes == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    ("issued_by", "presented_to"),
    [
        ({"field": "CREATED_AT", "direction": "ASC"}, {"field": "CREATED_AT", "direction": "DESC"}),
        (
            {"field": "COMPLETED_AT", "direction": "DESC"},
            {"field": "CREATED_AT", "direction": "DESC"},
        ),
    ],
    ids=["direction", "same-kind-of-values"],
)
def test_a_cursor_is_bound_to_the_ordering_that_issued_it(gql, staff, issued_by, presented_to):
    """Orderings whose values have the same kinds used to accept each other's cursors and page
    from a meaningless position; only the ordering that issued a cursor takes it back."""
    make_items(3)
    issued = gql(ITEMS, {"first": 1, "order": issued_by}, as_=staff)
    cursor = issued["data"]["shippingItems"]["pageInfo"]["endCursor"]
    result = gql(
        ITEMS, {"first": 2, "after": cursor, "order": presented_to}, as_=staff, expect_errors=True
    )
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "does not come from this list" in result["errors"][0]["message"]
    same = gql(ITEMS, {"first": 2, "after": cursor, "order": issued_by}, as_=staff)
    assert len(same["data"]["shippingItems"]["edges"]) == 2


CURSORS_THROUGH_FRAGMENTS = """
query Items($after: String) {
  shippingItems(first: 1, after: $after) { ...Page }
}
fragment Page on ShippingItemCursorConnection {
  edges { node { trackingNumber } ... on ShippingItemCursorEdge { cursor } }
  pageInfo { ... on PageInfo { endCursor } }
}
"""


def test_cursors_asked_for_through_fragments_are_bound_to_their_list(gql, staff):
    """A list re-encodes its cursors only when the selection reads one (edges' cursor, pageInfo's
    ends), wherever it reads it: through named and inline fragments too."""
    make_items(3)
    page = gql(CURSORS_THROUGH_FRAGMENTS, as_=staff)["data"]["shippingItems"]
    (edge,) = page["edges"]
    assert edge["cursor"] == page["pageInfo"]["endCursor"]
    refused = gql(TRANSPORTS, {"first": 1, "after": edge["cursor"]}, as_=staff, expect_errors=True)
    assert refused.error_codes == ["BAD_USER_INPUT"]
    following = gql(CURSORS_THROUGH_FRAGMENTS, {"after": edge["cursor"]}, as_=staff)
    (next_edge,) = following["data"]["shippingItems"]["edges"]
    assert next_edge["node"]["trackingNumber"] != edge["node"]["trackingNumber"]


def test_bad_filter_values_are_coded_errors(gql, staff):
    result = gql(ITEMS, {"filter": {"createdAfter": "yesterday"}}, as_=staff, expect_errors=True)
    assert result.error_codes and set(result.error_codes) <= {
        "BAD_USER_INPUT",
        "GRAPHQL_VALIDATION_FAILED",
    }
    result = gql(ITEMS, {"filter": {"status": "BROKEN"}}, as_=staff, expect_errors=True)
    assert result.error_codes and set(result.error_codes) <= {
        "BAD_USER_INPUT",
        "GRAPHQL_VALIDATION_FAILED",
    }


def test_batches_filter_by_completed_and_transport(gql, staff, centers, driver):
    done = make_batch("DONE", items=make_items(1))
    make_transport(driver=driver, batches=[done], arrived=True)
    waiting = make_batch("WAITING", items=make_items(1))
    make_transport(driver=driver, batches=[waiting])
    make_batch("LOOSE")

    def aliases(variables):
        return [
            e["node"]["alias"]
            for e in gql(BATCHES, variables, as_=staff)["data"]["shippingBatches"]["edges"]
        ]

    assert aliases({"filter": {"completed": True}}) == ["DONE"]
    assert aliases({"filter": {"completed": False}}) == ["LOOSE", "WAITING"]
    assert aliases({"filter": {"onTransport": False}}) == ["LOOSE"]
    assert aliases({"order": {"field": "ALIAS", "direction": "ASC"}}) == [
        "DONE",
        "LOOSE",
        "WAITING",
    ]


def test_transports_filter_by_status_driver_and_centers(gql, staff, centers, driver, other_driver):
    from tests.shipping.factories import make_center

    make_center("ABC003")
    arrived = make_transport(driver=driver, batches=[make_batch(items=make_items(1))], arrived=True)
    created = make_transport("ABC002", "ABC003", driver=other_driver)

    def uuids(variables):
        return [
            e["node"]["uuid"]
            for e in gql(TRANSPORTS, variables, as_=staff)["data"]["transports"]["edges"]
        ]

    assert uuids({"filter": {"status": "ARRIVED"}}) == [str(arrived.uuid)]
    assert uuids({"filter": {"driverUuid": str(other_driver.uuid)}}) == [str(created.uuid)]
    assert uuids({"filter": {"sourceCenterCode": "abc002"}}) == [str(created.uuid)]
    assert uuids({"filter": {"destinationCenterCode": "ABC002"}}) == [str(arrived.uuid)]
    assert uuids({"order": {"field": "CREATED_AT", "direction": "ASC"}}) == [
        str(arrived.uuid),
        str(created.uuid),
    ]


def test_node_ids_are_global_ids_over_public_keys(gql, staff):
    item = make_items(1)[0]
    node_id = gql(ITEMS, {}, as_=staff)["data"]["shippingItems"]["edges"][0]["node"]["id"]
    type_name, key = base64.b64decode(node_id).decode().split(":", 1)
    assert (type_name, key) == ("ShippingItem", str(item.uuid))
    fetched = gql(
        "query($id: ID!) { node(id: $id) { ... on ShippingItem { trackingNumber } } }",
        {"id": node_id},
        as_=staff,
    )
    assert fetched["data"]["node"] == {"trackingNumber": item.tracking_number}


@pytest.mark.parametrize(
    "node_id",
    [
        "not-base64!",
        base64.b64encode(b"ShippingItem:not-a-uuid").decode(),
        base64.b64encode(b"Transport:12").decode(),
        base64.b64encode(b"NoSuchType:1").decode(),
    ],
)
def test_malformed_node_ids_are_coded_errors_or_null(gql, staff, node_id):
    result = gql(
        "query($id: ID!) { node(id: $id) { id } }", {"id": node_id}, as_=staff, expect_errors=True
    )
    assert result.status_code == 200
    assert "INTERNAL_SERVER_ERROR" not in result.error_codes
    if "errors" not in result:
        assert result["data"]["node"] is None


def test_malformed_uuid_argument_is_a_coded_error(gql, staff):
    result = gql('{ transport(uuid: "not-a-uuid") { uuid } }', as_=staff, expect_errors=True)
    assert result.error_codes and "INTERNAL_SERVER_ERROR" not in result.error_codes
    result = gql(
        "query($u: UUID!) { transport(uuid: $u) { uuid } }",
        {"u": "12"},
        as_=staff,
        expect_errors=True,
    )
    assert result.error_codes and "INTERNAL_SERVER_ERROR" not in result.error_codes


def test_unknown_keys_are_null_not_errors(gql, staff):
    result = gql(
        '{ shippingItem(trackingNumber: "NOPE") { uuid } shippingBatch(alias: "NOPE") { uuid } '
        'transport(uuid: "00000000-0000-0000-0000-000000000000") { uuid } }',
        as_=staff,
    )
    assert result["data"] == {"shippingItem": None, "shippingBatch": None, "transport": None}


def test_tracking_numbers_are_found_however_they_are_typed(gql, staff):
    item = make_items(1)[0]
    result = gql(
        "query($tn: String!) { shippingItem(trackingNumber: $tn) { uuid } }",
        {"tn": f"  {item.tracking_number.lower()} "},
        as_=staff,
    )
    assert result["data"]["shippingItem"]["uuid"] == str(item.uuid)


# --- who sees what -------------------------------------------------------------------------------


DRIVER_VIEW = """
{ transports(first: 10) { totalCount edges { node { uuid driver { uuid }
    batches(first: 10) { edges { node { alias items(first: 10) { edges { node { trackingNumber
      batches(first: 10) { edges { node { alias } } } } } } } } } } } } }
"""


@pytest.mark.usefixtures("uncapped_cost")  # every level unpaged: more than the public limit
def test_a_driver_sees_only_their_own_transports_and_what_is_on_them(
    gql, centers, driver, other_driver
):
    mine = make_transport(driver=driver, batches=[make_batch("MINE", items=make_items(2))])
    make_transport(driver=other_driver, batches=[make_batch("THEIRS", items=make_items(1))])
    make_transport()

    transports = gql(DRIVER_VIEW, as_=driver)["data"]["transports"]
    assert transports["totalCount"] == 1
    node = transports["edges"][0]["node"]
    assert node["uuid"] == str(mine.uuid)
    assert node["driver"]["uuid"] == str(driver.uuid)
    assert [b["node"]["alias"] for b in node["batches"]["edges"]] == ["MINE"]
    assert len(node["batches"]["edges"][0]["node"]["items"]["edges"]) == 2


def test_a_driver_reads_their_transport_by_uuid_but_not_another(gql, centers, driver, other_driver):
    mine = make_transport(driver=driver)
    theirs = make_transport(driver=other_driver)
    query = "query($u: UUID!) { transport(uuid: $u) { uuid } }"
    assert gql(query, {"u": str(mine.uuid)}, as_=driver)["data"]["transport"] == {
        "uuid": str(mine.uuid)
    }
    assert gql(query, {"u": str(theirs.uuid)}, as_=driver)["data"]["transport"] is None


def test_a_driver_cannot_reach_another_transport_by_node_id(
    gql, staff, centers, driver, other_driver
):
    theirs = make_transport(driver=other_driver)
    node_id = gql(TRANSPORTS, {}, as_=staff)["data"]["transports"]["edges"][0]["node"]["id"]
    assert gql(TRANSPORTS, {}, as_=staff)["data"]["transports"]["edges"][0]["node"]["uuid"] == str(
        theirs.uuid
    )
    result = gql("query($id: ID!) { node(id: $id) { id } }", {"id": node_id}, as_=driver)
    assert result["data"]["node"] is None


def test_a_driver_does_not_see_items_or_batches_lists(gql, driver):
    for query in (
        "{ shippingItems(first: 1) { totalCount } }",
        "{ shippingBatches(first: 1) { totalCount } }",
    ):
        assert gql(query, as_=driver, expect_errors=True).error_codes == ["FORBIDDEN"]


def test_item_status_values_are_the_api_enum(gql, staff):
    item = make_items(1)[0]
    services.shipping_item_status_change(
        tracking_number=item.tracking_number, status=ShippingItemStatus.DAMAGED
    )
    result = gql(ITEMS, {}, as_=staff)
    assert result["data"]["shippingItems"]["edges"][0]["node"]["status"] == "DAMAGED"
