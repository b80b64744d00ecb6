"""The gateway speaks GraphQL over HTTP per the spec."""

import pytest

pytestmark = pytest.mark.django_db


def test_typename_answers(gql):
    assert gql("{ __typename }")["data"] == {"__typename": "Query"}


def test_get_query_works(gql):
    assert gql("{ __typename }", method="GET")["data"] == {"__typename": "Query"}


def test_syntax_error_is_400_with_graphql_response_json(client):
    response = client.post(
        "/graphql/",
        '{"query": "{ __typename"}',
        content_type="application/json",
        HTTP_ACCEPT="application/graphql-response+json",
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/graphql-response+json")
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


def test_syntax_error_is_200_with_legacy_json(gql):
    result = gql("{ __typename", expect_errors=True)
    assert result.status_code == 200
    assert result.error_codes == ["GRAPHQL_PARSE_FAILED"]


def test_unknown_field_is_a_validation_error(gql):
    result = gql("{ nope }", expect_errors=True)
    assert result.error_codes == ["GRAPHQL_VALIDATION_FAILED"]


def test_malformed_json_is_400(client):
    response = client.post("/graphql/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_other_media_type_is_415(client):
    response = client.post("/graphql/", "query=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415


def test_put_is_405(client):
    response = client.put("/graphql/", "{}", content_type="application/json")
    assert response.status_code == 405
    assert "POST" in response["Allow"]


def test_garbage_bearer_is_401_with_code(gql):
    result = gql("{ __typename }", as_="Bearer not-a-jwt", expect_errors=True)
    assert result.status_code == 401
    assert result.error_codes == ["UNAUTHENTICATED"]


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up"}


def test_graphiql_for_browsers(client):
    response = client.get("/graphql/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"graphiql" in response.content.lower()


def garbage_left_by(client, query: str, variables: dict, authorization: str) -> int:
    """How many objects one request leaves to the cyclic garbage collector (gc off meanwhile)."""
    import gc
    import json

    body = json.dumps({"query": query, "variables": variables})
    gc.collect()
    gc.disable()
    try:
        # The body read as bytes: the test client's response.json() keeps what it parses.
        response = client.post(
            "/graphql/", body, content_type="application/json", HTTP_AUTHORIZATION=authorization
        )
        assert b'"errors"' not in response.content, response.content
        del response
        return gc.collect()
    finally:
        gc.enable()


def test_a_response_leaves_the_garbage_collector_nothing_that_grows_with_its_data(client):
    """A response's data goes with the response (reference counting), not at the next cyclic
    collection: graphql-core's executor refers to itself and, through the middleware, to the
    extensions that hold the result, and a server then scanned every large answer again."""
    from tests.conftest import bearer
    from tests.factories import make_staff
    from tests.shipping.factories import make_items

    make_items(40)
    authorization = bearer(make_staff())
    query = "query ($first: Int) { shippingItems(first: $first) { edges { node { sku } } } }"

    def left_by(first: int) -> int:
        return garbage_left_by(client, query, {"first": first}, authorization)

    left_by(5)  # plans, kept hints and caches are made once
    assert left_by(40) <= left_by(5)


@pytest.mark.engine
@pytest.mark.usefixtures("uncapped_cost")  # a deep read: what it checks is how the engine keeps it
def test_nested_pages_leave_the_garbage_collector_nothing_that_grows_with_the_rows(client, network):
    """A nested page's rows go with the response too. A batch points back at its transport
    (Django's cache of the relation), so a transport holding its page of batches was a cycle:
    the engine takes each page off its parent once the result is complete."""
    from tests.conftest import bearer
    from tests.factories import make_staff

    authorization = bearer(make_staff())
    query = """query ($first: Int) { transports(first: $first) { edges { node { status
      batches { edges { node { alias items { edges { node { sku } } } } } } } } } }"""

    def left_by(first: int) -> int:
        return garbage_left_by(client, query, {"first": first}, authorization)

    left_by(1)
    assert left_by(3) <= left_by(1)
