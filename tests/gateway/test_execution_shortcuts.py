"""The execution shortcuts (schema/execution.py) change how fast answers come, never the answers.

Each document runs twice over the same rows, once as usual and once inside `ordinary_execution()`,
and the two JSON bodies must be identical: columns, nested pages with their cursors and pageInfo,
loader-backed fields, nulls, and what each caller may see.
"""

from __future__ import annotations

import json
import re
from types import SimpleNamespace
from typing import Any

import django_filters
import pytest
from graphql import GraphQLError, GraphQLObjectType
from strawberry.extensions.validation_cache import _get_validate_cache
from strawberry_django.relay.cursor_connection import OrderedCollectionCursor

from modules.shipping import services
from modules.shipping.models import ShippingItem
from schema.engine.execution import COLUMN, Fallback, ordinary_execution
from schema.kit.filters import apply_filters
from schema.root import schema
from schema.transports.http import encode_json
from tests.conftest import bearer, call_graphql, captured_sql
from tests.factories import make_staff

# Deep reads that cost more than the public limit: what they check is how the engine reads them.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("uncapped_cost")]

TRANSPORTS = """
{ transports(first: 10) { pageInfo { hasNextPage endCursor } edges { cursor node {
    uuid status sourceCenterCode sourceCenter { name } destinationCenter { centerCode name }
    driver { fullName } batchCount
    batches(first: 1) { pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node {
        alias completed itemCount
        items(first: 2) { edges { cursor node {
          trackingNumber sku status currentCenter { name }
        } } }
    } } }
} } } }
"""

ITEMS = """
{ shippingItems(first: 10, order: {field: TRACKING_NUMBER, direction: ASC}) { edges { node {
    trackingNumber status currentCenterCode completedAt currentCenter { name }
    batches { pageInfo { hasNextPage } edges { node { alias transport { status } } } }
    onlyTheCount: batches { pageInfo { hasNextPage } }
} } } }
"""

BATCHES = """
{ shippingBatches(last: 2) { edges { node { alias items(last: 1) { edges { node { sku } } } } } } }
"""

CENTERS = """
{ distributionCenters(first: 5) { edges { node { centerCode name inventoryCount
    inventory(first: 3) { edges { node { trackingNumber } } } } } } }
"""


def both_ways(client, query: str, authorization: str) -> tuple[dict, dict]:
    fast = call_graphql(client, query, authorization=authorization)
    with ordinary_execution():
        ordinary = call_graphql(client, query, authorization=authorization)
    return fast, ordinary


@pytest.mark.parametrize(
    "query",
    [TRANSPORTS, ITEMS, BATCHES, CENTERS],
    ids=["transports", "items", "batches", "centers"],
)
def test_staff_get_the_same_answers_either_way(client, network, query):
    fast, ordinary = both_ways(client, query, bearer(make_staff()))
    assert "errors" not in fast, fast["errors"]
    assert json.dumps(fast, sort_keys=True) == json.dumps(ordinary, sort_keys=True)


def test_a_driver_gets_the_same_answers_and_only_their_own_transports(client, network):
    first, _ = network["drivers"]
    fast, ordinary = both_ways(client, TRANSPORTS, bearer(first))
    assert fast == ordinary
    transports = [edge["node"] for edge in fast["data"]["transports"]["edges"]]
    assert [t["driver"]["fullName"] for t in transports] == ["Ada Driver"]
    nested = transports[0]["batches"]["edges"][0]["node"]["items"]["edges"]
    assert len(nested) == 2
    assert transports[0]["batches"]["pageInfo"]["hasNextPage"] is False


def test_a_nested_page_reports_more_rows_and_usable_cursors(client, network):
    fast = call_graphql(client, TRANSPORTS, authorization=bearer(make_staff()))
    in_transit = next(
        edge["node"]
        for edge in fast["data"]["transports"]["edges"]
        if edge["node"]["status"] == "IN_TRANSIT"
    )
    batches = in_transit["batches"]
    assert batches["pageInfo"]["hasNextPage"] is True  # two batches, first: 1
    assert batches["pageInfo"]["endCursor"] == batches["edges"][0]["cursor"]


