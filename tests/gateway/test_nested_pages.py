"""Nested pages fetched a list at a time (schema/nested_pages.py).

They change how the rows of nested pages are kept, never which rows a caller gets: every answer
must equal the ordinary path's (Django's prefetch, inside `ordinary_execution()`), with as many
SQL queries, at every depth, through both kinds of relation (many-to-many, reverse foreign key),
for what only the ordinary path answers (totalCount, `node(id:)`), and for a driver who sees less.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from strawberry import relay
from strawberry_django.relay.cursor_connection import apply_cursor_pagination

from modules.shipping.models import BatchMembership, ShippingBatch, ShippingItem, Transport
from schema.engine import nested_pages, ordinary_execution
from schema.engine.nested_pages import (
    PAGE_RELATIONS,
    UnwindowedPage,
    default_page_limit,
    page_relations,
)
from schema.root import schema
from tests.conftest import bearer, call_graphql, captured_sql
from tests.factories import make_staff
from tests.shipping.factories import make_batch, make_items

# Deep reads that cost more than the public limit: what they check is how the engine reads them.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("uncapped_cost")]

# Three levels of pages: transports -> batches (reverse foreign key) -> items (many-to-many)
# -> batches (many-to-many, the other way), with cursors, pageInfo and counts along the way.
DEEP = """
{ transports(first: 10) { edges { node { status
    batches(first: 5) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node {
      alias transport { status }
      items(first: 2) { totalCount pageInfo { hasNextPage startCursor } edges { cursor node {
        trackingNumber batches { edges { node { alias completed } } }
      } } }
    } } }
} } } }
"""


def both_ways(client, query: str, authorization: str, variables=None):
    """(answer, SQL queries) with nested pages, then the same inside ordinary_execution()."""
    with captured_sql() as fast_queries:
        fast = call_graphql(client, query, variables, authorization=authorization)
    with ordinary_execution(), captured_sql() as ordinary_queries:
        ordinary = call_graphql(client, query, variables, authorization=authorization)
    assert "errors" not in fast, fast["errors"]
    return fast, ordinary, len(fast_queries), len(ordinary_queries)


def test_deep_nested_pages_answer_as_django_prefetch_does_with_as_many_queries(client, network):
    fast, ordinary, fast_count, ordinary_count = both_ways(client, DEEP, bearer(make_staff()))
    assert json.dumps(fast, sort_keys=True) == json.dumps(ordinary, sort_keys=True)
    assert fast_count == ordinary_count
    transports = [edge["node"] for edge in fast["data"]["transports"]["edges"]]
    assert sorted(t["batches"]["totalCount"] for t in transports) == [1, 1, 2]


def test_a_driver_gets_the_same_rows_either_way_and_only_their_own(client, network):
    first, _ = network["drivers"]
    fast, ordinary, _, _ = both_ways(client, DEEP, bearer(first))
    assert fast == ordinary
    transports = fast["data"]["transports"]["edges"]
    assert len(transports) == 1
    batch = transports[0]["node"]["batches"]["edges"][0]["node"]
    assert batch["items"]["totalCount"] == 3
    assert len(batch["items"]["edges"]) == 2
    assert batch["items"]["pageInfo"]["hasNextPage"] is True


def test_each_parent_counts_only_its_own_rows(client, network):
    """totalCount is answered by the ordinary path from the rows kept for one parent."""
    query = "{ shippingBatches(first: 10) { edges { node { items { totalCount } } } } }"
    fast, ordinary, _, _ = both_ways(client, query, bearer(make_staff()))
    assert fast == ordinary
    counts = [
        edge["node"]["items"]["totalCount"] for edge in fast["data"]["shippingBatches"]["edges"]
    ]
    expected = [batch.memberships.count() for batch in ShippingBatch.objects.order_by("-id")]
    assert sorted(counts) == sorted(expected) == [1, 1, 2, 3]


def test_a_node_lookup_reads_its_nested_pages_the_same_way(client, network):
    """`node(id:)` goes through an abstract type: no plan, the ordinary path reads the rows."""
    transport = Transport.objects.filter(batches__isnull=False).order_by("id").last()
    assert transport is not None
    query = """query ($id: ID!) { node(id: $id) { ... on Transport {
        batches { edges { cursor node { alias items(last: 1) { edges { node { sku } } } } } }
    } } }"""
    variables = {"id": str(relay.GlobalID("Transport", str(transport.uuid)))}
    fast, ordinary, fast_count, ordinary_count = both_ways(
        client, query, bearer(make_staff()), variables
    )
    assert fast == ordinary
    assert fast_count == ordinary_count
    assert fast["data"]["node"]["batches"]["edges"]


@pytest.mark.engine
def test_only_relations_read_by_nothing_but_plain_nested_pages_are_fetched_this_way():
    relations = schema._schema.extensions[PAGE_RELATIONS]
    assert {
        (ShippingItem, "batches"),
        (ShippingBatch, "items"),
        (Transport, "batches"),
    } <= relations
    # `staffMembers` hints a prefetch of `staff_members`: it stays with Django's prefetch.
    assert not any(relation == "staff_members" for _, relation in relations)


class FakeField:
    """What page_relations reads of a strawberry-django field."""

    def __init__(self, name: str, hints: list) -> None:
        from strawberry_django.optimizer import OptimizerStore

        self.django_name = name
        self.python_name = name
        self.store = OptimizerStore.with_hints(prefetch_related=hints)


def test_a_relation_another_field_reads_or_hints_stays_with_djangos_prefetch(monkeypatch):
    monkeypatch.setattr(nested_pages, "StrawberryDjangoField", FakeField)
    fields: list[tuple[type, Any, bool]] = [
        (ShippingItem, FakeField("batches", []), True),
        (ShippingBatch, FakeField("items", []), True),
        (ShippingBatch, FakeField("items", []), False),  # e.g. a plain list of the same rows
        (Transport, FakeField("batches", []), True),
        (Transport, FakeField("status", ["batches__items"]), False),
    ]
    assert page_relations(fields) == {(ShippingItem, "batches")}
    computed_hint: list[tuple[type, Any, bool]] = [
        (ShippingItem, FakeField("uuid", [lambda info: None]), False)
    ]
    assert page_relations(fields[:1] + computed_hint) == frozenset()


ITEMS_OF_BATCHES = """query ($first: Int, $last: Int, $after: String, $before: String) {
  shippingBatches(first: 10) { edges { node { alias
    items(first: $first, last: $last, after: $after, before: $before) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { trackingNumber } }
    }
  } } }
}"""


def a_cursor_of_the_second_item(client, authorization: str) -> str:
    result = call_graphql(client, ITEMS_OF_BATCHES, {"first": 3}, authorization=authorization)
    pages = [edge["node"]["items"] for edge in result["data"]["shippingBatches"]["edges"]]
    return next(page["edges"][1]["cursor"] for page in pages if len(page["edges"]) >= 2)


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"first": 1},
        {"first": 2},
        {"last": 1},
        {"first": 2, "last": 1},
        {"after": 1},
        {"before": 1},
    ],
    ids=["all", "first-1", "first-2", "last-1", "first-and-last", "after", "before"],
)
def test_every_way_of_paging_a_nested_list_answers_as_django_prefetch_does(
    client, network, arguments
):
    authorization = bearer(make_staff())
    variables = dict(arguments)
    for side in ("after", "before"):
        if side in variables:
            variables[side] = a_cursor_of_the_second_item(client, authorization)
            variables["first" if side == "after" else "last"] = 2
    fast, ordinary, _, _ = both_ways(client, ITEMS_OF_BATCHES, authorization, variables)
    assert json.dumps(fast, sort_keys=True) == json.dumps(ordinary, sort_keys=True)
    assert any(edge["node"]["items"]["edges"] for edge in fast["data"]["shippingBatches"]["edges"])


@pytest.mark.engine
def test_a_list_too_long_to_fetch_whole_is_cut_by_the_window_and_remembered(client):
    """Pages are cut in Python when all rows fit what the window could return; a longer list
    costs one query more (rows read in vain), and its relation then uses the window directly."""
    make_batch(items=make_items(5))
    query = """{ shippingBatches(first: 1) { edges { node {
        items(first: 1) { totalCount edges { node { sku } } }
    } } } }"""
    authorization = bearer(make_staff())
    fast, ordinary, fast_count, ordinary_count = both_ways(client, query, authorization)
    assert fast == ordinary
    page = fast["data"]["shippingBatches"]["edges"][0]["node"]["items"]
    assert page["totalCount"] == 5 and len(page["edges"]) == 1
    assert fast_count == ordinary_count + 1
    _, _, fast_count, ordinary_count = both_ways(client, query, authorization)
    assert fast_count == ordinary_count


class InfoWithPageLimit:  # all apply_cursor_pagination reads of an Info
    class schema:
        class config:
            relay_max_results = 100


@pytest.mark.parametrize("arguments", [{"first": 5}, {"last": 3}, {"first": 0}, {}])
def test_an_unwindowed_page_gets_exactly_strawberry_djangos_window_when_it_needs_one(arguments):
    """PageBuilder takes the window off a page's slice and fetch_pages puts it back for long
    lists: the SQL must then be strawberry-django's own, or pages would differ."""
    pages = {"before": None, "after": None, "first": None, "last": None, **arguments}
    batches = ShippingBatch.objects.order_by("-id")
    info: Any = InfoWithPageLimit  # a stand-in for the Info
    library = apply_cursor_pagination(
        batches, related_field_id="items", info=info, max_results=100, **pages
    )[0]
    sliced = apply_cursor_pagination(batches, info=info, max_results=100, **pages)[0]
    unsliced = sliced.all()
    unsliced.query.clear_limits()
    limit = sliced.query.high_mark if sliced.query.is_sliced else default_page_limit()
    page = UnwindowedPage("batches", queryset=unsliced, related_field_id="items", limit=limit)
    assert " OVER " not in str(page.page_queryset.query)
    assert str(page.queryset.query) == str(library.query)  # what Django's prefetch runs


