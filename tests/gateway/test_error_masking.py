"""What a client reads when something fails: its own mistakes in full, our bugs masked.

A ValueError or TypeError is not the client's fault by its type: a resolver that indexes None or
parses a stored value badly raises one too. Clients read graphql-core's coercion errors, the
GraphQLErrors we raise for them (with a code) and the paging/cursor refusals of strawberry and
strawberry-django; anything else is "Unexpected error." with INTERNAL_SERVER_ERROR, and its stack
goes to the log. (The test settings run without DEBUG, so masking is on, as in production.)
"""

from __future__ import annotations

import logging
import types

import pytest
from graphql import FieldNode, GraphQLError, OperationDefinitionNode, located_error, parse

from schema.kit.extensions import tag_error_codes
from tests.factories import make_staff
from tests.shipping.factories import make_batch, make_items

pytestmark = pytest.mark.django_db

CENTER = '{ distributionCenter(centerCode: "NY-01") { name } }'
SECRET = "db-internal-7f3a"


def assert_masked(result) -> None:
    assert result.error_codes == ["INTERNAL_SERVER_ERROR"]
    assert result["errors"][0]["message"] == "Unexpected error."
    assert SECRET not in str(result)


@pytest.mark.parametrize(
    "bug",
    [
        TypeError(f"'NoneType' object is not subscriptable ({SECRET})"),
        ValueError(f"invalid literal for int() with base 10: '{SECRET}'"),
    ],
    ids=["TypeError", "ValueError"],
)
def test_a_value_or_type_error_raised_by_a_resolver_is_masked_and_logged(
    gql, monkeypatch, caplog, bug
):
    def broken(code: str) -> None:
        raise bug

    monkeypatch.setattr("modules.distribution.selectors.center_by_code", broken)
    with caplog.at_level(logging.INFO, logger="majestic.graphql"):
        result = gql(CENTER, as_=make_staff(), expect_errors=True)
    assert_masked(result)
    assert result["errors"][0]["path"] == ["distributionCenter"]
    assert result["data"] == {"distributionCenter": None}
    logged = [r for r in caplog.records if r.name == "majestic.graphql"]
    assert [r.levelno for r in logged] == [logging.ERROR]
    assert logged[0].exc_info and logged[0].exc_info[1] is bug  # the stack, for us


def test_null_for_a_non_null_field_is_a_masked_server_error(gql, monkeypatch):
    # graphql-core reports it as a TypeError at the field: our fault, not the client's.
    monkeypatch.setattr(
        "modules.auth.services.phone_number_status_check",
        lambda **_: types.SimpleNamespace(registered=None, banned=False),
    )
    result = gql(
        '{ phoneNumberStatus(phoneNumber: "+15550000009") { registered } }', expect_errors=True
    )
    assert result.error_codes == ["INTERNAL_SERVER_ERROR"]
    assert result["errors"][0]["message"] == "Unexpected error."
    assert result["data"] is None


def test_an_error_escaping_execution_is_masked_too(gql, monkeypatch):
    # Raised outside any field (building the execution context), after which Strawberry's own
    # error hook (MaskErrors) never runs: it must not reach the client as is either.
    from schema.root import MajesticExecutionContext

    def broken_build(cls, *args, **kwargs):
        raise TypeError(f"unsupported operand ({SECRET})")

    monkeypatch.setattr(MajesticExecutionContext, "build", classmethod(broken_build))
    assert_masked(gql("{ __typename }", expect_errors=True))


def test_an_error_escaping_execution_is_a_500_under_graphql_response_json(client, monkeypatch):
    """Not the request's fault: 500, where a request error would be 400."""
    from schema.root import MajesticExecutionContext
    from tests.conftest import call_graphql

    def broken_build(cls, *args, **kwargs):
        raise TypeError(f"unsupported operand ({SECRET})")

    monkeypatch.setattr(MajesticExecutionContext, "build", classmethod(broken_build))
    result = call_graphql(client, "{ __typename }", accept="application/graphql-response+json")
    assert result.status_code == 500
    assert result.error_codes == ["INTERNAL_SERVER_ERROR"]
    assert SECRET not in str(result)


def test_a_deliberate_coded_error_stays_readable(gql):
    # GraphQLError with a code, raised by our own resolvers (here, a permission refusal).
    result = gql(CENTER, expect_errors=True)
    assert result.error_codes == ["UNAUTHENTICATED"]
    assert result["errors"][0]["message"] != "Unexpected error."