ROOT_PAGE = """
query Items($first: Int, $after: String) {
  shippingItems(first: $first, after: $after, order: {field: TRACKING_NUMBER, direction: ASC}) {
    totalCount pageInfo { hasNextPage hasPreviousPage } edges { node { trackingNumber } }
  }
}
"""


@pytest.mark.parametrize("first", [None, 0, 3, 8, 20], ids=lambda first: f"first={first}")
def test_a_root_page_read_without_cursors_answers_the_same_and_makes_no_cursor(
    client, network, monkeypatch, first
):
    """strawberry-django makes every row's cursor; a root page whose selection reads none is
    built without them, and says the same about its rows, hasNextPage and totalCount."""
    staff = bearer(make_staff())
    made = []
    original = OrderedCollectionCursor.from_model.__func__  # type: ignore[attr-defined]  # bound: has __func__

    def counted(cls, *args):
        made.append(1)
        return original(cls, *args)

    monkeypatch.setattr(OrderedCollectionCursor, "from_model", classmethod(counted))
    # The page after the first two rows, reached with the cursor the list gave out.
    cursor = call_graphql(
        client,
        "{ shippingItems(first: 2, order: {field: TRACKING_NUMBER, direction: ASC}) {"
        " pageInfo { endCursor } } }",
        authorization=staff,
    )["data"]["shippingItems"]["pageInfo"]["endCursor"]
    for after in (None, cursor):
        made.clear()
        variables = {"first": first, "after": after}
        fast = call_graphql(client, ROOT_PAGE, variables, authorization=staff)
        assert "errors" not in fast, fast["errors"]
        assert made == []
        with ordinary_execution():
            ordinary = call_graphql(client, ROOT_PAGE, variables, authorization=staff)
        assert fast == ordinary
        assert len(made) == len(ordinary["data"]["shippingItems"]["edges"])  # one per row
        page = fast["data"]["shippingItems"]
        after_rows = 2 if after else 0
        assert page["totalCount"] == 8
        assert len(page["edges"]) == min(8 - after_rows, first if first is not None else 8)
        assert page["pageInfo"]["hasNextPage"] is (first is not None and first < 8 - after_rows)


def test_the_row_past_a_root_page_gets_no_nested_page(client, network):
    """The page reads one row more than `first` to tell that more come; that row's nested
    lists are never shown, so the nested pages' query asks for the page's own rows only."""
    query = """{ transports(first: 2) { pageInfo { hasNextPage } edges { node {
        uuid batches(first: 1) { edges { node { alias } } } } } } }"""
    staff = bearer(make_staff())
    with captured_sql() as queries:
        fast = call_graphql(client, query, authorization=staff)
    with ordinary_execution():
        assert call_graphql(client, query, authorization=staff) == fast
    assert fast["data"]["transports"]["pageInfo"]["hasNextPage"] is True  # three transports
    batch_pages = [sql for sql in queries if 'FROM "shipping_shippingbatch"' in sql]
    assert len(batch_pages) == 1
    parents = re.search(r'"transport_id" IN \(([^)]*)\)', batch_pages[0])
    assert parents is not None and len(parents.group(1).split(",")) == 2


def test_a_field_with_its_own_permission_still_refuses(client, network):
    """`inventory` is staff only: a driver reading centers gets FORBIDDEN, shortcuts or not."""
    first, _ = network["drivers"]
    result = call_graphql(client, CENTERS, authorization=bearer(first))
    assert "FORBIDDEN" in result.error_codes
    with ordinary_execution():
        assert call_graphql(client, CENTERS, authorization=bearer(first)) == result


@pytest.mark.engine
def test_a_column_that_was_not_loaded_is_left_to_the_ordinary_path():
    services.shipping_item_create(sku="SKU-9")
    item_type = schema._schema.type_map["ShippingItem"]
    assert isinstance(item_type, GraphQLObjectType)
    column = item_type.fields["trackingNumber"].extensions[COLUMN]
    loaded = ShippingItem.objects.get()
    deferred = ShippingItem.objects.only("id").get()
    assert column.read(loaded, None) == loaded.tracking_number
    with pytest.raises(Fallback):  # loaded the ordinary way, as before
        column.read(deferred, None)


@pytest.mark.engine
def test_columns_with_a_resolver_or_a_permission_are_not_shortcut():
    center_type = schema._schema.type_map["DistributionCenter"]
    assert isinstance(center_type, GraphQLObjectType)
    fields = center_type.fields
    assert COLUMN in fields["name"].extensions
    assert COLUMN not in fields["inventoryCount"].extensions  # resolver, and Require(Staff)


