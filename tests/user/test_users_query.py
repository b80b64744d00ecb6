"""`users(filter, order, first, after)`: the staff directory, and `node(id:)` for users."""

import base64
import datetime as dt

import pytest
from django.utils import timezone

from modules.auth.services import api_key_create
from modules.user.models import User
from modules.user.services import user_ban
from tests.factories import make_driver, make_staff, make_user
from tests.shipping.factories import make_items  # sample

pytestmark = pytest.mark.django_db

USERS = """
query($filter: UserFilter, $order: UserOrder, $first: Int, $after: String) {
  users(filter: $filter, order: $order, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id uuid username type isStaff fullName phoneNumber } }
  }
}"""


@pytest.fixture
def people():
    base = timezone.now() - dt.timedelta(days=10)
    made = {
        "alice": make_staff(username="alice", full_name="Alice Kim"),
        "bob": make_driver(username="bob", full_name="Bob Lee"),
        "carol": make_driver(username="carol", full_name="Carol Park"),
        "dave": make_user(type="STAFF", username="dave", full_name="Dave Choi"),
    }
    for days, user in enumerate(made.values()):
        User.objects.filter(pk=user.pk).update(date_joined=base + dt.timedelta(days=days))
    return made


def users(gql, as_, **variables):
    return gql(USERS, variables, as_=as_)["data"]["users"]


def names(connection):
    return [edge["node"]["username"] for edge in connection["edges"]]


def test_staff_lists_users_newest_first(gql, people):
    connection = users(gql, people["alice"], first=10)
    assert connection["totalCount"] == 4
    assert names(connection) == ["dave", "carol", "bob", "alice"]


def test_staff_sees_phone_numbers(gql, people):
    connection = users(gql, people["alice"], first=10)
    assert all(edge["node"]["phoneNumber"] for edge in connection["edges"])


@pytest.mark.parametrize(
    "filter_, expected",
    [
        ({"type": "DRIVER"}, ["carol", "bob"]),
        ({"isStaff": True}, ["alice"]),
        ({"isStaff": False}, ["dave", "carol", "bob"]),
        ({"search": "park"}, ["carol"]),
        ({"search": "BO"}, ["bob"]),
        ({"type": "STAFF", "search": "kim"}, ["alice"]),
    ],
)
def test_filters(gql, people, filter_, expected):
    assert names(users(gql, people["alice"], first=10, filter=filter_)) == expected


def test_banned_filter(gql, people):
    user_ban(user_uuid=people["bob"].uuid, banned_by_uuid=None)
    banned = users(gql, people["alice"], first=10, filter={"banned": True})
    assert [edge["node"]["uuid"] for edge in banned["edges"]] == [str(people["bob"].uuid)]
    assert users(gql, people["alice"], first=10, filter={"banned": False})["totalCount"] == 3


@pytest.mark.parametrize(
    "order, expected",
    [
        ({"field": "USERNAME", "direction": "ASC"}, ["alice", "bob", "carol", "dave"]),
        ({"field": "USERNAME", "direction": "DESC"}, ["dave", "carol", "bob", "alice"]),
        ({"field": "DATE_JOINED", "direction": "ASC"}, ["alice", "bob", "carol", "dave"]),
    ],
)
def test_orders(gql, people, order, expected):
    assert names(users(gql, people["alice"], first=10, order=order)) == expected


def test_pages_follow_each_other_without_gaps(gql, people):
    first_page = users(
        gql, people["alice"], first=2, order={"field": "USERNAME", "direction": "ASC"}
    )
    assert names(first_page) == ["alice", "bob"] and first_page["pageInfo"]["hasNextPage"]
    after = first_page["pageInfo"]["endCursor"]
    second_page = users(
        gql, people["alice"], first=2, after=after, order={"field": "USERNAME", "direction": "ASC"}
    )
    assert names(second_page) == ["carol", "dave"] and not second_page["pageInfo"]["hasNextPage"]


