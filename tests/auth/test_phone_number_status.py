"""phoneNumberStatus: the first call of MMD's flow (which way to go: sign in or sign up)."""

import pytest
from django.test import Client

from tests.conftest import call_graphql
from tests.factories import make_driver, make_superuser

pytestmark = pytest.mark.django_db

STATUS = "query($phone: String!) { phoneNumberStatus(phoneNumber: $phone) { registered banned } }"


def status(gql, phone, **kwargs):
    return gql(STATUS, {"phone": phone}, **kwargs)


# MMD 10.2 #1 and #2: a number nobody uses (whether or not a code was ever asked for it).
def test_unknown_number_is_not_registered(gql):
    assert status(gql, "+821012341232")["data"]["phoneNumberStatus"] == {
        "registered": False,
        "banned": False,
    }


# MMD 10.2 #3
def test_number_of_a_user_is_registered(gql):
    make_driver(phone_number="+821012345555")
    assert status(gql, "+821012345555")["data"]["phoneNumberStatus"] == {
        "registered": True,
        "banned": False,
    }


def test_number_is_normalised_before_the_lookup(gql):
    make_driver(phone_number="+821012345555")
    assert status(gql, "+82 10-1234-5555")["data"]["phoneNumberStatus"]["registered"] is True


@pytest.mark.parametrize("phone", ["01012345555", "+1234", "not a number", "", "+82" + "1" * 40])
def test_malformed_number_is_an_invalid_phone_number_error(gql, phone):
    result = status(gql, phone, expect_errors=True)
    assert result.error_codes == ["INVALID_PHONE_NUMBER"]


def test_banned_number_reports_banned_and_not_registered(gql):
    target = make_driver(phone_number="+821099999999")
    ban = "mutation($uuid: UUID!) { banUser(uuid: $uuid) { errors { code } } }"
    assert (
        gql(ban, {"uuid": str(target.uuid)}, as_=make_superuser())["data"]["banUser"]["errors"]
        == []
    )
    assert status(gql, "+821099999999")["data"]["phoneNumberStatus"] == {
        "registered": False,
        "banned": True,
    }


def test_status_is_rate_limited_per_client(gql, settings):
    settings.PHONE_STATUS_RATE_LIMIT_PER_MINUTE = 3
    for n in range(3):
        assert "errors" not in status(gql, f"+82101234000{n}")
    assert status(gql, "+821012340009", expect_errors=True).error_codes == ["RATE_LIMITED"]


def test_status_is_rate_limited_per_number_across_clients(settings):
    settings.PHONE_STATUS_RATE_LIMIT_PER_MINUTE = 2
    for address in ("10.0.0.1", "10.0.0.2"):
        assert "errors" not in call_graphql(
            Client(REMOTE_ADDR=address), STATUS, {"phone": "+821012345555"}
        )
    result = call_graphql(Client(REMOTE_ADDR="10.0.0.3"), STATUS, {"phone": "+821012345555"})
    assert result.error_codes == ["RATE_LIMITED"]


def test_forwarded_address_counts_when_a_proxy_is_trusted(settings):
    settings.PHONE_STATUS_RATE_LIMIT_PER_MINUTE = 1
    settings.TRUSTED_PROXY_HOPS = 1

    def via_proxy(address):
        return Client(REMOTE_ADDR="10.0.0.254", HTTP_X_FORWARDED_FOR=f"198.51.100.7, {address}")

    for n, address in enumerate(("203.0.113.1", "203.0.113.2")):
        result = call_graphql(via_proxy(address), STATUS, {"phone": f"+82101234000{n}"})
        assert "errors" not in result, "each client behind the proxy has its own budget"
    result = call_graphql(via_proxy("203.0.113.1"), STATUS, {"phone": "+821012340005"})
    assert result.error_codes == ["RATE_LIMITED"]


def test_rate_limit_window_ends_after_a_minute(gql, settings, clock):
    settings.PHONE_STATUS_RATE_LIMIT_PER_MINUTE = 1
    assert "errors" not in status(gql, "+821012345555")
    assert status(gql, "+821012345555", expect_errors=True).error_codes == ["RATE_LIMITED"]
    clock.advance(seconds=61)
    assert "errors" not in status(gql, "+821012345555")
