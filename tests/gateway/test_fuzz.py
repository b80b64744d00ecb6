"""The schema fuzzer: operations drawn from schema.graphql (hypothesis-graphql), anonymous and as
staff, over HTTP. Whatever a client sends, the answer is never a 5xx and never an
INTERNAL_SERVER_ERROR: bad input is the client's, and says so with a code.

Bounded: a few examples per root field (FUZZ_EXAMPLES), both callers, on one database (the
SQLite pass): the answers do not depend on the database, and CI runs it once.
"""

from __future__ import annotations

import os
import uuid

import pytest
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis_graphql import mutations, nodes, queries

from schema.root import schema
from tests.conftest import bearer
from tests.factories import make_staff

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        bool(os.environ.get("DATABASE_URL")), reason="runs once, on the SQLite pass"
    ),
]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
SDL = schema.as_str()
graphql_schema = schema._schema

# The schema's own scalars, as literals their parsers accept (and some they refuse).
SCALARS = {
    "UUID": st.one_of(st.uuids().map(str), st.text(max_size=8)).map(nodes.String),
    "DateTime": st.one_of(
        st.datetimes().map(lambda d: d.isoformat() + "+00:00"), st.text(max_size=8)
    ).map(nodes.String),
    "Date": st.one_of(st.dates().map(str), st.text(max_size=8)).map(nodes.String),
    "JSON": st.one_of(st.integers().map(nodes.Int), st.text(max_size=8).map(nodes.String)),
    # A file comes only in a multipart request; as a literal, anything a client might type.
    "Upload": st.one_of(st.integers().map(nodes.Int), st.text(max_size=8).map(nodes.String)),
}

assert graphql_schema.query_type is not None and graphql_schema.mutation_type is not None
QUERY_FIELDS = sorted(graphql_schema.query_type.fields)
MUTATION_FIELDS = sorted(graphql_schema.mutation_type.fields)


@pytest.fixture
def callers(db):
    return {"anonymous": None, "staff": bearer(make_staff(username=f"fuzz-{uuid.uuid4().hex[:8]}"))}


def _check(client, callers, document: str) -> None:
    for name, authorization in callers.items():
        headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
        response = client.post(
            "/graphql/", {"query": document}, content_type="application/json", **headers
        )
        assert response.status_code < 500, (name, document, response.content[:500])
        body = response.json()
        codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors", [])]
        assert "INTERNAL_SERVER_ERROR" not in codes, (name, document, body)


def _fuzz(strategy, client, callers) -> None:
    @given(strategy)
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,  # the same documents every run: a failure reproduces
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    def run(document: str) -> None:
        _check(client, callers, document)

    run()


@pytest.fixture(autouse=True)
def generous_budgets(settings):
    # Drawn documents may cost anything: the refusal is a coded error, but the budget must not
    # run dry between examples and hide what follows.
    settings.GRAPHQL_COST_BUCKET_SIZE = 10**9
    assert django_settings.GRAPHQL_MAX_COST  # the cost limit itself stays on


@pytest.mark.parametrize("field", QUERY_FIELDS)
def test_drawn_queries_never_fail_on_the_server(client, callers, field):
    _fuzz(queries(SDL, fields=[field], custom_scalars=SCALARS), client, callers)


@pytest.mark.parametrize("field", MUTATION_FIELDS)
def test_drawn_mutations_never_fail_on_the_server(client, callers, field):
    _fuzz(mutations(SDL, fields=[field], custom_scalars=SCALARS), client, callers)