def test_page_size_is_capped_at_100(gql, people):
    result = gql(USERS, {"first": 101}, as_=people["alice"], expect_errors=True)
    assert result.error_codes and "INTERNAL_SERVER_ERROR" not in result.error_codes


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        base64.b64encode(b"orderedcursor:not json").decode(),
        base64.b64encode(b"arrayconnection:3").decode(),
    ],
)
def test_garbage_cursor_is_a_coded_error(gql, people, cursor):
    result = gql(USERS, {"first": 2, "after": cursor}, as_=people["alice"], expect_errors=True)
    assert result.error_codes and "INTERNAL_SERVER_ERROR" not in result.error_codes


def test_a_cursor_from_another_ordering_is_a_coded_error(gql, people):
    # The cursor is this list's (the binding passes), but holds a username where the default
    # ordering wants a join date: refused like any list's foreign cursor, never a page.
    by_name = users(gql, people["alice"], first=1, order={"field": "USERNAME", "direction": "ASC"})
    result = gql(
        USERS,
        {"first": 2, "after": by_name["pageInfo"]["endCursor"]},
        as_=people["alice"],
        expect_errors=True,
    )
    assert result.status_code == 200
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "cursor" in result["errors"][0]["message"].lower()
    assert result["errors"][0]["path"] == ["users"]
    assert result["data"] is None


# sample: begin (another list: the logistics sample's)
def test_a_cursor_from_another_list_is_refused_like_elsewhere(gql, people):
    make_items(2)
    # Ordered by creation time, its values (a time and a key) would fit users' default ordering.
    items = gql(
        "{ shippingItems(first: 1, order: {field: CREATED_AT}) { pageInfo { endCursor } } }",
        as_=people["alice"],
    )
    cursor = items["data"]["shippingItems"]["pageInfo"]["endCursor"]
    result = gql(USERS, {"first": 2, "after": cursor}, as_=people["alice"], expect_errors=True)
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "does not come from this list" in result["errors"][0]["message"]
    assert result["data"] is None


# sample: end
def test_search_of_an_empty_string_filters_nothing(gql, people):
    assert users(gql, people["alice"], first=10, filter={"search": "  "})["totalCount"] == 4


@pytest.mark.parametrize("caller", ["anonymous", "driver", "staff-type without flag", "api key"])
def test_only_staff_may_list_users(gql, people, caller):
    as_ = {
        "anonymous": None,
        "driver": people["bob"],
        "staff-type without flag": people["dave"],
        "api key": "Api-Key " + api_key_create(name="k", scopes=["DISTRIBUTION"]).key,
    }[caller]
    result = gql(USERS, {"first": 1}, as_=as_, expect_errors=True)
    assert result.error_codes == (["UNAUTHENTICATED"] if caller == "anonymous" else ["FORBIDDEN"])
    assert result["data"] is None


# --- node(id:) ------------------------------------------------------------------------------

NODE = "query($id: ID!) { node(id: $id) { id ... on User { uuid username phoneNumber } } }"


def node_id(user):
    return base64.b64encode(f"User:{user.uuid}".encode()).decode()


def test_node_id_wraps_the_uuid_not_the_integer_key(gql, people):
    edge = users(gql, people["alice"], first=10, filter={"search": "bob"})["edges"][0]
    assert base64.b64decode(edge["node"]["id"]).decode() == f"User:{people['bob'].uuid}"


def test_staff_resolves_any_user_node(gql, people):
    found = gql(NODE, {"id": node_id(people["bob"])}, as_=people["alice"])["data"]["node"]
    assert found["uuid"] == str(people["bob"].uuid) and found["phoneNumber"]


def test_a_driver_resolves_only_their_own_node(gql, people):
    own = gql(NODE, {"id": node_id(people["bob"])}, as_=people["bob"])["data"]["node"]
    assert own["uuid"] == str(people["bob"].uuid)
    other = gql(NODE, {"id": node_id(people["carol"])}, as_=people["bob"], expect_errors=True)
    assert other["data"]["node"] is None and "INTERNAL_SERVER_ERROR" not in other.error_codes