# --- the client's own mistakes stay readable -------------------------------------------------

ITEM_BATCHES = """
query($first: Int, $after: String) {
  shippingItems(first: 1) { edges { node { batches(first: $first, after: $after) {
    edges { node { alias } }
  } } } }
}"""


@pytest.mark.parametrize(
    "query,variables,message",
    [
        ("query($u: UUID!) { transport(uuid: $u) { uuid } }", {"u": "nope"}, "UUID"),
        ('{ transport(uuid: "nope") { uuid } }', {}, "UUID"),
        (
            "query($f: ShippingItemFilter) { shippingItems(filter: $f) { totalCount } }",
            {"f": {"createdAfter": "yesterday"}},
            "DateTime",
        ),
        (
            'mutation { updateShippingItemStatus(trackingNumber: "X", status: TELEPORTED) '
            "{ errors { code } } }",
            {},
            "TELEPORTED",
        ),
        ("query($id: ID!) { node(id: $id) { id } }", {"id": "%%%"}, "GlobalID"),
        ("{ shippingItems(first: -1) { totalCount } }", {}, "non-negative"),
        ("{ shippingItems(first: 101) { totalCount } }", {}, "cannot be higher than 100"),
        # Nested connections parse their paging arguments and cursors in the optimizer's
        # prefetch, so the error may be reported at the parent field: still the client's.
        (ITEM_BATCHES, {"first": 101}, "cannot be higher than 100"),
        (ITEM_BATCHES, {"first": -1}, "non-negative"),
        (ITEM_BATCHES, {"first": 1, "after": "garbage"}, ""),
        (ITEM_BATCHES, {"first": 1, "after": "b3JkZXJlZGN1cnNvcjpub3QganNvbg=="}, "cursor"),
        (
            'query($a: String!) { shippingBatch(alias: $a) { items(first: 1, after: "x") '
            "{ totalCount } } }",
            {"a": "B-1"},
            "",
        ),
    ],
    ids=[
        "uuid-variable",
        "uuid-literal",
        "datetime-in-filter",
        "enum-literal",
        "global-id",
        "negative-first",
        "first-over-the-cap",
        "nested-first-over-the-cap",
        "nested-negative-first",
        "nested-garbage-cursor",
        "nested-cursor-not-json",
        "nested-cursor-of-a-single-row",
    ],
)
def test_client_mistakes_are_readable_bad_input(gql, query, variables, message):
    staff = make_staff()
    make_batch("B-1", items=make_items(2))
    result = gql(query, variables, as_=staff, expect_errors=True)
    assert result.error_codes in (["BAD_USER_INPUT"], ["GRAPHQL_VALIDATION_FAILED"])
    assert result["errors"][0]["message"] != "Unexpected error."
    assert message.lower() in result["errors"][0]["message"].lower()


# --- the code without masking (DEBUG) --------------------------------------------------------


def test_the_code_says_server_error_even_where_nothing_is_masked():
    # Under DEBUG the message shows (for the developer), but the code must not blame the client.
    document = parse('{ a(u: "nope") }')
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    field = operation.selection_set.selections[0]
    assert isinstance(field, FieldNode)
    bug = located_error(TypeError("'NoneType' object is not subscriptable"), [field], ["a"])
    coerced = GraphQLError(
        "Variable '$u' has invalid value", original_error=GraphQLError("Not a UUID")
    )
    # graphql-core's validation of a literal whose scalar raised ValueError: no path, a node.
    literal = GraphQLError(
        "Expected value of type 'UUID'",
        (field.arguments or ())[0].value,
        original_error=ValueError("x"),
    )
    tag_error_codes([bug, coerced, literal])
    assert bug.extensions == {"code": "INTERNAL_SERVER_ERROR"}
    assert coerced.extensions == {"code": "BAD_USER_INPUT"}
    assert literal.extensions == {"code": "BAD_USER_INPUT"}


def test_under_debug_a_developer_reads_the_message_with_the_server_error_code(
    gql, monkeypatch, settings
):
    settings.DEBUG = True  # `make run`: read per request, whenever the schema was built

    def broken(code: str) -> None:
        raise TypeError(f"'NoneType' object is not subscriptable ({SECRET})")

    monkeypatch.setattr("modules.distribution.selectors.center_by_code", broken)
    result = gql(CENTER, as_=make_staff(), expect_errors=True)
    assert result.error_codes == ["INTERNAL_SERVER_ERROR"]
    assert SECRET in result["errors"][0]["message"]
