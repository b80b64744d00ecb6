"""`node(id:)` never turns a malformed id into a server error."""

import base64

import pytest

from tests.factories import make_staff

pytestmark = pytest.mark.django_db

NODE = "query($id: ID!) { node(id: $id) { id } }"


def global_id(type_name: str, key: str) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


@pytest.mark.parametrize("type_name", ["DistributionCenter", "User", "ShippingItem", "Transport"])
def test_a_malformed_key_finds_nothing(gql, type_name):
    result = gql(NODE, {"id": global_id(type_name, "not-a-uuid")}, as_=make_staff())
    assert result["data"] == {"node": None}


def test_garbage_global_id_is_a_coded_error(gql):
    result = gql(NODE, {"id": "%%%"}, as_=make_staff(), expect_errors=True)
    assert result.error_codes
    assert "INTERNAL_SERVER_ERROR" not in result.error_codes


def test_a_users_own_node_resolves(gql):
    staff = make_staff()
    me = gql("{ me { id } }", as_=staff)["data"]["me"]["id"]
    assert gql(NODE, {"id": me}, as_=staff)["data"]["node"] == {"id": me}


def test_anonymous_callers_get_no_node(gql):
    result = gql(NODE, {"id": global_id("User", "x")}, expect_errors=True)
    assert result.error_codes == ["UNAUTHENTICATED"]
