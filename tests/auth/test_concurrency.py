"""Limits and one-time secrets under concurrent requests (PostgreSQL: SQLite serialises writers)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from modules.auth import rate_limits, services
from modules.auth.models import RefreshTokenFamily, VerificationCode
from modules.user.models import User
from tests.auth.flows import last_sent_code
from tests.factories import make_driver

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
    pytest.mark.django_db(transaction=True),
]

PHONE = "+821012345555"


def race(*actions: Callable[[], Any]) -> list[Any]:
    """Run the actions at the same moment, each in its own thread and connection."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(index: int, action: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = action()
        except ValidationError as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def error_code(outcome: Any) -> str | None:
    if not isinstance(outcome, ValidationError):
        return None
    if hasattr(outcome, "error_dict"):
        return str(next(iter(outcome.error_dict.values()))[0].code)
    error = outcome.error_list[0]
    return str(error.code)


def test_concurrent_requests_cannot_pass_the_daily_limit():
    def request() -> Any:
        return services.verification_code_request(phone_number=PHONE, purpose="SIGN_IN")

    outcomes = race(*[request] * 8)
    assert sum(error_code(o) is None for o in outcomes) == 5
    assert sorted(filter(None, map(error_code, outcomes))) == ["RATE_LIMITED"] * 3
    assert VerificationCode.objects.count() == 5


def test_concurrent_refreshes_of_one_token_count_as_reuse():
    user = make_driver(phone_number=PHONE)
    session = services.session_start(user_uuid=user.uuid)

    def refresh() -> Any:
        return services.refresh_token_rotate(refresh_token=session.refresh_token)

    outcomes = race(refresh, refresh, refresh, refresh)
    assert sum(error_code(o) is None for o in outcomes) == 1, "exactly one exchange succeeds"
    refused = [error_code(o) for o in outcomes if error_code(o)]
    # The first late arrival detects the reuse; later ones find the session already revoked.
    assert "TOKEN_REUSED" in refused and set(refused) <= {"TOKEN_REUSED", "INVALID_REFRESH_TOKEN"}
    assert RefreshTokenFamily.objects.get().revoked_reason == "reuse"


def test_one_sign_up_code_makes_one_user_however_often_it_is_sent():
    services.verification_code_request(phone_number=PHONE, purpose="SIGN_UP")
    code = last_sent_code(PHONE)

    def sign_up() -> Any:
        return services.sign_up(
            phone_number=PHONE, code=code, user_type="DRIVER", full_name="Kim", date_of_birth=None
        )

    outcomes = race(sign_up, sign_up, sign_up)
    assert sum(error_code(o) is None for o in outcomes) == 1
    assert User.objects.count() == 1


def test_concurrent_hits_take_exactly_the_limit():
    def hit() -> bool:
        return rate_limits.hit("test:concurrent", limit=3, window=dt.timedelta(minutes=1))

    assert sorted(race(*[hit] * 8)) == [False] * 5 + [True] * 3


def test_concurrent_guesses_at_one_username_take_exactly_its_limit(settings):
    # Each guess takes its slot before the (slow) password check, so none slips in under the limit.
    settings.SIGN_IN_FAILURES_PER_USERNAME_PER_MINUTE = 3

    def guess_from(n: int) -> Callable[[], Any]:
        return lambda: services.sign_in_with_password(
            username="STAFF", password="guess", client=f"198.51.100.{n}"
        )

    outcomes = race(*[guess_from(n) for n in range(8)])
    codes = sorted(str(error_code(outcome)) for outcome in outcomes)
    assert codes == ["INVALID_CREDENTIALS"] * 3 + ["RATE_LIMITED"] * 5
