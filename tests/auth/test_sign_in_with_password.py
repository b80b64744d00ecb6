"""signInWithPassword: staff sign-in; the same answer for an unknown user and a wrong password."""

import pytest
from django.test import Client

from modules.auth.models import RefreshTokenFamily
from tests.auth.flows import ME, SIGN_IN_WITH_PASSWORD, codes
from tests.conftest import call_graphql
from tests.factories import make_driver, make_staff, make_user

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-Staff-passw0rd"


def sign_in(gql, username, password):
    return gql(SIGN_IN_WITH_PASSWORD, {"username": username, "password": password})["data"][
        "signInWithPassword"
    ]


def sign_in_from(address, username, password):
    """The sign-in as a client at `address` sends it (the test client's default is 127.0.0.1)."""
    result = call_graphql(
        Client(REMOTE_ADDR=address),
        SIGN_IN_WITH_PASSWORD,
        {"username": username, "password": password},
    )
    assert "errors" not in result, result["errors"]
    return result["data"]["signInWithPassword"]


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


# --- guessing from many addresses must neither lock the staff member out nor go unbounded ------

ATTACKER = "198.51.100.9"
STAFF_MEMBER = "203.0.113.5"


def test_failures_from_another_address_do_not_lock_the_staff_member_out(settings):
    settings.SIGN_IN_RATE_LIMIT_PER_MINUTE = 2
    make_staff(username="STAFF", password=PASSWORD)
    assert codes(sign_in_from(ATTACKER, "STAFF", "guess")) == ["INVALID_CREDENTIALS"]
    assert codes(sign_in_from(ATTACKER, "staff", "guess")) == ["INVALID_CREDENTIALS"]
    # The failing address is stopped, even when it comes up with the right password ...
    assert codes(sign_in_from(ATTACKER, "STAFF", PASSWORD)) == ["RATE_LIMITED"]
    # ... while the staff member, elsewhere, signs in.
    payload = sign_in_from(STAFF_MEMBER, "STAFF", PASSWORD)
    assert payload["errors"] == [] and payload["accessToken"]


def test_successful_sign_ins_do_not_count_towards_the_username_limits(settings):
    settings.SIGN_IN_RATE_LIMIT_PER_MINUTE = 1
    settings.SIGN_IN_FAILURES_PER_USERNAME_PER_MINUTE = 1
    make_staff(username="STAFF", password=PASSWORD)
    for n in range(3):  # e.g. one staff member on a laptop, a phone and a tablet
        assert sign_in_from(f"203.0.113.{n}", "STAFF", PASSWORD)["errors"] == []


@pytest.mark.parametrize("username", ["STAFF", "NOBODY"])
def test_guessing_one_username_from_many_addresses_is_bounded(settings, username):
    settings.SIGN_IN_RATE_LIMIT_PER_MINUTE = 2
    settings.SIGN_IN_FAILURES_PER_USERNAME_PER_MINUTE = 3
    make_staff(username="STAFF", password=PASSWORD)
    # A known and an unknown username are limited alike: the limits tell nobody which exists.
    seen = [codes(sign_in_from(f"198.51.100.{n}", username, "guess")) for n in range(4)]
    assert seen == [["INVALID_CREDENTIALS"]] * 3 + [["RATE_LIMITED"]]
    # Past the username's limit nothing is checked, so a right guess is no use.
    assert codes(sign_in_from("198.51.100.99", username, PASSWORD)) == ["RATE_LIMITED"]


def test_the_username_limit_lifts_after_a_minute(settings, clock):
    settings.SIGN_IN_RATE_LIMIT_PER_MINUTE = 5
    settings.SIGN_IN_FAILURES_PER_USERNAME_PER_MINUTE = 2
    make_staff(username="STAFF", password=PASSWORD)
    for n in range(2):
        sign_in_from(f"198.51.100.{n}", "STAFF", "guess")
    assert codes(sign_in_from(STAFF_MEMBER, "STAFF", PASSWORD)) == ["RATE_LIMITED"]
    clock.advance(seconds=61)
    assert sign_in_from(STAFF_MEMBER, "STAFF", PASSWORD)["errors"] == []
