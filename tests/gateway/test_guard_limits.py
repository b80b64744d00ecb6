"""The rest of the guard: document size and directives, introspection, suggestions, paging
arguments, absurd JSON, and documents whose fragments fan out."""

from __future__ import annotations

import json

import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from schema.guard import document_limits
from tests.conftest import bearer, call_graphql
from tests.factories import make_driver, make_staff

pytestmark = pytest.mark.django_db


def post(client, body: str, **headers):
    return client.post("/graphql/", body, content_type="application/json", **headers)


# --- size, directives ---------------------------------------------------------------------------


def test_a_document_at_the_size_limit_runs_and_one_character_more_is_refused(gql, settings):
    query = "{ __typename }"
    settings.GRAPHQL_MAX_DOCUMENT_CHARS = len(query)
    assert gql(query)["data"] == {"__typename": "Query"}
    settings.GRAPHQL_MAX_DOCUMENT_CHARS = len(query) - 1
    refused = gql(query, expect_errors=True)
    assert refused.error_codes == ["DOCUMENT_TOO_LARGE"]
    assert refused["errors"][0]["extensions"]["allowed"] == len(query) - 1


def directives(count: int) -> str:
    return "{ " + " ".join(f"a{i}: __typename @include(if: true)" for i in range(count)) + " }"


def test_directives_up_to_the_limit_run_and_one_more_is_refused(gql, settings):
    settings.GRAPHQL_MAX_ALIASES = 100
    settings.GRAPHQL_MAX_DIRECTIVES = 50
    assert len(gql(directives(50))["data"]) == 50
    refused = gql(directives(51), expect_errors=True)
    assert refused.error_codes == ["QUERY_TOO_COMPLEX"]
    assert refused["errors"][0]["extensions"]["limit"] == "directives"


def test_aliases_and_depth_count_through_fragments(gql):
    fragment = "fragment A on Query { " + " ".join(f"a{i}: __typename" for i in range(16)) + " }"
    assert "errors" not in gql("{ ...A } " + fragment)  # 16 aliases
    refused = gql("{ ...A ... on Query { ...A } } " + fragment, expect_errors=True)
    assert refused.error_codes == ["QUERY_TOO_COMPLEX"]  # 32 > 30


# --- fragments that fan out ---------------------------------------------------------------------


def fanning_out(levels: int, leaf: str = "__typename") -> str:
    """Each fragment spreads the one before twice: 2^levels fields once expanded."""
    fragments = [f"fragment F0 on Query {{ {leaf} }}"] + [
        f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels)
    ]
    return f"query {{ ...F{levels - 1} }} " + " ".join(fragments)


def test_a_fanning_out_document_of_2_kb_is_measured_node_by_node(gql, monkeypatch):
    """50 levels: 2^50 fields once expanded. The limits visit each fragment once (no timing
    here: the count of visits is what stays linear), and the answer comes back."""
    query = fanning_out(50)
    assert 1900 < len(query) < 2100
    visits = []
    selection = document_limits._Measurer.selection

    def counted(self, node):
        visits.append(node)
        return selection(self, node)

    monkeypatch.setattr(document_limits._Measurer, "selection", counted)
    assert gql(query)["data"] == {"__typename": "Query"}
    nodes = 1 + 2 * 49  # the leaf, and two spreads in each other fragment, plus the root spread
    assert len(visits) <= nodes + 1


def test_a_fanning_out_document_of_aliases_is_refused_by_its_expanded_count(gql):
    refused = gql(fanning_out(50, leaf="a: __typename"), expect_errors=True)
    assert refused.error_codes == ["QUERY_TOO_COMPLEX"]
    assert refused["errors"][0]["extensions"]["found"] == 2**49


def test_the_measure_of_each_fragment_is_reused():
    document = parse(fanning_out(40, leaf="a: __typename"))
    operation, *definitions = document.definitions
    assert isinstance(operation, OperationDefinitionNode)
    fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
    measure = document_limits.measure_operation(operation, fragments)
    assert measure.aliases == 2**39


# --- introspection --------------------------------------------------------------------------------

INTROSPECTION = "{ __schema { queryType { name } } }"
HIDDEN = 'query { ...Hidden } fragment Hidden on Query { __type(name: "Query") { name } }'


@pytest.mark.parametrize(
    ("policy", "anonymous", "driver", "staff"),
    [("on", True, True, True), ("staff", False, False, True), ("off", False, False, False)],
)
def test_introspection_answers_as_the_setting_says(
    client, settings, policy, anonymous, driver, staff
):
    settings.GRAPHQL_INTROSPECTION = policy
    callers = {"anonymous": None, "driver": bearer(make_driver()), "staff": bearer(make_staff())}
    allowed = {"anonymous": anonymous, "driver": driver, "staff": staff}
    for name, authorization in callers.items():
        for query in (INTROSPECTION, HIDDEN):
            answer = call_graphql(client, query, authorization=authorization)
            if allowed[name]:
                assert "errors" not in answer, (name, query)
            else:
                assert answer.error_codes == ["INTROSPECTION_DISABLED"], (name, query)
    # __typename is not introspection: it answers for anyone.
    assert call_graphql(client, "{ __typename }")["data"] == {"__typename": "Query"}