DIRECT_PAGES = """
query Pages($first: Int, $last: Int) { shippingItems(first: 10) { edges { node {
    batches(first: $first, last: $last) { pageInfo { hasNextPage hasPreviousPage }
      edges { node { alias } } }
} } } }
"""


@pytest.mark.parametrize(
    ("variables", "windows"),
    [({"first": 1}, 0), ({"last": 1}, 0), ({"first": 2, "last": 1}, 1), ({}, 0)],
    ids=["first", "last", "first-and-last", "whole-lists"],
)
@pytest.mark.engine
def test_a_many_to_many_page_from_one_end_is_read_without_the_window(
    client, network, variables, windows
):
    """Pages taken from one end are cut in Python; other shapes keep strawberry-django's window
    (the ordinary path always has it), and every answer is the ordinary path's."""
    staff = bearer(make_staff())
    with captured_sql() as fast_queries:
        fast = call_graphql(client, DIRECT_PAGES, variables, authorization=staff)
    with ordinary_execution(), captured_sql() as ordinary_queries:
        ordinary = call_graphql(client, DIRECT_PAGES, variables, authorization=staff)
    assert "errors" not in fast, fast["errors"]
    assert fast == ordinary
    assert any(edge["node"]["batches"]["edges"] for edge in fast["data"]["shippingItems"]["edges"])
    assert sum(" OVER " in sql for sql in fast_queries) == windows
    assert sum(" OVER " in sql for sql in ordinary_queries) == 1
    assert len(fast_queries) == len(ordinary_queries)


