"""Query cost (schema/guard/cost.py): what an operation is charged before and after it runs, and
the refusal of operations above GRAPHQL_MAX_COST before any resolver runs."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from graphql import FragmentDefinitionNode, parse
from graphql.utilities import get_operation_ast

from schema.guard.cost import requested_cost
from schema.guard.extension import rules_for
from schema.root import schema
from tests.conftest import bearer, call_graphql
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


def cost_of(document: str, variables: dict | None = None) -> int:
    parsed = parse(document)
    operation = get_operation_ast(parsed)
    assert operation is not None
    fragments = {
        d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walked = requested_cost(rules_for(schema._schema), operation, fragments, variables)
    assert walked.refusals == []
    return walked.cost


# A transport connection of 5: the connection 1, then 5 x (edge 1 + node 1).
FIVE_TRANSPORTS = "transports(first: 5) { edges { node { uuid status } } }"


def test_scalars_cost_nothing_and_objects_one():
    assert cost_of("{ __typename }") == 0
    assert cost_of("{ me { uuid username } }") == 1


def test_a_connection_multiplies_its_edges_by_its_slice():
    assert cost_of("{ " + FIVE_TRANSPORTS + " }") == 1 + 5 * 2
    # pageInfo is one object, totalCount a scalar: neither is multiplied.
    assert cost_of("{ transports(first: 5) { totalCount pageInfo { hasNextPage } } }") == 2


def test_the_slice_may_come_from_a_variable():
    query = "query($n: Int) { transports(first: $n) { edges { node { uuid } } } }"
    assert cost_of(query, {"n": 7}) == 1 + 7 * 2
    assert cost_of(query, {"n": 0}) == 1
    # No slice: the default page size.
    assert cost_of(query, {}) == 1 + 100 * 2


def test_last_slices_too_and_the_larger_of_both_counts():
    assert cost_of("{ transports(last: 3) { edges { node { uuid } } } }") == 1 + 3 * 2
    assert cost_of("{ transports(first: 2, last: 4) { edges { node { uuid } } } }") == 1 + 4 * 2


def test_nested_connections_multiply():
    query = """{ transports(first: 5) { edges { node {
        batches(first: 3) { edges { node { alias } } } } } } }"""
    # 1 + 5 x (edge 1 + node 1 + batches (1 + 3 x 2))
    assert cost_of(query) == 1 + 5 * (2 + 1 + 3 * 2)


def test_a_fragment_costs_its_selection_at_each_use():
    fragment = "fragment T on TransportCursorConnection { edges { node { uuid } } }"
    once = cost_of("{ a: transports(first: 5) { ...T } } " + fragment)
    twice = cost_of(
        "{ a: transports(first: 5) { ...T } b: transports(first: 2) { ...T } } " + fragment
    )
    assert once == 1 + 5 * 2
    assert twice == once + 1 + 2 * 2


def test_aliases_of_one_connection_each_cost():
    single = cost_of("{ " + FIVE_TRANSPORTS + " }")
    assert cost_of("{ a: " + FIVE_TRANSPORTS + " b: " + FIVE_TRANSPORTS + " }") == 2 * single


def test_skip_and_include_follow_the_variables():
    query = (
        "query($skip: Boolean!) { me { uuid } "
        + FIVE_TRANSPORTS.replace("transports(first: 5)", "transports(first: 5) @skip(if: $skip)")
        + " }"
    )
    assert cost_of(query, {"skip": True}) == 1
    assert cost_of(query, {"skip": False}) == 1 + 11


def test_a_mutation_adds_ten():
    query = 'mutation { createShippingItem(input: { sku: "S" }) { errors { code } } }'
    # The payload object 1 + 10 for the mutation; errors: a list of objects, default size.
    assert cost_of(query) == 11 + 100


def test_where_fragments_narrow_an_abstract_type_the_costliest_counts():
    query = """query($id: ID!) { node(id: $id) { id
        ... on Transport { batches(first: 4) { edges { node { alias } } } }
        ... on ShippingItem { batches(first: 2) { edges { node { alias } } } } } }"""
    assert cost_of(query, {"id": "x"}) == 1 + (1 + 4 * 2)


def test_list_size_and_cost_directives_are_in_the_schema_and_applied():
    sdl = schema.as_str()
    # The argument's description comes between the parentheses.
    cost_directive = sdl[sdl.index("directive @cost(") :].split(" on ", 1)
    assert "weight: Int!" in cost_directive[0]
    assert cost_directive[1].startswith("FIELD_DEFINITION | OBJECT")
    assert "directive @listSize(" in sdl
    assert "staff: [User!]! @listSize(assumedSize: 50)" in sdl
    query = '{ distributionCenter(centerCode: "X") { staff { uuid } } }'
    assert cost_of(query) == 1 + 50 * 1


def test_a_field_with_a_weight_costs_it():
    assert "systemStatus: SystemStatus! @cost(weight: 15)" in schema.as_str()
    assert cost_of("{ systemStatus { pendingEvents } }") == 15


def test_introspection_costs_nothing():
    assert cost_of("{ __schema { types { name fields { name } } } }") == 0


# --- over HTTP ---------------------------------------------------------------------------------


def test_every_response_reports_requested_and_actual_cost(client, network):
    staff = bearer(make_staff())
    answer = call_graphql(
        client, "{ transports(first: 50) { edges { node { uuid } } } }", authorization=staff
    )
    returned = len(answer["data"]["transports"]["edges"])
    cost = answer.extensions["cost"]
    assert cost["requestedQueryCost"] == 1 + 50 * 2
    assert 0 < returned < 50
    assert cost["actualQueryCost"] == 1 + returned * 2
    status = cost["throttleStatus"]
    assert (status["maximumAvailable"], status["restoreRate"]) == (2000, 100.0)
    # The unused part of the requested cost came back (and the bucket refills meanwhile).
    assert 2000 - cost["actualQueryCost"] <= status["currentlyAvailable"] <= 2000


def test_an_operation_at_the_limit_runs_and_one_above_is_refused_before_any_resolver(
    client, settings
):
    staff = bearer(make_staff())
    query = "{ transports(first: 50) { edges { node { uuid } } } }"  # costs 101
    settings.GRAPHQL_MAX_COST = 101
    assert "errors" not in call_graphql(client, query, authorization=staff)
    settings.GRAPHQL_MAX_COST = 100
    with CaptureQueriesContext(connection) as queries:
        refused = call_graphql(client, query, authorization=staff)
    assert refused.error_codes == ["QUERY_TOO_COSTLY"]
    assert refused["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COSTLY",
        "cost": 101,
        "limit": 100,
    }
    assert "data" not in refused
    # Only the caller's authentication read the database: no resolver ran.
    assert not [q for q in queries.captured_queries if "shipping_transport" in q["sql"]]


def test_a_refused_mutation_changes_nothing(client, settings):
    from modules.shipping.models import ShippingItem

    settings.GRAPHQL_MAX_COST = 50
    staff = bearer(make_staff())
    answer = call_graphql(
        client,
        'mutation { createShippingItem(input: { sku: "S" }) { errors { code } } }',
        authorization=staff,
    )
    assert answer.error_codes == ["QUERY_TOO_COSTLY"]
    assert not ShippingItem.objects.exists()


def test_a_variables_default_counts_as_execution_will_use_it(client, settings):
    """`@include(if: $all)` with `$all` defaulting to true, sent without variables: the field
    runs, so it is priced."""
    settings.GRAPHQL_MAX_COST = 100
    query = (
        "query($all: Boolean = true, $n: Int = 60) { me { uuid } "
        "transports(first: $n) @include(if: $all) { edges { node { uuid } } } }"
    )
    refused = call_graphql(client, query, authorization=bearer(make_staff()))
    assert refused.error_codes == ["QUERY_TOO_COSTLY"]
    assert refused["errors"][0]["extensions"]["cost"] == 1 + 1 + 60 * 2


def test_fields_repeated_under_one_response_key_are_all_charged(client, network):
    """graphql-core merges `transports { totalCount } transports { edges ... }`: both run, and
    the actual cost counts the edges the second one returned."""
    query = (
        "{ transports(first: 50) { totalCount } transports(first: 50) { edges { node { uuid } } } }"
    )
    answer = call_graphql(client, query, authorization=bearer(make_staff()))
    returned = len(answer["data"]["transports"]["edges"])
    assert returned > 0
    assert answer.extensions["cost"]["actualQueryCost"] == 1 + returned * 2


def test_an_invalid_subscription_is_left_to_validation_not_priced():
    from schema.guard.extension import admit_subscription

    for document in (
        "subscription { ... on Nope { ... on Other { x } } }",
        "subscription { domainEvents { nope } }",
    ):
        assert admit_subscription(schema._schema, document, None, {}, None) is None


def test_a_document_sent_again_is_charged_for_what_this_run_returned(client):
    """The pricing plans outlive the request (per parsed document); the counts never do."""
    from tests.shipping.factories import make_items

    staff = bearer(make_staff())
    query = (
        "{ shippingItems(first: 10) { edges { node { uuid batches(first: 2) { totalCount } } } } }"
    )
    make_items(2)
    first = call_graphql(client, query, authorization=staff).extensions["cost"]
    make_items(3)
    again = call_graphql(client, query, authorization=staff).extensions["cost"]
    # The connection 1, then per item its edge, its node and its batches' connection.
    assert (first["actualQueryCost"], again["actualQueryCost"]) == (1 + 2 * 3, 1 + 5 * 3)
    assert first["requestedQueryCost"] == again["requestedQueryCost"]


def test_an_abstract_field_is_charged_through_the_fragment_of_what_it_returned(client, network):
    """`node(id:)` returns an interface: the fragment of the object's own type is charged, the
    other type's fragment is not."""
    from strawberry.relay import to_base64

    from modules.shipping.models import ShippingItem

    item = ShippingItem.objects.order_by("id").first()
    assert item is not None
    query = (
        "query($id: ID!) { node(id: $id) {"
        " ... on ShippingItem { batches { edges { node { alias } } } }"
        " ... on Transport { sourceCenter { name } destinationCenter { name } } } }"
    )
    answer = call_graphql(
        client,
        query,
        {"id": to_base64("ShippingItem", item.uuid)},
        authorization=bearer(make_staff()),
    )
    batches = len(answer["data"]["node"]["batches"]["edges"])
    assert batches == 1
    # node 1, its batches connection 1, each batch's edge and node 2
    assert answer.extensions["cost"]["actualQueryCost"] == 1 + 1 + batches * 2