# --- suggestions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("hidden", [True, False])
def test_suggestions_are_hidden_when_the_setting_says(gql, settings, hidden):
    settings.GRAPHQL_HIDE_SUGGESTIONS = hidden
    message = gql("{ mee { username } }", expect_errors=True)["errors"][0]["message"]
    assert message.startswith("Cannot query field 'mee' on type 'Query'.")
    assert ("Did you mean" in message) is not hidden


# --- paging arguments -------------------------------------------------------------------------
# sample: begin (the lists of the logistics sample; startmodule's tests page a new module's list)

ROOT = "{ transports(%s) { edges { node { uuid } } } }"
NESTED = "{ transports(first: 5) { edges { node { batches(%s) { edges { node { alias } } } } } } }"


@pytest.mark.parametrize("shape", [ROOT, NESTED], ids=["root", "nested"])
@pytest.mark.parametrize(
    ("arguments", "refusal"),
    [
        ("first: 100", None),
        ("last: 100", None),
        ("first: 0", None),
        ("first: 3, last: 2", None),
        ("first: 101", "'first' cannot be higher than 100"),
        ("last: 101", "'last' cannot be higher than 100"),
        ("first: 200, last: 1", "'first' cannot be higher than 100"),
        ("first: 1, last: 200", "'last' cannot be higher than 100"),
        ("first: -1", "'first' must be a non-negative integer"),
        ("last: -1", "'last' must be a non-negative integer"),
        ("first: 1, last: -1", "'last' must be a non-negative integer"),
        ("first: -1, last: 1", "'first' must be a non-negative integer"),
    ],
)
def test_every_combination_of_paging_arguments_has_a_defined_answer(
    client, network, settings, shape, arguments, refusal
):
    settings.GRAPHQL_MAX_COST = 10**6  # the bounds are what is checked here, not the cost
    settings.GRAPHQL_COST_BUCKET_SIZE = 10**6
    answer = call_graphql(client, shape % arguments, authorization=bearer(make_staff()))
    if refusal is None:
        assert "errors" not in answer, answer["errors"]
    else:
        assert answer.error_codes == ["BAD_USER_INPUT"]
        assert refusal in answer["errors"][0]["message"]


def test_first_and_last_together_take_the_last_of_the_first(client, network):
    staff = bearer(make_staff())
    every = call_graphql(client, ROOT % "first: 3", authorization=staff)
    both = call_graphql(client, ROOT % "first: 3, last: 2", authorization=staff)
    uuids = [edge["node"]["uuid"] for edge in every["data"]["transports"]["edges"]]
    assert len(uuids) == 3
    assert [edge["node"]["uuid"] for edge in both["data"]["transports"]["edges"]] == uuids[1:]


def test_paging_variables_are_checked_as_literals_are(client, network):
    query = "query($n: Int) { transports(first: 2, last: $n) { edges { node { uuid } } } }"
    answer = call_graphql(client, query, {"n": -3}, authorization=bearer(make_staff()))
    assert answer.error_codes == ["BAD_USER_INPUT"]


# sample: end
# --- absurd JSON ----------------------------------------------------------------------------------


def test_a_body_nested_thousands_deep_is_a_bad_request(client):
    response = post(client, "[" * 100_000 + "]" * 100_000)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("depth", [800, 960, 990, 5000])
def test_variables_nested_deep_are_refused_with_a_code(client, depth):
    query = (
        'mutation($a: [String!]!) { addItemsToBatch(alias: "x", trackingNumbers: $a) '
        "{ errors { code } } }"
    )
    body = (
        '{"query": '
        + json.dumps(query)
        + ', "variables": {"a": '
        + "[" * depth
        + "]" * depth
        + "}}"
    )
    response = post(client, body)
    assert response.status_code in (200, 400)
    codes = [e["extensions"]["code"] for e in response.json()["errors"]]
    assert codes and set(codes) <= {"BAD_REQUEST", "BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"}


def test_get_variables_nested_deep_are_a_bad_request(client):
    response = client.get(
        "/graphql/", {"query": "{ __typename }", "variables": "[" * 50_000 + "]" * 50_000}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_suggestions_are_hidden_in_streamed_results_too(settings):
    """A websocket runs documents through the schema's stream: a query riding along with a
    subscription must not map the schema either."""
    from schema.root import schema

    settings.GRAPHQL_HIDE_SUGGESTIONS = True
    results = await schema.stream(
        "subscription S { domainEvents { detailType } } query Q { transprts { totalCount } }",
        operation_name="S",
    )
    messages = [
        error.message
        async for result in results
        for error in getattr(result, "errors", None) or []
    ]
    assert any("transprts" in message for message in messages)
    assert not any("Did you mean" in message for message in messages)
