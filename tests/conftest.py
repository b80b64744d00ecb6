"""Shared fixtures: a GraphQL caller over real HTTP handling, and users to call as."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


class GraphQLResponse(dict):
    """The JSON body of a GraphQL response, with the HTTP status beside it. Its `extensions`
    (the cost report, which changes from call to call) are kept beside it too, so that answers
    compare equal by their data and errors."""

    status_code: int
    extensions: dict[str, Any]

    @property
    def error_codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.get("errors", [])]


def call_graphql(
    client: Client,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    authorization: str | None = None,
    method: str = "POST",
    accept: str = "application/json",
) -> GraphQLResponse:
    # Any: Client.get/post take these WSGI environ keys as **extra, beside typed keywords.
    headers: dict[str, Any] = {"HTTP_ACCEPT": accept}
    if authorization:
        headers["HTTP_AUTHORIZATION"] = authorization
    if method == "GET":
        params: dict[str, str] = {"query": query}
        if variables:
            params["variables"] = json.dumps(variables)
        response = client.get("/graphql/", params, **headers)
    else:
        body = json.dumps({"query": query, "variables": variables or {}})
        response = client.post("/graphql/", body, content_type="application/json", **headers)
    body = response.json()
    extensions = body.pop("extensions", {})
    result = GraphQLResponse(body)
    result.status_code = response.status_code
    result.extensions = extensions
    return result


@pytest.fixture
def gql(client: Client) -> Callable[..., GraphQLResponse]:
    """`gql(query, variables, as_=user_or_authorization)`; fails the test on unexpected errors."""

    def run(
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        as_: Any = None,
        expect_errors: bool = False,
        **kwargs: Any,
    ) -> GraphQLResponse:
        authorization = as_ if isinstance(as_, str) or as_ is None else bearer(as_)
        result = call_graphql(client, query, variables, authorization=authorization, **kwargs)
        if not expect_errors:
            assert "errors" not in result, result["errors"]
        return result

    return run


@contextmanager
def captured_sql() -> Iterator[list[str]]:
    """The SQL the block ran, kept when it ends. CaptureQueriesContext reads the connection's
    query log, which Django empties when the next request starts: read after another request,
    it shows that request's queries."""
    statements: list[str] = []
    with CaptureQueriesContext(connection) as queries:
        yield statements
    statements.extend(query["sql"] for query in queries.captured_queries)


def bearer(user: Any) -> str:
    from modules.auth.api import access_token_for

    return f"Bearer {access_token_for(user)}"


@pytest.fixture(autouse=True)
def forget_long_lists():
    """Which nested lists were too long to fetch whole is remembered per process (see
    schema/nested_pages.py): no test's query counts may depend on the tests before it."""
    from schema.engine import nested_pages

    nested_pages._long_lists.clear()
    yield
    nested_pages._long_lists.clear()


@pytest.fixture(autouse=True)
def full_cost_budgets():
    """Every test starts with full cost buckets (kept per process, or in Redis across runs)."""
    from django.conf import settings

    from schema.guard import budgets

    store = budgets.budget_store  # a test may replace it
    store.cache_clear()
    if settings.REDIS_URL:
        import redis

        connection = redis.Redis.from_url(settings.REDIS_URL)
        for key in connection.scan_iter(f"{budgets.redis_prefix()}*"):
            connection.delete(key)
    yield
    store.cache_clear()


@pytest.fixture
def uncapped_cost(settings: Any) -> None:
    """No cost limit and a bottomless budget: for tests of deep reads (the engine's), whose
    documents cost more than the public default allows (schema/guard/)."""
    settings.GRAPHQL_MAX_COST = 10**9
    settings.GRAPHQL_COST_BUCKET_SIZE = 10**9


def pytest_report_header(config: pytest.Config) -> str:
    from django.conf import settings

    return f"read engine: {'on' if settings.GRAPHQL_ENGINE else 'off (GRAPHQL_ENGINE=off)'}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under GRAPHQL_ENGINE=off every test runs the ordinary way, but the engine's own."""
    from django.conf import settings

    if settings.GRAPHQL_ENGINE:
        return
    skip = pytest.mark.skip(reason="checks the read engine itself (GRAPHQL_ENGINE=off)")
    for item in items:
        if "engine" in item.keywords:
            item.add_marker(skip)
