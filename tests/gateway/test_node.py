"""`node(id:)` never turns a malformed id into a server error."""

import base64
import uuid

import pytest

from modules.distribution.graphql.types import DistributionCenter
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


@pytest.mark.parametrize(
    "global_id_",
    [
        global_id("Nope", str(uuid.uuid4())),  # no such type
        global_id("UserError", "x"),  # a type, but no Node
        global_id("CenterInventoryItem", "no-such-tracking-number"),
    ],
    ids=["no such type", "not a node", "no such row"],
)
def test_an_id_that_names_nothing_finds_nothing(gql, global_id_):
    assert gql(NODE, {"id": global_id_}, as_=make_staff())["data"] == {"node": None}


def _lookup_bug(cls, node_id, *, info, required=False):
    raise ValueError("a bug in the lookup")


def test_a_malformed_key_is_null_without_looking_it_up(gql, monkeypatch):
    # The key is refused by its own type's parsing, before the type's lookup is reached.
    monkeypatch.setattr(DistributionCenter, "resolve_node", classmethod(_lookup_bug))
    result = gql(NODE, {"id": global_id("DistributionCenter", "not-a-uuid")}, as_=make_staff())
    assert result["data"] == {"node": None}


def test_an_unexpected_error_in_a_lookup_is_a_server_error_not_null(gql, monkeypatch):
    monkeypatch.setattr(DistributionCenter, "resolve_node", classmethod(_lookup_bug))
    result = gql(
        NODE,
        {"id": global_id("DistributionCenter", str(uuid.uuid4()))},
        as_=make_staff(),
        expect_errors=True,
    )
    assert result.error_codes == ["INTERNAL_SERVER_ERROR"]
    assert result["data"] == {"node": None}
    assert "a bug in the lookup" not in str(result["errors"])  # masked