def test_a_repeated_document_is_validated_once(client):
    cache: Any = _get_validate_cache(512)  # a functools cache, typed as a plain callable
    call_graphql(client, "{ shippingItemsRepeat: __typename }")
    hits = cache.cache_info().hits
    call_graphql(client, "{ shippingItemsRepeat: __typename }")
    assert cache.cache_info().hits == hits + 1


def test_responses_keep_non_ascii_text_and_huge_numbers():
    assert json.loads(encode_json({"name": "Zürich Süd"})) == {"name": "Zürich Süd"}
    assert json.loads(encode_json({"big": 2**70})) == {"big": 2**70}  # beyond orjson: json's turn


def test_a_filterset_that_acts_without_input_still_runs():
    """apply_filters skips an idle FilterSet, and runs a FilterSet with only the filters it is
    given, but not one with a required filter: that one runs whole, with or without input."""

    class NeedsSku(django_filters.FilterSet):
        sku = django_filters.CharFilter(required=True)
        status = django_filters.CharFilter()

        class Meta:
            model = ShippingItem
            fields: list[str] = []

    for given in (None, SimpleNamespace(sku=None, status="RECEIVED")):
        with pytest.raises(GraphQLError) as refused:
            apply_filters(ShippingItem.objects.all(), NeedsSku, given)
        assert (refused.value.extensions or {})["code"] == "BAD_USER_INPUT"
        assert list((refused.value.extensions or {})["fields"]) == ["sku"]


def test_a_filter_whose_form_field_reads_the_request_sees_each_request():
    """apply_filters makes a FilterSet's form class once where its form fields come from its
    filters alone; a filter whose choices the request decides gets each request's choices, and a
    reused form class still refuses a wrong value."""
    services.shipping_item_create(sku="SKU-1")
    first = ShippingItem.objects.get()

    class ByItem(django_filters.FilterSet):
        # The choices a caller may pick: those their request lets through.
        item = django_filters.ModelChoiceFilter(
            method="by_item",
            # django-filter takes a callable of the request too; its stubs say only a queryset.
            queryset=lambda request: ShippingItem.objects.filter(sku=request.sku),  # type: ignore[arg-type]
        )
        status = django_filters.CharFilter()

        class Meta:
            model = ShippingItem
            fields: list[str] = []

        def by_item(self, queryset: Any, name: str, value: ShippingItem) -> Any:
            return queryset.filter(pk=value.pk)

    # Both filters given: one static form field does not make the other's kept.
    given = SimpleNamespace(item=str(first.pk), status=first.status)
    allowed = apply_filters(ShippingItem.objects.all(), ByItem, given, request=first)
    assert list(allowed) == [first]
    with pytest.raises(GraphQLError) as refused:
        apply_filters(ShippingItem.objects.all(), ByItem, given, request=SimpleNamespace(sku="X"))
    assert list((refused.value.extensions or {})["fields"]) == ["item"]

    class ByStatusForTheCaller(django_filters.FilterSet):
        """Fits its form to each request, as django-filter allows (here in __init__)."""

        status = django_filters.ChoiceFilter(choices=[(first.status, "the item's")])

        class Meta:
            model = ShippingItem
            fields: list[str] = []

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            if not getattr(self.request, "is_staff", False):
                self.filters["status"].extra["choices"] = []

    by_status = SimpleNamespace(status=first.status)
    staff, other = SimpleNamespace(is_staff=True), SimpleNamespace(is_staff=False)
    items = ShippingItem.objects.all()
    assert list(apply_filters(items, ByStatusForTheCaller, by_status, request=staff)) == [first]
    with pytest.raises(GraphQLError):  # the form made for the first caller is not the second's
        apply_filters(items, ByStatusForTheCaller, by_status, request=other)

    class ByUuid(django_filters.FilterSet):
        uuid = django_filters.UUIDFilter()

        class Meta:
            model = ShippingItem
            fields: list[str] = []

    for _ in range(2):  # the second time with the form class made the first time
        with pytest.raises(GraphQLError) as refused:
            apply_filters(ShippingItem.objects.all(), ByUuid, SimpleNamespace(uuid="not-a-uuid"))
        assert list((refused.value.extensions or {})["fields"]) == ["uuid"]
        found = apply_filters(ShippingItem.objects.all(), ByUuid, SimpleNamespace(uuid=first.uuid))
        assert list(found) == [first]


