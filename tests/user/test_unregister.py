"""`unregister`: the user leaves, anonymised and deactivated; every token of theirs stops."""

import pytest

from modules.auth.models import RefreshTokenFamily
from modules.auth.services import api_key_create
from modules.user.models import DriverProfile, User
from tests.auth.flows import ME, REFRESH, codes, events_of, sign_in_with_code, sign_up
from tests.factories import make_driver

pytestmark = pytest.mark.django_db

UNREGISTER = "mutation { unregister { errors { field code message } } }"
PHONE = "+821012345555"


@pytest.fixture
def signed_in(gql):
    user = make_driver(phone_number=PHONE, full_name="Kim Driver")
    first = sign_in_with_code(gql, PHONE)
    second = sign_in_with_code(gql, PHONE)
    return user, first, second


# Defect 14.1: the unregister endpoint always answered 500.
def test_unregister_anonymises_and_deactivates(gql, signed_in):
    user, first, _ = signed_in
    payload = gql(UNREGISTER, as_=f"Bearer {first['accessToken']}")["data"]["unregister"]
    assert payload["errors"] == []
    user.refresh_from_db()
    assert user.phone_number is None and not user.is_active and user.unregistered_at is not None
    assert user.username == f"unregistered-{user.uuid.hex}"
    assert not user.has_usable_password()
    profile = DriverProfile.objects.get(user=user)
    assert profile.full_name == "" and profile.date_of_birth is None
    assert not user.banned and user.banned_phone_digest == ""


def test_every_token_of_the_user_stops_working(gql, signed_in):
    _, first, second = signed_in
    gql(UNREGISTER, as_=f"Bearer {first['accessToken']}")
    for session in (first, second):
        assert gql(ME, as_=f"Bearer {session['accessToken']}", expect_errors=True).error_codes == [
            "UNAUTHENTICATED"
        ]
        renewed = gql(REFRESH, {"token": session["refreshToken"]})["data"]["refreshToken"]
        assert codes(renewed) == ["INVALID_REFRESH_TOKEN"]
    assert not RefreshTokenFamily.objects.filter(revoked_at__isnull=True).exists()
    assert set(RefreshTokenFamily.objects.values_list("revoked_reason", flat=True)) == {
        "unregistered"
    }


def test_unregister_emits_one_event_without_the_phone_number(gql, signed_in):
    user, first, _ = signed_in
    gql(UNREGISTER, as_=f"Bearer {first['accessToken']}")
    [event] = events_of("UserUnregistered")
    assert event["data"] == {"userUuid": str(user.uuid), "userType": "DRIVER"}
    assert PHONE not in str(event) and "1012345555" not in str(event)


def test_number_of_an_unregistered_user_can_sign_up_again(gql, signed_in):
    user, first, _ = signed_in
    gql(UNREGISTER, as_=f"Bearer {first['accessToken']}")
    payload = sign_up(gql, PHONE)
    assert payload["errors"] == [] and payload["user"]["uuid"] != str(user.uuid)


# Defect 14.5: anonymised usernames were truncated to 15 characters.
def test_anonymised_usernames_stay_unique(gql):
    for _ in range(2):
        user = make_driver()
        gql(UNREGISTER, as_=user)
    assert User.objects.filter(username__startswith="unregistered-").count() == 2


def test_anonymous_cannot_unregister(gql):
    assert codes(gql(UNREGISTER)["data"]["unregister"]) == ["UNAUTHENTICATED"]


def test_api_key_cannot_unregister(gql):
    key = api_key_create(name="hb", scopes=["HEARTBEAT"]).key
    assert codes(gql(UNREGISTER, as_=f"Api-Key {key}")["data"]["unregister"]) == ["FORBIDDEN"]
