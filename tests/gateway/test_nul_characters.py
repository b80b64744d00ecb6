"""A NUL character (U+0000) in anything a client sends is the client's mistake, never a 500.

PostgreSQL can neither store nor compare text holding NUL: such a value used to reach the
database and come back as a masked INTERNAL_SERVER_ERROR, for anonymous callers too. Every String
or ID value is now refused where arguments are coerced (BAD_USER_INPUT, nothing runs), and
credentials holding one get the answer any wrong credential gets. These tests run on SQLite too,
which would store the NUL: the answer must not depend on the database.
"""

from __future__ import annotations

import base64
import json
import logging

import pytest
from django.db import DataError

from events.models import OutboxEvent
from modules.distribution.models import DistributionCenter
from modules.shipping.models import BatchMembership, ShippingItem
from tests.auth.flows import SIGN_IN_WITH_PASSWORD
from tests.factories import make_staff
from tests.shipping.factories import api_key, make_batch, make_center, make_items

pytestmark = pytest.mark.django_db

NUL_MESSAGE = "Text must not contain NUL characters."


def assert_refused_as_bad_input(result) -> None:
    """A request error: no data, one BAD_USER_INPUT error saying what is wrong."""
    assert result.status_code == 200
    assert "data" not in result
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert NUL_MESSAGE in result["errors"][0]["message"]


# --- anonymous callers -----------------------------------------------------------------------


def test_sign_in_with_password_refuses_a_nul_in_the_username(gql):
    make_staff(username="staff", password="a-long-Staff-passw0rd")
    variables = {"username": "staff\u0000", "password": "a-long-Staff-passw0rd"}
    assert_refused_as_bad_input(gql(SIGN_IN_WITH_PASSWORD, variables, expect_errors=True))


def test_a_nul_in_an_inline_literal_is_refused_too(gql):
    # `\u0000` is GraphQL's own escape: the parser turns it into a NUL inside the document.
    query = (
        'mutation { signInWithPassword(username: "staff\\u0000", password: "x") '
        "{ errors { code } } }"
    )
    assert_refused_as_bad_input(gql(query, expect_errors=True))


def test_the_request_error_is_400_under_graphql_response_json(gql):
    result = gql(
        SIGN_IN_WITH_PASSWORD,
        {"username": "\u0000", "password": "x"},
        accept="application/graphql-response+json",
        expect_errors=True,
    )
    assert result.status_code == 400
    assert result.error_codes == ["BAD_USER_INPUT"]


def test_a_nul_in_a_phone_number_is_refused(gql):
    query = """
    mutation($phone: String!) {
      requestVerificationCode(phoneNumber: $phone, purpose: SIGN_IN) { errors { code } }
    }"""
    assert_refused_as_bad_input(gql(query, {"phone": "+1555000\u00000001"}, expect_errors=True))


# --- staff mutations and queries ------------------------------------------------------------

CREATE_CENTER = """
mutation($input: CreateDistributionCenterInput!) {
  createDistributionCenter(input: $input) {
    distributionCenter { centerCode name }
    errors { field message code }
  }
}"""


def test_create_distribution_center_refuses_a_nul_in_the_name_and_writes_nothing(gql):
    variables = {"input": {"centerCode": "NY-01", "name": "New\u0000York"}}
    assert_refused_as_bad_input(gql(CREATE_CENTER, variables, as_=make_staff(), expect_errors=True))
    assert not DistributionCenter.objects.exists()
    assert not OutboxEvent.objects.exists()


def test_a_nul_in_an_inline_input_object_field_is_refused(gql):
    query = (
        'mutation { createDistributionCenter(input: {centerCode: "NY-01", name: "N\\u0000Y"}) '
        "{ errors { code } } }"
    )
    assert_refused_as_bad_input(gql(query, as_=make_staff(), expect_errors=True))
    assert not DistributionCenter.objects.exists()


def test_update_distribution_center_refuses_a_nul_in_the_name(gql):
    make_center("NY-01", "New York")
    query = """
    mutation($input: UpdateDistributionCenterInput!) {
      updateDistributionCenter(centerCode: "NY-01", input: $input) { errors { code } }
    }"""
    result = gql(query, {"input": {"name": "\u0000"}}, as_=make_staff(), expect_errors=True)
    assert_refused_as_bad_input(result)
    assert DistributionCenter.objects.get().name == "New York"


@pytest.mark.parametrize(
    "query,variables",
    [
        (
            "query($n: String!) { shippingItem(trackingNumber: $n) { trackingNumber } }",
            {"n": "ABC\u0000"},
        ),
        ("query($a: String!) { shippingBatch(alias: $a) { alias } }", {"a": "\u0000"}),
        (
            "query($f: ShippingItemFilter) { shippingItems(filter: $f) { totalCount } }",
            {"f": {"sku": "a\u0000"}},
        ),
        (
            'query { shippingItems(filter: {sku: "a\\u0000"}) { totalCount } }',
            {},
        ),
        ("query($id: ID!) { node(id: $id) { id } }", {"id": "U2hpcHBpbmdJdGVtOg\u0000"}),
    ],
    ids=["item-by-tracking-number", "batch-by-alias", "filter-variable", "filter-literal", "id"],
)
def test_staff_lookups_refuse_a_nul(gql, query, variables):
    assert_refused_as_bad_input(gql(query, variables, as_=make_staff(), expect_errors=True))


def global_id(type_name: str, key: str) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


