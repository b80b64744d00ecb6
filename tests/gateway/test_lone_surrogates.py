"""An unpaired surrogate (U+D800 to U+DFFF alone) in anything a client sends: refused up front.

JSON can carry one (`"\\ud800"`) and Python decodes it, but it is not Unicode: no UTF-8 encoder
takes it. Such a value used to reach the database driver, and the client read the driver's
"'utf-8' codec can't encode character..." as BAD_USER_INPUT. Every String or ID value is now
refused where variables are coerced (BAD_USER_INPUT, nothing runs), beside the NUL check of
test_nul_characters.py; documents holding one are already refused by graphql-core's lexer.
"""

from __future__ import annotations

import pytest
from graphql import OperationDefinitionNode, parse

from events.models import OutboxEvent
from modules.distribution.models import DistributionCenter
from modules.shipping.models import BatchMembership
from schema.kit.input_text import text_errors
from tests.auth.flows import SIGN_IN_WITH_PASSWORD
from tests.factories import make_staff
from tests.shipping.factories import make_batch, make_items

pytestmark = pytest.mark.django_db

SURROGATE_MESSAGE = "Text must be valid Unicode (no unpaired surrogate code points)."
NUL_MESSAGE = "Text must not contain NUL characters."


def assert_refused_as_bad_input(result, message: str = SURROGATE_MESSAGE) -> None:
    """A request error: no data, one BAD_USER_INPUT error saying what is wrong."""
    assert result.status_code == 200
    assert "data" not in result
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert message in result["errors"][0]["message"]
    assert "codec" not in result["errors"][0]["message"]


@pytest.mark.parametrize(
    "text",
    ["\ud800", "abc\udfff", "\udc00\ud800", "ok \ud83d"],
    ids=["high", "low", "reversed", "cut"],
)
def test_a_lone_surrogate_in_a_lookup_variable_is_refused(gql, text):
    make_items(1)
    query = "query($n: String!) { shippingItem(trackingNumber: $n) { trackingNumber } }"
    assert_refused_as_bad_input(gql(query, {"n": text}, as_=make_staff(), expect_errors=True))


def test_sign_in_refuses_a_lone_surrogate_in_the_username(gql):
    make_staff(username="staff", password="a-long-Staff-passw0rd")
    variables = {"username": "staff\ud800", "password": "a-long-Staff-passw0rd"}
    assert_refused_as_bad_input(gql(SIGN_IN_WITH_PASSWORD, variables, expect_errors=True))


def test_the_request_error_is_400_under_graphql_response_json(gql):
    result = gql(
        SIGN_IN_WITH_PASSWORD,
        {"username": "\udc00", "password": "x"},
        accept="application/graphql-response+json",
        expect_errors=True,
    )
    assert result.status_code == 400
    assert result.error_codes == ["BAD_USER_INPUT"]


CREATE_CENTER = """
mutation($input: CreateDistributionCenterInput!) {
  createDistributionCenter(input: $input) {
    distributionCenter { centerCode name }
    errors { field message code }
  }
}"""


def test_a_mutation_input_with_a_lone_surrogate_writes_nothing(gql):
    variables = {"input": {"centerCode": "NY-01", "name": "New\ud800York"}}
    assert_refused_as_bad_input(gql(CREATE_CENTER, variables, as_=make_staff(), expect_errors=True))
    assert not DistributionCenter.objects.exists()
    assert not OutboxEvent.objects.exists()


def test_the_error_names_the_list_item_without_echoing_it(gql):
    item = make_items(1)[0]
    make_batch("AB-1")
    query = """
    mutation($alias: String!, $numbers: [String!]!) {
      addItemsToBatch(alias: $alias, trackingNumbers: $numbers) { errors { code } }
    }"""
    variables = {"alias": "AB-1", "numbers": [item.tracking_number, "XYZ\ud800"]}
    result = gql(query, variables, as_=make_staff(), expect_errors=True)
    assert_refused_as_bad_input(result)
    assert (
        result["errors"][0]["message"]
        == f"Variable '$numbers' at 'numbers[1]': {SURROGATE_MESSAGE}"
    )
    assert not BatchMembership.objects.exists()


def test_a_filter_variable_with_a_lone_surrogate_is_refused(gql):
    query = "query($f: ShippingItemFilter) { shippingItems(filter: $f) { totalCount } }"
    result = gql(query, {"f": {"sku": "a\ud800"}}, as_=make_staff(), expect_errors=True)
    assert_refused_as_bad_input(result)


def test_nul_keeps_its_own_message(gql):
    query = "query($n: String!) { shippingItem(trackingNumber: $n) { trackingNumber } }"
    result = gql(query, {"n": "\x00\ud800"}, as_=make_staff(), expect_errors=True)
    assert_refused_as_bad_input(result, NUL_MESSAGE)


def test_a_key_holding_a_lone_surrogate_is_refused_without_being_echoed():
    # JSON scalar objects reach the check as dicts: their keys are text too.
    operation = parse("query($j: JSON) { __typename }").definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    errors = text_errors(operation, {"j": {"fine": 1, "nested": {"k\ud800": 2}}})
    assert [error.message for error in errors] == [
        f"Variable '$j' at 'j.nested': {SURROGATE_MESSAGE}"
    ]
    assert [error.extensions for error in errors] == [{"code": "BAD_USER_INPUT"}]


# --- what still goes through, and documents -------------------------------------------------


def test_characters_beyond_the_basic_plane_still_go_through(gql):
    # JSON writes 😀 as the pair "\ud83d\ude00", which decodes to one character: valid text.
    variables = {"input": {"centerCode": "NY-01", "name": "Café \U0001f600 Ünïcode"}}
    result = gql(CREATE_CENTER, variables, as_=make_staff())
    payload = result["data"]["createDistributionCenter"]
    assert payload["errors"] == []
    assert payload["distributionCenter"]["name"] == "Café \U0001f600 Ünïcode"
    assert DistributionCenter.objects.get().name == "Café \U0001f600 Ünïcode"


@pytest.mark.parametrize(
    "literal",
    ['"New\\ud800York"', '"New\ud800York"', '"""New\ud800York"""'],
    ids=["escape", "raw", "block-string"],
)
def test_a_lone_surrogate_in_a_document_is_refused_and_writes_nothing(gql, literal):
    # The query travels as JSON: `"\ud800"` there puts the raw code point in the document.
    query = (
        f'mutation {{ createDistributionCenter(input: {{centerCode: "NY-01", name: {literal}}}) '
        "{ errors { code } } }"
    )
    result = gql(query, as_=make_staff(), expect_errors=True)
    assert result.error_codes == ["GRAPHQL_PARSE_FAILED"]
    assert "data" not in result
    assert not DistributionCenter.objects.exists()


# A cursor carrying a lone surrogate: tests/gateway/test_nul_characters.py, beside the NUL one.