# Selection plans (schema/plans.py): the same answers, also where a plan must step aside.

PLANNED_TRANSPORTS = """
query Transports($batches: Int, $after: String) {
  transports(first: 10) {
    __typename
    edges { cursor node {
      ...Transport
      from: sourceCenterCode
      batches(first: $batches, after: $after) {
        __typename
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor __typename }
        edges { cursor node { alias __typename items { edges { node { ...Item } } } } __typename }
      }
      newest: batches(last: 1) { edges { cursor node { alias } } pageInfo { hasPreviousPage } }
      countOnly: batches { pageInfo { hasNextPage } }
    } }
  }
}
fragment Transport on Transport { uuid status sourceCenter { name __typename } }
fragment Item on ShippingItem { trackingNumber status currentCenter { name } }
"""


def planned_selections() -> set[str]:
    """Types whose selection got a plan since the cache was last cleared."""
    from schema.engine.plans import _operations

    return {
        type_name
        for operation in list(_operations.values())
        for (type_name, _), plan in operation.plans.items()
        if plan is not None
    }


def in_transit(result: dict) -> dict:
    return next(
        edge["node"]
        for edge in result["data"]["transports"]["edges"]
        if edge["node"]["status"] == "IN_TRANSIT"
    )


@pytest.mark.engine
def test_a_page_with_fragments_aliases_and_nested_pages_is_planned_and_answers_the_same(
    client, network
):
    from schema.engine.plans import _operations

    _operations.clear()
    staff = bearer(make_staff())
    for variables in ({"batches": 1}, {"batches": 2}, {"batches": None}):
        fast = call_graphql(client, PLANNED_TRANSPORTS, variables, authorization=staff)
        with ordinary_execution():
            ordinary = call_graphql(client, PLANNED_TRANSPORTS, variables, authorization=staff)
        assert "errors" not in fast, fast["errors"]
        assert fast == ordinary
    assert "TransportCursorConnection" in planned_selections()
    # The same document with other variables gets other pages: arguments are not part of a plan.
    one, two = (
        in_transit(call_graphql(client, PLANNED_TRANSPORTS, {"batches": n}, authorization=staff))
        for n in (1, 2)
    )
    assert len(two["batches"]["edges"]) == 2 and two["batches"]["pageInfo"]["hasNextPage"] is False
    assert len(one["batches"]["edges"]) == 1 and one["batches"]["pageInfo"]["hasNextPage"] is True
    # ...and the first page's cursor opens the second, as on the ordinary path.
    after = {"batches": 1, "after": one["batches"]["pageInfo"]["endCursor"]}
    rest = call_graphql(client, PLANNED_TRANSPORTS, after, authorization=staff)
    with ordinary_execution():
        assert call_graphql(client, PLANNED_TRANSPORTS, after, authorization=staff) == rest
    second = in_transit(rest)["batches"]
    assert second["edges"][0]["node"]["alias"] == two["batches"]["edges"][1]["node"]["alias"]
    assert second["pageInfo"]["hasNextPage"] is False
    assert second["pageInfo"]["endCursor"] == second["edges"][-1]["cursor"]


def test_a_selection_with_a_directive_is_left_to_the_ordinary_path(client, network):
    query = """
    query Items($withStatus: Boolean!) { shippingItems(first: 5) { edges { node {
        trackingNumber status @include(if: $withStatus) currentCenter { name }
    } } } }
    """
    staff = bearer(make_staff())
    with_status = call_graphql(client, query, {"withStatus": True}, authorization=staff)
    without = call_graphql(client, query, {"withStatus": False}, authorization=staff)
    assert all("status" in e["node"] for e in with_status["data"]["shippingItems"]["edges"])
    assert not any("status" in e["node"] for e in without["data"]["shippingItems"]["edges"])
    with ordinary_execution():
        assert call_graphql(client, query, {"withStatus": False}, authorization=staff) == without


