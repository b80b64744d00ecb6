"""The optimizer's walk kept per selection (schema/hint_cache.py).

Keeping it changes how often the selection is walked, never what a caller gets: a later caller
with other rights, other variables or another document gets their own rows, exactly as the
ordinary path (inside `ordinary_execution()`) gives them.
"""

from __future__ import annotations

import pytest
import strawberry
import strawberry_django
from strawberry_django.optimizer import OptimizerStore

from modules.shipping.models import BatchMembership, ShippingBatch
from schema.engine import hint_cache
from schema.engine.execution import NestedPageOptimizer, apply_shortcuts, ordinary_execution
from schema.engine.hint_cache import STATIC_HINTS, hints_are_static
from schema.engine.nested_pages import PageBuilder
from schema.root import schema
from tests.conftest import bearer, call_graphql, captured_sql
from tests.factories import make_staff
from tests.shipping.factories import make_batch

# Deep reads that cost more than the public limit: what they check is how the engine reads them.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("uncapped_cost")]

ITEMS = """
query Items($batches: Int) { shippingItems(first: 20) { edges { node { trackingNumber
    batches(first: $batches) { edges { node { alias } } }
} } } }
"""

# A driver sees their own transports, those transports' batches and items, and of each item's
# batches only those on their transports.
TRANSPORTS = """
{ transports(first: 10) { edges { node { status batches(first: 5) { edges { node { alias
    items(first: 5) { edges { node { trackingNumber
        batches(first: 5) { edges { node { alias } } }
    } } }
} } } } } } }
"""


@pytest.fixture(autouse=True)
def nothing_kept():
    hint_cache.forget_kept_stores()
    yield
    hint_cache.forget_kept_stores()


@pytest.fixture
def walks(monkeypatch):
    """How many times a selection was walked."""
    counted = []
    walk = hint_cache._walk

    def counting(*args, **kwargs):
        counted.append(args[0])
        return walk(*args, **kwargs)

    monkeypatch.setattr(hint_cache, "_walk", counting)
    return counted


def aliases_by_item(item_edges) -> dict[str, list[str]]:
    """Tracking number -> the aliases of the item's batches."""
    return {
        edge["node"]["trackingNumber"]: [
            b["node"]["alias"] for b in edge["node"]["batches"]["edges"]
        ]
        for edge in item_edges
    }


def batches_by_item(answer) -> dict[str, list[str]]:
    assert "errors" not in answer, answer["errors"]
    return aliases_by_item(answer["data"]["shippingItems"]["edges"])


@pytest.mark.engine
def test_our_schema_keeps_walks(network):
    assert schema._schema.extensions[STATIC_HINTS] is True


@pytest.mark.engine
def test_a_selection_is_walked_once_and_answers_the_same(client, network, walks):
    staff = bearer(make_staff())
    first = call_graphql(client, ITEMS, {"batches": 5}, authorization=staff)
    walked = len(walks)
    second = call_graphql(client, ITEMS, {"batches": 5}, authorization=staff)
    with ordinary_execution():
        ordinary = call_graphql(client, ITEMS, {"batches": 5}, authorization=staff)
    assert walked == 2  # the items, and the page of batches inside them
    assert len(walks) == walked
    assert first == second == ordinary


def item_batches_on_transports(answer) -> dict[str, list[str]]:
    assert "errors" not in answer, answer["errors"]
    return aliases_by_item(
        item
        for transport in answer["data"]["transports"]["edges"]
        for batch in transport["node"]["batches"]["edges"]
        for item in batch["node"]["items"]["edges"]
    )