@pytest.mark.parametrize("type_name", ["CenterInventoryItem", "DistributionCenter", "ShippingItem"])
def test_a_nul_in_the_key_of_a_global_id_finds_nothing(gql, type_name):
    # The id is base64: its NUL shows only once decoded, like any other malformed key.
    query = "query($id: ID!) { node(id: $id) { id } }"
    result = gql(query, {"id": global_id(type_name, "ABC\u0000")}, as_=make_staff())
    assert result["data"] == {"node": None}


ITEMS_PAGE = """
query($after: String) {
  shippingItems(first: 1, after: $after, order: {field: TRACKING_NUMBER}) {
    pageInfo { endCursor }
  }
}"""


@pytest.mark.parametrize("refused", ["\u0000", "\ud800"], ids=["nul", "lone-surrogate"])
def test_a_cursor_carrying_refused_text_is_refused_like_any_foreign_cursor(gql, refused):
    staff = make_staff()
    make_items(2)
    cursor = gql(ITEMS_PAGE, as_=staff)["data"]["shippingItems"]["pageInfo"]["endCursor"]
    # Our cursors are base64 of `list|base64 of orderedcursor:<JSON values>`: forge the text inside,
    # as JSON's escape (json.dumps writes "\u0000" and "\ud800"), which strawberry-django decodes.
    tag, _, inner = base64.b64decode(cursor).decode().partition("|")
    kind, _, values = base64.b64decode(inner).decode().partition(":")
    forged_values = json.dumps([json.loads(values)[0] + refused, *json.loads(values)[1:]])
    forged_inner = base64.b64encode(f"{kind}:{forged_values}".encode()).decode()
    forged = base64.b64encode(f"{tag}|{forged_inner}".encode()).decode()
    result = gql(ITEMS_PAGE, {"after": forged}, as_=staff, expect_errors=True)
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "cursor" in result["errors"][0]["message"]
    assert "does not come from this list" in result["errors"][0]["message"]


ADD_ITEMS = """
mutation($alias: String!, $numbers: [String!]!) {
  addItemsToBatch(alias: $alias, trackingNumbers: $numbers) {
    shippingBatch { alias itemCount }
    errors { field message code }
  }
}"""


def test_add_items_to_batch_refuses_a_nul_tracking_number_and_leaves_the_batch_alone(gql):
    item = make_items(1)[0]
    make_batch("AB-1")
    before = OutboxEvent.objects.count()
    numbers = [item.tracking_number, "XYZ\u0000"]
    result = gql(
        ADD_ITEMS, {"alias": "AB-1", "numbers": numbers}, as_=make_staff(), expect_errors=True
    )
    assert_refused_as_bad_input(result)
    # The client learns which value, without the value echoed back.
    assert result["errors"][0]["message"] == f"Variable '$numbers' at 'numbers[1]': {NUL_MESSAGE}"
    assert not BatchMembership.objects.exists()
    assert ShippingItem.objects.get().status == item.status
    assert OutboxEvent.objects.count() == before


def test_text_without_a_nul_still_goes_through(gql):
    # Other control characters are ordinary (if odd) text: the services judge those.
    result = gql(
        CREATE_CENTER, {"input": {"centerCode": "NY-01", "name": "New\tYork"}}, as_=make_staff()
    )
    payload = result["data"]["createDistributionCenter"]
    assert payload["errors"] == [] and payload["distributionCenter"]["name"] == "New York"


# --- the mutation backstop ------------------------------------------------------------------


def test_a_data_error_in_a_mutation_is_a_typed_invalid_error_and_logs_no_input(
    gql, monkeypatch, caplog
):
    # Whatever else the database refuses as data (a value out of range, say) is the input's fault.
    def refused(**_: object) -> None:
        raise DataError("value too long for 'secret-input'")

    monkeypatch.setattr("modules.distribution.services.center_create", refused)
    with caplog.at_level(logging.WARNING):
        result = gql(
            CREATE_CENTER,
            {"input": {"centerCode": "NY-01", "name": "secret-input"}},
            as_=make_staff(),
        )
    assert result["data"]["createDistributionCenter"] == {
        "distributionCenter": None,
        "errors": [{"field": None, "message": "Invalid value.", "code": "INVALID"}],
    }
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and all("secret-input" not in r.getMessage() for r in warnings)
    assert all(r.exc_info is None for r in warnings)


# --- credentials ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad,ordinary",
    [
        ("Api-Key abc\u0000def.secret", "Api-Key abcdef.secret"),
        ("Api-Key \u0000", "Api-Key nope"),
        ("Api-Key abc\u0001def.secret", "Api-Key abcdef.secret"),
        ("Bearer abc\u0000def", "Bearer not-a-jwt"),
        ("Bearer abc\u007fdef", "Bearer not-a-jwt"),
    ],
    ids=["nul-in-key-prefix", "nul-key", "control-in-key", "nul-in-token", "del-in-token"],
)
def test_a_credential_with_a_nul_or_control_character_gets_the_ordinary_401(gql, bad, ordinary):
    expected = gql("{ __typename }", as_=ordinary, expect_errors=True)
    result = gql("{ __typename }", as_=bad, expect_errors=True)
    assert (result.status_code, result.error_codes) == (401, ["UNAUTHENTICATED"])
    assert result["errors"][0]["message"] == expected["errors"][0]["message"]


def test_a_real_api_key_with_a_nul_inside_is_refused(gql):
    key = api_key("DISTRIBUTION")
    prefix, _, secret = key.partition(".")
    result = gql("{ __typename }", as_=f"{prefix}\u0000.{secret}", expect_errors=True)
    assert (result.status_code, result.error_codes) == (401, ["UNAUTHENTICATED"])
