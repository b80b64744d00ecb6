"""purge_expired (the heartbeat's auth task): removes what can no longer be used or counted."""

import pytest

from modules.auth.api import purge_expired
from modules.auth.models import (
    PhoneNumberLock,
    RateLimitWindow,
    RefreshToken,
    RefreshTokenFamily,
    VerificationCode,
)
from tests.auth.flows import codes, request_code, sign_in_with_code
from tests.factories import make_driver

pytestmark = pytest.mark.django_db

PHONE = "+821012345555"


def test_nothing_to_purge_right_after_use(gql):
    make_driver(phone_number=PHONE)
    sign_in_with_code(gql, PHONE)
    assert set(purge_expired().values()) == {0}


def test_expired_codes_tokens_and_sessions_are_purged(gql, clock):
    make_driver(phone_number=PHONE)
    sign_in_with_code(gql, PHONE)
    clock.advance(days=31)
    counts = purge_expired()
    assert (
        counts["verification_codes"] == 1
        and counts["refresh_tokens"] == 1
        and counts["sessions"] == 1
    )
    assert counts["phone_number_locks"] == 1 and counts["rate_limit_windows"] >= 1
    for model in (
        VerificationCode,
        RefreshToken,
        RefreshTokenFamily,
        PhoneNumberLock,
        RateLimitWindow,
    ):
        assert not model.objects.exists(), model.__name__


def test_codes_stay_a_day_so_the_daily_limit_still_counts_them(gql, clock):
    for _ in range(5):
        request_code(gql, PHONE)
    clock.advance(hours=23)
    assert purge_expired()["verification_codes"] == 0
    assert codes(request_code(gql, PHONE)) == ["RATE_LIMITED"]
    clock.advance(hours=1, minutes=1)
    assert purge_expired()["verification_codes"] == 5


def test_live_session_survives_the_purge(gql, clock):
    make_driver(phone_number=PHONE)
    payload = sign_in_with_code(gql, PHONE)
    clock.advance(days=2)
    purge_expired()
    renewed = gql(
        "mutation($t: String!) { refreshToken(refreshToken: $t) { errors { code } } }",
        {"t": payload["refreshToken"]},
    )
    assert renewed["data"]["refreshToken"]["errors"] == []
    assert RefreshTokenFamily.objects.count() == 1


def test_purge_reports_counts_by_kind():
    counts = purge_expired()
    assert set(counts) == {
        "verification_codes",
        "phone_number_locks",
        "rate_limit_windows",
        "refresh_tokens",
        "sessions",
    }
    assert all(isinstance(n, int) for n in counts.values())