@pytest.mark.engine
def test_a_kept_selection_gives_each_caller_only_their_own_nested_rows(client, network, walks):
    """The item pages' walks are kept from a staff member's request; the driver's pages are
    built for the driver."""
    driver, _ = network["drivers"]
    staff = bearer(make_staff())
    before = item_batches_on_transports(
        call_graphql(client, TRANSPORTS, authorization=bearer(driver))
    )
    # One of the driver's items (delivered) was also in a batch on no transport of theirs.
    shared = sorted(before)[0]
    extra = make_batch()
    BatchMembership.objects.create(batch=extra, item=_item(shared), batch_open=False)
    hint_cache.forget_kept_stores()

    as_staff = item_batches_on_transports(call_graphql(client, TRANSPORTS, authorization=staff))
    walked = len(walks)
    as_driver = item_batches_on_transports(
        call_graphql(client, TRANSPORTS, authorization=bearer(driver))
    )
    with ordinary_execution():
        ordinary = item_batches_on_transports(
            call_graphql(client, TRANSPORTS, authorization=bearer(driver))
        )
    assert sorted(as_staff[shared]) == sorted([*before[shared], extra.alias])
    assert as_driver == ordinary == before
    assert len(as_staff) > len(as_driver)
    # Nothing was walked again: each request's pages, reverse foreign-key ones (a transport's
    # batches) among them, are built for its caller from the kept walk.
    assert walks[walked:] == []


# A transport's batches are a reverse foreign-key page; each batch's transport is its parent,
# whose `status` the walk adds to the transports' columns.
TRANSPORT_BATCHES = """
query Transports($batches: Int) { transports(first: 10) { edges { node { status
    batches(first: $batches) { totalCount edges { node { alias transport { status } } } }
} } } }
"""


@pytest.mark.engine
def test_a_kept_reverse_foreign_key_page_is_built_by_each_requests_variables(
    client, network, walks
):
    staff = bearer(make_staff())
    call_graphql(client, TRANSPORT_BATCHES, {"batches": 1}, authorization=staff)
    walked = len(walks)
    answers = {}
    for size in (1, 2):
        with captured_sql() as kept_queries:
            answers[size] = call_graphql(
                client, TRANSPORT_BATCHES, {"batches": size}, authorization=staff
            )
        with ordinary_execution(), captured_sql() as ordinary_queries:
            ordinary = call_graphql(
                client, TRANSPORT_BATCHES, {"batches": size}, authorization=staff
            )
        assert answers[size] == ordinary
        assert len(kept_queries) == len(ordinary_queries)
    assert len(walks) == walked
    for size, answer in answers.items():
        pages = [edge["node"]["batches"] for edge in answer["data"]["transports"]["edges"]]
        assert max(page["totalCount"] for page in pages) >= 2
        assert all(len(page["edges"]) == min(size, page["totalCount"]) for page in pages)


def _item(tracking_number: str):
    from modules.shipping.models import ShippingItem

    return ShippingItem.objects.get(tracking_number=tracking_number)


def test_a_kept_selection_pages_by_each_requests_variables(client, network, walks):
    """Page arguments are read when each request's pages are built: one walk serves them all."""
    staff = bearer(make_staff())
    items = batches_by_item(call_graphql(client, ITEMS, {"batches": 5}, authorization=staff))
    shared = next(number for number, aliases in sorted(items.items()) if aliases)
    BatchMembership.objects.create(batch=make_batch(), item=_item(shared), batch_open=False)
    walked = len(walks)
    one = batches_by_item(call_graphql(client, ITEMS, {"batches": 1}, authorization=staff))
    two = batches_by_item(call_graphql(client, ITEMS, {"batches": 2}, authorization=staff))
    assert len(walks) == walked
    assert len(one[shared]) == 1 and len(two[shared]) == 2


def test_rows_of_a_list_share_the_walk_of_their_selection(client, network, walks):
    """Aliases of one page with other arguments are resolved row by row: walked once."""
    query = """{ shippingItems(first: 20) { edges { node { trackingNumber
        one: batches(first: 1) { edges { node { alias } } }
        two: batches(first: 2) { edges { node { alias } } } } } } }"""
    staff = bearer(make_staff())
    answer = call_graphql(client, query, authorization=staff)
    with ordinary_execution():
        ordinary = call_graphql(client, query, authorization=staff)
    assert answer == ordinary
    assert len(answer["data"]["shippingItems"]["edges"]) > 3
    assert len(walks) <= 3  # the items, and each alias's page once, not once per item


