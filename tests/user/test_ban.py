"""`banUser`: a superuser bans a user for good; the number can never sign up again."""

import uuid

import pytest

from modules.auth.services import api_key_create
from modules.user.models import DriverProfile, User
from modules.user.phone_numbers import banned_phone_digest
from tests.auth.flows import ME, codes, events_of
from tests.factories import make_driver, make_staff, make_superuser

pytestmark = pytest.mark.django_db

BAN = """
mutation($uuid: UUID!) {
  banUser(uuid: $uuid) { user { uuid username phoneNumber fullName } errors { field code message } }
}"""
PHONE = "+821099999999"


def ban(gql, target_uuid, as_):
    return gql(BAN, {"uuid": str(target_uuid)}, as_=as_)["data"]["banUser"]


def test_superuser_bans_a_user(gql):
    target = make_driver(phone_number=PHONE, full_name="Bad Actor")
    payload = ban(gql, target.uuid, make_superuser())
    assert payload["errors"] == []
    assert payload["user"] == {
        "uuid": str(target.uuid),
        "username": f"banned-{target.uuid.hex}",
        "phoneNumber": None,
        "fullName": "",
    }
    target.refresh_from_db()
    assert (
        target.banned and target.banned_at and not target.is_active and target.phone_number is None
    )
    assert target.banned_phone_digest == banned_phone_digest(PHONE)
    assert PHONE not in target.banned_phone_digest
    assert DriverProfile.objects.get(user=target).full_name == ""


def test_banned_users_tokens_stop_working(gql):
    target = make_driver(phone_number=PHONE)
    assert gql(ME, as_=target)["data"]["me"]
    from tests.conftest import bearer

    token = bearer(target)
    ban(gql, target.uuid, make_superuser())
    assert gql(ME, as_=token, expect_errors=True).error_codes == ["UNAUTHENTICATED"]


# Defect 14.9: bans emitted the event twice with two payload shapes.
def test_ban_emits_one_event_without_the_phone_number(gql):
    target = make_driver(phone_number=PHONE)
    admin = make_superuser()
    ban(gql, target.uuid, admin)
    [event] = events_of("UserBanned")
    assert event["data"] == {"userUuid": str(target.uuid), "userType": "DRIVER"}
    assert event["actor"] == {"type": "user", "uuid": str(admin.uuid)}
    assert "9999999" not in str(event)


def test_superuser_cannot_ban_themselves(gql):
    admin = make_superuser()
    assert codes(ban(gql, admin.uuid, admin)) == ["CANNOT_BAN_YOURSELF"]
    admin.refresh_from_db()
    assert not admin.banned and admin.is_active


def test_banning_twice_is_a_typed_error(gql):
    target, admin = make_driver(), make_superuser()
    ban(gql, target.uuid, admin)
    assert codes(ban(gql, target.uuid, admin)) == ["ALREADY_BANNED"]
    assert len(events_of("UserBanned")) == 1


def test_unknown_user_is_not_found(gql):
    assert codes(ban(gql, uuid.uuid4(), make_superuser())) == ["NOT_FOUND"]


def test_malformed_uuid_is_a_graphql_input_error(gql):
    result = gql(BAN, {"uuid": "nope"}, as_=make_superuser(), expect_errors=True)
    assert result.error_codes == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("caller", ["anonymous", "driver", "staff"])
def test_only_a_superuser_may_ban(gql, caller):
    target = make_driver(phone_number=PHONE)
    as_ = {"anonymous": None, "driver": make_driver(), "staff": make_staff()}[caller]
    payload = ban(gql, target.uuid, as_)
    assert codes(payload) == (["UNAUTHENTICATED"] if caller == "anonymous" else ["FORBIDDEN"])
    target.refresh_from_db()
    assert not target.banned and target.phone_number == PHONE
    assert events_of("UserBanned") == []


def test_api_key_cannot_ban(gql):
    target = make_driver()
    key = api_key_create(name="hb", scopes=["HEARTBEAT", "DISTRIBUTION", "NOTIFICATION"]).key
    assert codes(ban(gql, target.uuid, f"Api-Key {key}")) == ["FORBIDDEN"]
    assert not User.objects.get(pk=target.pk).banned