def test_an_error_inside_a_planned_page_is_reported_at_its_path_as_before(
    client, network, monkeypatch
):
    """A resolver that fails makes the plan step aside: the error has the ordinary path."""
    from modules.distribution.graphql.types import center_loader

    def broken(keys):
        raise RuntimeError("the center lookup failed")

    monkeypatch.setattr(center_loader, "fetch", broken)
    query = "{ transports(first: 2) { edges { node { status sourceCenter { name } } } } }"
    staff = bearer(make_staff())
    fast = call_graphql(client, query, authorization=staff)
    with ordinary_execution():
        ordinary = call_graphql(client, query, authorization=staff)
    assert fast == ordinary
    assert fast.error_codes == ["INTERNAL_SERVER_ERROR"] * 2
    assert [error["path"] for error in fast["errors"]] == [
        ["transports", "edges", index, "node", "sourceCenter"] for index in (0, 1)
    ]


def test_a_direct_resolver_leaves_to_strawberry_django_what_it_would_post_process():
    """Managers, querysets, awaitables and callables take the ordinary path, however many plain
    values of other classes came before them; a generator is looked at every time."""
    import types

    from schema.engine.execution import is_plain_value

    services.shipping_item_create(sku="SKU-9")
    item = ShippingItem.objects.get()
    assert is_plain_value(item) and is_plain_value(item)  # the second time from the memo
    assert is_plain_value(None) and is_plain_value("text")

    async def coroutine_function():
        return item

    coroutine = coroutine_function()
    assert not is_plain_value(coroutine)
    coroutine.close()
    assert not is_plain_value(ShippingItem.objects.all())
    assert not is_plain_value(item.batches)  # a related manager
    assert not is_plain_value(lambda: item)

    def plain_generator():
        yield item

    @types.coroutine
    def awaitable_generator():
        yield item

    assert is_plain_value(plain_generator())
    assert not is_plain_value(awaitable_generator())  # the same class: asked again


def test_a_resolver_whose_value_cannot_be_inspected_steps_aside_for_the_ordinary_path():
    """Plans read row-method resolvers in one step; anything that raises there, the resolver or
    the check of its value, hands the field back to the ordinary path (which reports it)."""
    from django.utils.functional import SimpleLazyObject

    from schema.engine.execution import DirectResolver, Fallback

    def broken() -> int:
        raise RuntimeError("boom")

    def resolver_of(function):
        return DirectResolver(
            definition=None,
            function=function,
            pass_self=True,
            pass_source_as=(),
            info_parameter=None,
            info_class=object,
        )

    for function in (lambda row: broken(), lambda row: SimpleLazyObject(broken)):
        with pytest.raises(Fallback):
            resolver_of(function).reader()(object())
    assert resolver_of(lambda row: "plain").reader()(object()) == "plain"


COUNTED_PAGES = """
query Counted($item: ID!, $after: String) {
  transports(first: 5, order: { field: CREATED_AT }) { totalCount edges { node { id status
    batches(first: 1, after: $after) { totalCount edges { node { id alias } } }
    empty: batches(first: 0) { totalCount }
  } } }
  node(id: $item) { id ... on ShippingItem { trackingNumber batches { totalCount } } }
}
"""


@pytest.mark.engine
def test_total_counts_and_ids_are_planned_and_answer_as_the_ordinary_path(client, network):
    """`totalCount` (root and nested, empty pages too) and Relay ids complete by the plans."""
    from strawberry import relay

    from modules.shipping.models import ShippingItem
    from schema.engine.plans import _operations

    _operations.clear()
    staff = bearer(make_staff())
    item = ShippingItem.objects.filter(batches__isnull=False).first()
    assert item is not None
    variables = {"item": str(relay.GlobalID("ShippingItem", str(item.uuid))), "after": None}
    fast = call_graphql(client, COUNTED_PAGES, variables, authorization=staff)
    with ordinary_execution():
        ordinary = call_graphql(client, COUNTED_PAGES, variables, authorization=staff)
    assert "errors" not in fast, fast["errors"]
    assert fast == ordinary
    counts = [e["node"]["batches"]["totalCount"] for e in fast["data"]["transports"]["edges"]]
    assert sorted(counts) == [1, 1, 2]
    assert fast["data"]["node"]["batches"]["totalCount"] >= 1
    assert {"TransportCursorConnection", "Transport", "ShippingItem"} <= planned_selections()