def test_skipped_fields_are_part_of_the_selection(client, network):
    """A selection kept without a field still prefetches it when a variable includes it."""
    query = """query Items($aliases: Boolean!) { shippingItems(first: 20) { edges { node {
        trackingNumber batches @include(if: $aliases) { edges { node { alias } } } } } } }"""
    staff = bearer(make_staff())
    without = call_graphql(client, query, {"aliases": False}, authorization=staff)
    with captured_sql() as kept_queries:
        with_aliases = call_graphql(client, query, {"aliases": True}, authorization=staff)
    with ordinary_execution(), captured_sql() as ordinary_queries:
        ordinary = call_graphql(client, query, {"aliases": True}, authorization=staff)
    nodes = [edge["node"] for edge in without["data"]["shippingItems"]["edges"]]
    assert nodes and all("batches" not in node for node in nodes)
    assert with_aliases == ordinary
    assert len(kept_queries) == len(ordinary_queries)


def test_a_callable_hint_of_any_field_turns_keeping_off():
    def builder(info):  # a PageBuilder stand-in: ours, and allowed
        raise AssertionError

    ours = OptimizerStore.with_hints(prefetch_related=[builder])
    theirs = OptimizerStore.with_hints(prefetch_related=[lambda info: "batches"])  # type: ignore[list-item, return-value]  # a stand-in hint
    annotated = OptimizerStore.with_hints(annotate={"n": lambda info: None})  # type: ignore[dict-item, return-value]  # a stand-in hint

    def is_ours(hint):
        return hint is builder or isinstance(hint, PageBuilder)

    assert hints_are_static([ours], [None], [], is_ours) is True
    assert hints_are_static([], [ours, theirs], [], is_ours) is False
    assert hints_are_static([annotated], [], [], is_ours) is False


def test_a_model_property_with_a_callable_hint_turns_keeping_off():
    class WithProperty:
        counted = type(
            "Property",
            (),
            {"store": OptimizerStore.with_hints(prefetch_related=[len])},  # type: ignore[list-item]  # a stand-in hint
        )()

    assert hints_are_static([], [], [WithProperty], lambda hint: False) is False


@pytest.mark.engine
def test_kept_selections_are_bounded(client, network, monkeypatch):
    monkeypatch.setattr(hint_cache, "KEPT_SELECTIONS", 3)
    staff = bearer(make_staff())
    for first in range(1, 6):  # five documents
        query = f"{{ shippingItems(first: {first}) {{ edges {{ node {{ trackingNumber }} }} }} }}"
        answer = call_graphql(client, query, authorization=staff)
        assert len(answer["data"]["shippingItems"]["edges"]) == first
    assert len(hint_cache._kept) == 3


hint_calls: list[object] = []


def items_hint(info) -> str:
    hint_calls.append(info)
    return "items"


@strawberry_django.type(ShippingBatch, name="HintedBatch")
class HintedBatch:
    alias: strawberry.auto
    hinted_alias: str = strawberry_django.field(field_name="alias", prefetch_related=[items_hint])  # type: ignore[list-item]  # a path from a callable: run, but typed as a Prefetch


@strawberry.type
class HintedQuery:
    batches: list[HintedBatch] = strawberry_django.field()


def test_a_schema_with_a_callable_hint_walks_every_request(network):
    """A hint computed per request (here a callable `prefetch_related`) may depend on the caller:
    such a schema keeps no walk."""
    hinted = strawberry.Schema(query=HintedQuery, extensions=[NestedPageOptimizer])
    apply_shortcuts(hinted._schema, hinted.config.info_class)
    assert hinted._schema.extensions[STATIC_HINTS] is False
    hint_calls.clear()
    for _ in range(2):
        result = hinted.execute_sync("{ batches { hintedAlias } }")
        assert result.errors is None and result.data is not None and result.data["batches"]
    assert len(hint_calls) == 2
