"""Selection plans (schema/plans.py) where a review found them answering unlike the ordinary path.

Each test runs twice: `plans` (the default execution) and `ordinary` (inside
`ordinary_execution()`); both must pass.
"""

from __future__ import annotations

import gc
import json

import pytest

from schema.engine import ordinary_execution
from tests.conftest import bearer, call_graphql
from tests.factories import make_staff

pytestmark = pytest.mark.django_db

WAYS = pytest.mark.parametrize("ordinary", [False, True], ids=["plans", "ordinary"])


def run(client, query, ordinary, variables=None, authorization=None):
    if ordinary:
        with ordinary_execution():
            return call_graphql(client, query, variables, authorization=authorization)
    return call_graphql(client, query, variables, authorization=authorization)


def nested_pages(result):
    """The `batches` page of every transport, in order."""
    assert "errors" not in result, result["errors"]
    return [edge["node"]["batches"] for edge in result["data"]["transports"]["edges"]]


# 1. Aliased `edges` / `pageInfo` of a nested page keep their own selections ---------------


@WAYS
def test_aliased_edges_of_a_nested_page_keep_their_own_selections(client, network, ordinary):
    query = """{ transports(first: 10) { edges { node { uuid
        batches(first: 5) { cursorsOnly: edges { cursor } nodesOnly: edges { node { alias } } }
    } } } }"""
    pages = nested_pages(run(client, query, ordinary, authorization=bearer(make_staff())))
    assert any(page["cursorsOnly"] for page in pages)
    for page in pages:
        assert all(list(edge) == ["cursor"] for edge in page["cursorsOnly"]), page
        assert all(list(edge) == ["node"] for edge in page["nodesOnly"]), page


@WAYS
def test_aliased_edges_with_the_same_node_alias_keep_their_own_node_selections(
    client, network, ordinary
):
    query = """{ transports(first: 10) { edges { node { uuid
        batches(first: 5) { x: edges { n: node { alias } } y: edges { n: node { uuid } } }
    } } } }"""
    pages = nested_pages(run(client, query, ordinary, authorization=bearer(make_staff())))
    assert any(page["x"] for page in pages)
    for page in pages:
        assert all(list(edge["n"]) == ["alias"] for edge in page["x"]), page
        assert all(list(edge["n"]) == ["uuid"] for edge in page["y"]), page


@WAYS
def test_aliased_page_infos_of_a_nested_page_keep_their_own_selections(client, network, ordinary):
    query = """{ transports(first: 10) { edges { node { uuid
        batches(first: 5) {
          edges { node { alias } } a: pageInfo { hasNextPage } b: pageInfo { endCursor }
        }
    } } } }"""
    pages = nested_pages(run(client, query, ordinary, authorization=bearer(make_staff())))
    for page in pages:
        assert list(page["a"]) == ["hasNextPage"], page
        assert list(page["b"]) == ["endCursor"], page


def test_aliased_nested_page_selections_answer_byte_for_byte_as_the_ordinary_path(client, network):
    """The same, as the equivalence tests of test_execution_shortcuts.py state it."""
    query = """{ transports(first: 10) { edges { node { uuid
        batches(first: 5) { c: edges { cursor } e: edges { node { alias } }
                            a: pageInfo { hasNextPage } b: pageInfo { endCursor } }
    } } } }"""
    staff = bearer(make_staff())
    fast = run(client, query, ordinary=False, authorization=staff)
    ordinary = run(client, query, ordinary=True, authorization=staff)
    assert json.dumps(fast) == json.dumps(ordinary)


# 2. Plans do not keep request documents alive ----------------------------------------------


def _live_sources_holding(marker: str) -> int:
    from graphql import Source

    gc.collect()
    # `type(o) is`, not isinstance: isinstance would wake Django's lazy objects (GEOS, ...).
    return sum(1 for o in gc.get_objects() if type(o) is Source and marker in o.body)


@WAYS
def test_documents_are_not_kept_alive_once_the_parser_cache_drops_them(client, ordinary, settings):
    """Plans must not keep field nodes alive: a node's `loc` links its document's whole token
    chain and its Source, so a cache holding nodes would pin the complete request text (here an
    anonymous introspection request carrying a large literal) after the parser and validation
    caches let go of it."""
    from strawberry.extensions.parser_cache import _get_parse_cache
    from strawberry.extensions.validation_cache import _get_validate_cache

    settings.GRAPHQL_MAX_DOCUMENT_CHARS = 200_000
    marker = f"pinned-{ordinary}-" + "x" * 100_000
    query = f'{{ __schema {{ queryType {{ name }} }} t: __type(name: "{marker}") {{ name }} }}'
    result = run(client, query, ordinary)  # anonymous
    assert result["data"]["__schema"] == {"queryType": {"name": "Query"}}
    _get_parse_cache(512).cache_clear()  # type: ignore[attr-defined]  # a functools cache, typed as a callable
    _get_validate_cache(512).cache_clear()  # type: ignore[attr-defined]  # a functools cache, typed as a callable
    assert _live_sources_holding(marker) == 0


# 6. A plan asks a type's is_type_of once per class of value, where only the class decides ------


