"""Center staff: only active STAFF-type users, added and removed all or nothing."""

from __future__ import annotations

import uuid

import pytest

from tests.distribution.factories import emitted, error_codes, make_center, payload_errors
from tests.factories import make_driver, make_staff, make_user

pytestmark = pytest.mark.django_db

ADD = """
mutation Add($code: String!, $users: [UUID!]!) {
  addCenterStaff(centerCode: $code, userUuids: $users) {
    distributionCenter { centerCode staff { uuid fullName } }
    errors { field message code }
  }
}
"""
REMOVE = """
mutation Remove($code: String!, $users: [UUID!]!) {
  removeCenterStaff(centerCode: $code, userUuids: $users) {
    distributionCenter { staff { uuid } }
    errors { field message code }
  }
}
"""
STAFF_OF = (
    "query S($code: String!) { distributionCenter(centerCode: $code) { staff { uuid fullName } } }"
)


@pytest.fixture
def center():
    return make_center("HUB01")


def staff_uuids(gql, caller, code="HUB01"):
    return [
        u["uuid"]
        for u in gql(STAFF_OF, {"code": code}, as_=caller)["data"]["distributionCenter"]["staff"]
    ]


def test_add_staff_users_and_read_them_back(gql, staff, center):
    alice, bob = make_staff(full_name="Alice"), make_user(type="STAFF", full_name="Bob")
    result = gql(ADD, {"code": "HUB01", "users": [str(alice.uuid), str(bob.uuid)]}, as_=staff)
    payload = result["data"]["addCenterStaff"]
    assert payload["errors"] == []
    assert sorted(u["fullName"] for u in payload["distributionCenter"]["staff"]) == ["Alice", "Bob"]
    assert emitted("CenterStaffChanged") == [
        {
            "centerUuid": str(center.uuid),
            "centerCode": "HUB01",
            "addedUserUuids": sorted([str(alice.uuid), str(bob.uuid)]),
            "removedUserUuids": [],
            "staffUserUuids": sorted([str(alice.uuid), str(bob.uuid)]),
        }
    ]


def test_adding_a_driver_adds_nobody(gql, staff, center):
    alice, dana = make_staff(), make_driver()
    result = gql(ADD, {"code": "HUB01", "users": [str(alice.uuid), str(dana.uuid)]}, as_=staff)
    errors = payload_errors(result, "addCenterStaff")
    assert [(e["field"], e["code"]) for e in errors] == [("userUuids", "NOT_STAFF_USER")]
    assert str(dana.uuid) in errors[0]["message"]
    assert staff_uuids(gql, staff) == []
    assert emitted("CenterStaffChanged") == []


def test_adding_an_unknown_user_adds_nobody(gql, staff, center):
    alice, ghost = make_staff(), uuid.uuid4()
    result = gql(ADD, {"code": "HUB01", "users": [str(alice.uuid), str(ghost)]}, as_=staff)
    assert error_codes(result, "addCenterStaff") == ["UNKNOWN_USER"]
    assert staff_uuids(gql, staff) == []


@pytest.mark.parametrize("state", [{"is_active": False}, {"banned": True}])
def test_inactive_or_banned_staff_users_cannot_be_added(gql, staff, center, state):
    gone = make_staff(**state)
    result = gql(ADD, {"code": "HUB01", "users": [str(gone.uuid)]}, as_=staff)
    assert error_codes(result, "addCenterStaff") == ["NOT_STAFF_USER"]


def test_adding_a_member_again_changes_nothing(gql, staff, center):
    alice = make_staff()
    gql(ADD, {"code": "HUB01", "users": [str(alice.uuid)]}, as_=staff)
    again = gql(ADD, {"code": "HUB01", "users": [str(alice.uuid), str(alice.uuid)]}, as_=staff)
    assert payload_errors(again, "addCenterStaff") == []
    assert staff_uuids(gql, staff) == [str(alice.uuid)]
    assert len(emitted("CenterStaffChanged")) == 1


def test_remove_members(gql, staff, center):
    alice, bob = make_staff(), make_staff()
    gql(ADD, {"code": "HUB01", "users": [str(alice.uuid), str(bob.uuid)]}, as_=staff)
    result = gql(REMOVE, {"code": "HUB01", "users": [str(alice.uuid)]}, as_=staff)
    assert result["data"]["removeCenterStaff"] == {
        "distributionCenter": {"staff": [{"uuid": str(bob.uuid)}]},
        "errors": [],
    }
    change = emitted("CenterStaffChanged")[-1]
    assert (change["removedUserUuids"], change["staffUserUuids"]) == (
        [str(alice.uuid)],
        [str(bob.uuid)],
    )


def test_removing_a_non_member_removes_nobody(gql, staff, center):
    alice, outsider = make_staff(), make_staff()
    gql(ADD, {"code": "HUB01", "users": [str(alice.uuid)]}, as_=staff)
    result = gql(
        REMOVE, {"code": "HUB01", "users": [str(alice.uuid), str(outsider.uuid)]}, as_=staff
    )
    assert error_codes(result, "removeCenterStaff") == ["NOT_CENTER_STAFF"]
    assert staff_uuids(gql, staff) == [str(alice.uuid)]


def test_a_member_whose_user_was_deleted_is_left_out_not_null(gql, staff, center):
    """MMD returned a null element (or crashed) for a staff uuid with no user."""
    alice, bob = make_staff(), make_staff()
    gql(ADD, {"code": "HUB01", "users": [str(alice.uuid), str(bob.uuid)]}, as_=staff)
    bob.delete()
    assert staff_uuids(gql, staff) == [str(alice.uuid)]


def test_staff_shows_the_current_profile_not_a_stale_copy(gql, staff, center):
    """MMD served center staff from a 30-day cache that was never invalidated."""
    alice = make_staff(full_name="Alice")
    gql(ADD, {"code": "HUB01", "users": [str(alice.uuid)]}, as_=staff)

    def names() -> list[str]:
        center = gql(STAFF_OF, {"code": "HUB01"}, as_=staff)["data"]["distributionCenter"]
        return [member["fullName"] for member in center["staff"]]

    assert names() == ["Alice"]
    alice.staff_profile.full_name = "Alice Renamed"
    alice.staff_profile.save()
    assert names() == ["Alice Renamed"]


def test_an_empty_list_is_refused(gql, staff, center):
    assert error_codes(gql(ADD, {"code": "HUB01", "users": []}, as_=staff), "addCenterStaff") == [
        "INVALID"
    ]


def test_more_than_a_hundred_users_per_call_is_refused(gql, staff, center):
    many = [str(uuid.uuid4()) for _ in range(101)]
    assert error_codes(gql(ADD, {"code": "HUB01", "users": many}, as_=staff), "addCenterStaff") == [
        "TOO_MANY_USERS"
    ]


def test_a_malformed_uuid_is_a_coded_error(gql, staff, center):
    result = gql(ADD, {"code": "HUB01", "users": ["not-a-uuid"]}, as_=staff, expect_errors=True)
    assert result.status_code == 200
    assert result.error_codes == ["BAD_USER_INPUT"]


def test_unknown_center(gql, staff):
    alice = make_staff()
    result = gql(ADD, {"code": "NOPE01", "users": [str(alice.uuid)]}, as_=staff)
    assert error_codes(result, "addCenterStaff") == ["UNKNOWN_CENTER"]
