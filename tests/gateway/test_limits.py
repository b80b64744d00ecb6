"""Oversized, too deep and alias-heavy queries are refused with a code before they run."""

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_too_many_tokens_is_refused(gql):
    query = "{ " + " ".join("a" for _ in range(3000)) + " }"  # 6,000 characters
    result = gql(query, expect_errors=True)
    assert result.error_codes == ["QUERY_TOO_COMPLEX"]


def test_too_many_aliases_is_refused(gql):
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(50)) + " }"
    result = gql(query, expect_errors=True)
    assert result.error_codes == ["QUERY_TOO_COMPLEX"]


def test_a_reasonable_query_passes(gql):
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(10)) + " }"
    assert gql(query)["data"]["a9"] == "Query"


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_oversized_body_is_413(client):
    body = '{"query": "{ __typename }", "variables": {"pad": "' + "x" * 5000 + '"}}'
    response = client.post("/graphql/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"


def test_mutation_over_get_is_refused(gql):
    result = gql("mutation { __typename }", method="GET", expect_errors=True)
    assert result.status_code == 405
    assert result.error_codes == ["METHOD_NOT_ALLOWED"]


# sample: begin (a deep query through the logistics sample's types)
def test_too_deep_query_is_refused_before_it_runs(gql, django_assert_num_queries):
    inner = "items(first: 1) { edges { node { trackingNumber } } }"
    batch = "batches(first: 1) { edges { node { " + inner + " } } }"
    items = "items(first: 1) { edges { node { " + batch + " } } }"
    batches = "batches(first: 1) { edges { node { " + items + " } } }"
    query = "{ transports(first: 1) { edges { node { " + batches + " } } } }"
    with django_assert_num_queries(0):
        result = gql(query, expect_errors=True)
    assert result.error_codes == ["QUERY_TOO_COMPLEX"]
    assert "depth" in result["errors"][0]["message"]
# sample: end