def test_pages_under_a_foreign_key_prefetch_stay_with_django_and_cost_no_extra_queries(
    client, network
):
    """A review found pages inside another prefetch (`batch.transport`) rewritten where Django's
    prefetch ran them: every parent then queried its page alone."""
    query = """{ shippingBatches(first: 10) { edges { node { transport { batches { edges { node {
        items(first: 2) { totalCount edges { node { sku } } }
    } } } } } } } }"""
    fast, ordinary, fast_count, ordinary_count = both_ways(client, query, bearer(make_staff()))
    assert fast == ordinary
    assert fast_count == ordinary_count


EMPTY_PAGES = {
    "first": "{ shippingItems(first: 50) { edges { node { sku"
    " batches(first: 2) { totalCount edges { node { alias } } } } } } }",
    "whole lists": "{ shippingItems(first: 50) { edges { node { sku"
    " batches { totalCount edges { node { alias } } } } } } }",
    "last": "{ shippingBatches(first: 50) { edges { node { alias"
    " items(last: 1) { totalCount edges { node { sku } } } } } } }",
}


@pytest.mark.parametrize("query", EMPTY_PAGES.values(), ids=EMPTY_PAGES.keys())
def test_empty_pages_count_nothing_in_sql_however_many_there_are(client, network, query):
    """A review found every empty page (an item in no batch, a batch with no item) counting its
    rows with one COUNT query each, once the window was off."""
    staff = bearer(make_staff())
    counts = []
    for empty in (0, 5):
        make_items(empty)  # in no batch
        for _ in range(empty):
            make_batch()  # holding no item
        fast, ordinary, fast_count, ordinary_count = both_ways(client, query, staff)
        assert fast == ordinary
        assert fast_count == ordinary_count
        counts.append(fast_count)
    assert counts[0] == counts[1]


