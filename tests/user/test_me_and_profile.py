"""`me` and `updateProfile`: the signed-in user's own data (MMD 10.3)."""

import pytest
from django.contrib.auth.models import Group

from modules.auth.services import api_key_create
from modules.user.models import DriverProfile, StaffProfile
from tests.auth.flows import ME, codes, events_of
from tests.factories import make_driver, make_staff

pytestmark = pytest.mark.django_db

UPDATE = """
mutation($input: UpdateProfileInput!) {
  updateProfile(input: $input) {
    user { uuid username fullName dateOfBirth } errors { field code message }
  }
}"""


@pytest.fixture
def staff_user():
    # MMD fixture user pk2 ("staff_user").
    return make_staff(username="STAFF", phone_number="+821012345556", full_name="staff_fullname")


# MMD 10.3 #15
def test_anonymous_me_is_unauthenticated(gql):
    result = gql(ME, expect_errors=True)
    assert result.error_codes == ["UNAUTHENTICATED"] and result["data"] is None


# MMD 10.3 #16
def test_me_as_staff_shows_the_profile(gql, staff_user):
    staff_user.groups.add(Group.objects.create(name="dispatch"))
    me = gql(ME, as_=staff_user)["data"]["me"]
    assert me == {
        "uuid": str(staff_user.uuid),
        "username": "STAFF",
        "phoneNumber": "+821012345556",
        "type": "STAFF",
        "fullName": "staff_fullname",
        "dateOfBirth": None,
        "isStaff": True,
        "groups": ["dispatch"],
    }


# Defect 14.7: any DRIVER profile answered 500 (a missing comma in the serializer).
def test_me_as_driver_shows_the_date_of_birth(gql):
    import datetime as dt

    driver = make_driver(full_name="Kim Driver")
    DriverProfile.objects.filter(user=driver).update(date_of_birth=dt.date(1990, 4, 1))
    me = gql(ME, as_=driver)["data"]["me"]
    assert (
        me["type"] == "DRIVER"
        and me["fullName"] == "Kim Driver"
        and me["dateOfBirth"] == "1990-04-01"
    )


# Defect 14.8: reading a profile get_or_created rows.
def test_reading_me_writes_nothing(gql, staff_user):
    StaffProfile.objects.filter(user=staff_user).delete()
    me = gql(ME, as_=staff_user)["data"]["me"]
    assert me["fullName"] == "" and not StaffProfile.objects.exists()


def test_api_key_has_no_me(gql):
    key = api_key_create(name="hb", scopes=["HEARTBEAT"]).key
    assert gql(ME, as_=f"Api-Key {key}", expect_errors=True).error_codes == ["FORBIDDEN"]


# MMD 10.3 #17
def test_update_full_name(gql, staff_user):
    payload = gql(UPDATE, {"input": {"fullName": "staff_fullname_1234"}}, as_=staff_user)["data"][
        "updateProfile"
    ]
    assert payload["errors"] == [] and payload["user"]["fullName"] == "staff_fullname_1234"
    assert gql(ME, as_=staff_user)["data"]["me"]["fullName"] == "staff_fullname_1234"


# MMD 10.3 #18: username is not a profile field; GraphQL refuses it instead of ignoring it.
def test_username_cannot_be_changed_through_the_profile(gql, staff_user):
    result = gql(
        UPDATE, {"input": {"username": "new_username"}}, as_=staff_user, expect_errors=True
    )
    assert result.error_codes == ["BAD_USER_INPUT"]
    staff_user.refresh_from_db()
    assert staff_user.username == "STAFF"


def test_update_date_of_birth_only_keeps_the_name(gql, staff_user):
    payload = gql(UPDATE, {"input": {"dateOfBirth": "1980-02-29"}}, as_=staff_user)["data"][
        "updateProfile"
    ]
    assert (
        payload["user"]["fullName"] == "staff_fullname"
        and payload["user"]["dateOfBirth"] == "1980-02-29"
    )


def test_update_emits_the_changed_field_names_only(gql, staff_user):
    gql(UPDATE, {"input": {"fullName": "New Name"}}, as_=staff_user)
    [event] = events_of("UserProfileUpdated")
    assert event["data"] == {"userUuid": str(staff_user.uuid), "changedFields": ["fullName"]}
    assert event["actor"] == {"type": "user", "uuid": str(staff_user.uuid)}


def test_update_that_changes_nothing_emits_nothing(gql, staff_user):
    gql(UPDATE, {"input": {"fullName": "staff_fullname"}}, as_=staff_user)
    assert events_of("UserProfileUpdated") == []


@pytest.mark.parametrize(
    "fields, code",
    [
        ({"fullName": "x"}, "INVALID_FULL_NAME"),
        ({"fullName": "y" * 101}, "INVALID_FULL_NAME"),
        ({"dateOfBirth": "2999-01-01"}, "INVALID_DATE_OF_BIRTH"),
    ],
)
def test_bad_profile_values_are_typed_errors_and_change_nothing(gql, staff_user, fields, code):
    payload = gql(UPDATE, {"input": {"fullName": "Good Name", **fields}}, as_=staff_user)["data"][
        "updateProfile"
    ]
    assert codes(payload) == [code] and payload["user"] is None
    assert StaffProfile.objects.get(user=staff_user).full_name == "staff_fullname"
    assert events_of("UserProfileUpdated") == []


def test_anonymous_cannot_update_a_profile(gql):
    payload = gql(UPDATE, {"input": {"fullName": "Someone"}})["data"]["updateProfile"]
    assert codes(payload) == ["UNAUTHENTICATED"]


def test_api_key_cannot_update_a_profile(gql):
    key = api_key_create(name="hb", scopes=["HEARTBEAT"]).key
    payload = gql(UPDATE, {"input": {"fullName": "Someone"}}, as_=f"Api-Key {key}")["data"][
        "updateProfile"
    ]
    assert codes(payload) == ["FORBIDDEN"]
