"""signInWithPassword: staff sign-in; the same answer for an unknown user and a wrong password."""

import pytest

from modules.auth.models import RefreshTokenFamily
from tests.auth.flows import ME, SIGN_IN_WITH_PASSWORD, codes
from tests.factories import make_driver, make_staff, make_user

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-Staff-passw0rd"


def sign_in(gql, username, password):
    return gql(SIGN_IN_WITH_PASSWORD, {"username": username, "password": password})["data"][
        "signInWithPassword"
    ]


def test_staff_signs_in_with_username_and_password(gql):
    staff = make_staff(username="STAFF", password=PASSWORD)
    payload = sign_in(gql, "STAFF", PASSWORD)
    assert payload["errors"] == [] and payload["user"]["uuid"] == str(staff.uuid)
    assert gql(ME, as_=f"Bearer {payload['accessToken']}")["data"]["me"]["username"] == "STAFF"
    staff.refresh_from_db()
    assert staff.last_login is not None


def test_wrong_password_and_unknown_user_get_the_same_error(gql):
    make_staff(username="STAFF", password=PASSWORD)
    wrong_password = sign_in(gql, "STAFF", "nope")
    unknown_user = sign_in(gql, "NOBODY", PASSWORD)
    assert codes(wrong_password) == codes(unknown_user) == ["INVALID_CREDENTIALS"]
    assert wrong_password["errors"][0]["message"] == unknown_user["errors"][0]["message"]
    assert not RefreshTokenFamily.objects.exists()


def test_driver_cannot_use_password_sign_in(gql):
    make_driver(username="driver1", password=PASSWORD)
    assert codes(sign_in(gql, "driver1", PASSWORD)) == ["INVALID_CREDENTIALS"]


def test_staff_type_user_without_staff_flag_may_sign_in_but_has_no_staff_powers(gql):
    make_user(type="STAFF", is_staff=False, username="clerk", password=PASSWORD)
    payload = sign_in(gql, "clerk", PASSWORD)
    assert payload["errors"] == []
    result = gql(
        "{ users(first: 1) { totalCount } }",
        as_=f"Bearer {payload['accessToken']}",
        expect_errors=True,
    )
    assert result.error_codes == ["FORBIDDEN"], "defect 14 (2.5): IsStaff ignored is_staff"


def test_inactive_staff_cannot_sign_in(gql):
    make_staff(username="gone", password=PASSWORD, is_active=False)
    assert codes(sign_in(gql, "gone", PASSWORD)) == ["INVALID_CREDENTIALS"]


def test_user_without_a_password_cannot_sign_in_with_an_empty_one(gql):
    make_staff(username="nopass")
    assert codes(sign_in(gql, "nopass", "")) == ["INVALID_CREDENTIALS"]


def test_password_guessing_is_rate_limited_per_username(gql, settings):
    settings.SIGN_IN_RATE_LIMIT_PER_MINUTE = 3
    make_staff(username="STAFF", password=PASSWORD)
    for _ in range(3):
        assert codes(sign_in(gql, "STAFF", "guess")) == ["INVALID_CREDENTIALS"]
    assert codes(sign_in(gql, "STAFF", PASSWORD)) == ["RATE_LIMITED"]


def test_rate_limit_lifts_after_a_minute(gql, settings, clock):
    settings.SIGN_IN_RATE_LIMIT_PER_MINUTE = 1
    make_staff(username="STAFF", password=PASSWORD)
    sign_in(gql, "STAFF", "guess")
    assert codes(sign_in(gql, "STAFF", PASSWORD)) == ["RATE_LIMITED"]
    clock.advance(seconds=61)
    assert sign_in(gql, "STAFF", PASSWORD)["errors"] == []