def test_a_schema_without_our_optimizer_still_gets_windowed_pages(network):
    """The page builders sit on the shared field definitions: a schema built with plain
    strawberry-django (no NestedPageOptimizer) reads pages through Django's prefetch, which must
    get them with their window (so no COUNT query per parent, no whole lists)."""
    from types import SimpleNamespace

    import strawberry
    from strawberry_django.optimizer import DjangoOptimizerExtension

    from modules.shipping.graphql import schema as shipping_schema

    (travelled,) = make_items(1)
    for _ in range(3):  # closed batches, as after three trips
        BatchMembership.objects.create(batch=make_batch(), item=travelled, batch_open=False)
    make_items(3)  # in no batch: empty pages
    plain = strawberry.Schema(query=shipping_schema.Query, extensions=[DjangoOptimizerExtension])
    viewer = SimpleNamespace(is_staff=True, is_driver=False, user_uuid=None, is_authenticated=True)
    query = """{ shippingItems(first: 20) { edges { node { sku
        batches(first: 1) { totalCount pageInfo { hasNextPage } edges { node { alias } } }
    } } } }"""
    with CaptureQueriesContext(connection) as queries:
        result = plain.execute_sync(query, context_value=SimpleNamespace(principal=viewer))
    assert result.errors is None, result.errors
    assert result.data is not None
    pages = [edge["node"]["batches"] for edge in result.data["shippingItems"]["edges"]]
    assert any(page["totalCount"] > 1 and page["pageInfo"]["hasNextPage"] for page in pages)
    assert all(len(page["edges"]) <= 1 for page in pages)
    assert len(queries) == 2  # the items, then every item's page with its window
    assert " OVER " in queries[1]["sql"]


def test_pages_fetched_whole_never_build_the_window(client, network, monkeypatch):
    """The optimizer reads every lookup's queryset; an UnwindowedPage shows it the page without
    the window, which is built only for a page that needs it."""
    built = []
    windowed = UnwindowedPage.windowed

    def counting(self, queryset):
        built.append(self.prefetch_to)
        return windowed(self, queryset)

    monkeypatch.setattr(UnwindowedPage, "windowed", counting)
    query = """{ shippingItems(first: 20) { edges { node { trackingNumber
        batches(first: 3) { edges { node { alias } } } } } } }"""
    fast, ordinary, fast_count, ordinary_count = both_ways(client, query, bearer(make_staff()))
    assert fast == ordinary and fast_count == ordinary_count
    assert any(edge["node"]["batches"]["edges"] for edge in fast["data"]["shippingItems"]["edges"])
    assert built == []


def test_many_to_many_rows_find_their_parent_whatever_type_their_key_comes_back_as(network):
    """Integer keys are compared as they are; any other value (a driver may return text) goes
    through Django's own key, which prepares it as the database would."""
    from types import SimpleNamespace

    item = ShippingItem.objects.filter(batches__isnull=False).first()
    assert item is not None
    manager: Any = item.batches  # its private prefetch API, which the stubs leave out
    _, row_key, parent_key, *_ = manager.get_prefetch_querysets([item])
    row_key, parent_key = nested_pages.integer_keys(manager, row_key, parent_key)
    link = manager.through._meta.get_field(manager.source_field_name)  # BatchMembership.item
    attribute = f"_prefetch_related_val_{link.attname}"

    as_integer = SimpleNamespace(**{attribute: item.pk})
    as_text = SimpleNamespace(**{attribute: str(item.pk)})
    assert row_key(as_integer) == row_key(as_text) == parent_key(item)
    assert row_key(SimpleNamespace(**{attribute: item.pk + 1})) != parent_key(item)