def test_a_plan_still_refuses_values_of_another_class_or_cast_to_another_type(network):
    from graphql import GraphQLObjectType
    from strawberry import cast
    from strawberry.types.cast import TYPE_CAST_ATTRIBUTE

    from modules.shipping.graphql.types import ShippingBatch as ShippingBatchType
    from modules.shipping.models import ShippingBatch, ShippingItem
    from schema.engine.plans import ACCEPTED_CLASSES, class_type_check
    from schema.root import schema

    item_type = schema._schema.type_map["ShippingItem"]
    assert isinstance(item_type, GraphQLObjectType)
    check = class_type_check(item_type)
    assert check is not None
    item, other_item = ShippingItem.objects.all()[:2]
    assert check(item, None) is True
    assert check(other_item, None) is True  # the class was accepted: not asked again
    assert check(ShippingBatch.objects.first(), None) is False
    assert check(cast(ShippingBatchType, other_item), None) is False  # cast: asked every time
    # What a plan's completion reads instead of calling the check: the classes accepted, whose
    # instances show a cast of their own in their __dict__ (as other_item's does now).
    assert getattr(check, ACCEPTED_CLASSES) == {ShippingItem}
    assert TYPE_CAST_ATTRIBUTE in other_item.__dict__

    asked = []

    def is_type_of(value, info):
        asked.append(value)
        return True

    own = GraphQLObjectType("Own", {}, is_type_of=is_type_of)
    own_check = class_type_check(own)
    assert own_check is not None
    own_check(item, None)
    own_check(item, None)
    assert asked == [item, item]  # a type's own is_type_of may look at more than the class


def test_what_a_plan_takes_for_its_type_without_asking_shows_no_cast_elsewhere(network):
    """A proxy (Django's SimpleLazyObject, as request.user is) keeps a cast on the object it
    wraps, not in its own __dict__: its class is checked, never taken as accepted. An error is
    refused whatever its class: graphql-core reports an error returned as a value."""
    from django.utils.functional import SimpleLazyObject
    from graphql import GraphQLObjectType
    from strawberry import cast

    from modules.shipping.graphql.types import ShippingBatch as ShippingBatchType
    from modules.shipping.models import ShippingItem
    from schema.engine.plans import ACCEPTED_CLASSES, class_type_check
    from schema.root import schema

    item_type = schema._schema.type_map["ShippingItem"]
    assert isinstance(item_type, GraphQLObjectType)
    check = class_type_check(item_type)
    assert check is not None
    item, other_item = ShippingItem.objects.all()[:2]
    lazy = SimpleLazyObject(lambda: item)
    assert check(lazy, None) is True
    assert getattr(check, ACCEPTED_CLASSES) == set()  # not where a plan skips the check
    assert check(cast(ShippingBatchType, SimpleLazyObject(lambda: other_item)), None) is False

    class Oops(Exception):
        pass

    def is_type_of(value, info):
        return isinstance(value, Oops)

    is_type_of.__module__ = "strawberry.schema.schema_converter"  # as Strawberry's own
    oops_check = class_type_check(GraphQLObjectType("Oops", {}, is_type_of=is_type_of))
    assert oops_check is not None and oops_check is not is_type_of
    assert oops_check(Oops(), None) is False
    assert getattr(oops_check, ACCEPTED_CLASSES) == set()


def test_a_column_a_scalar_leaves_undefined_is_completed_the_ordinary_way():
    from graphql import GraphQLScalarType, Undefined

    from schema.engine.execution import Column, Fallback
    from schema.engine.plans import PlanRun

    odd = GraphQLScalarType("Odd", serialize=lambda value: Undefined if value == "skip" else value)
    read = Column(attname="note", type=odd, nullable=True).read

    class Row:
        def __init__(self, note):
            self.note = note

    run = PlanRun(executor=None, info=None)  # a column reads neither
    assert read(Row("kept"), run) == "kept"
    with pytest.raises(Fallback):
        read(Row("skip"), run)


# 5. A row many rows point at (a center) is completed once per selection ----------------------


@WAYS
def test_a_shared_row_answers_each_selection_of_it_with_that_selection(client, network, ordinary):
    """The items of the arrived transport share its destination's row; each alias of the center
    keeps its own fields."""
    query = """{ shippingItems(first: 20) { edges { node { trackingNumber
        here: currentCenter { name } there: currentCenter { centerCode name __typename }
    } } } }"""
    result = run(client, query, ordinary, authorization=bearer(make_staff()))
    assert "errors" not in result, result["errors"]
    nodes = [edge["node"] for edge in result["data"]["shippingItems"]["edges"]]
    at_centers = [node for node in nodes if node["here"] is not None]
    assert len(at_centers) > 1
    for node in at_centers:
        assert list(node["here"]) == ["name"]
        assert list(node["there"]) == ["centerCode", "name", "__typename"]
        assert node["there"]["name"] == node["here"]["name"]
        assert node["there"]["__typename"] == "DistributionCenter"


def test_plans_are_kept_by_identity_and_go_with_their_document():
    """Keyed by identity (a hash of a graphql-core AST node walks its whole subtree), and weakly."""
    from schema.engine.identity import IdentityMap

    class Document:  # equal to every other, as AST nodes of the same text are
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = object.__hash__

    kept: IdentityMap[str] = IdentityMap()
    first, second = Document(), Document()
    kept[first] = "plans of the first"
    assert kept.get(first) == "plans of the first"
    assert kept.get(second) is None  # equal, yet another document
    del first
    gc.collect()
    assert len(kept) == 0
