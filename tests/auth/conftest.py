from __future__ import annotations

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings

from tests.auth.flows import Clock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    return clock


@pytest.fixture
def test_numbers(settings: Settings) -> dict[str, str]:
    settings.AUTH_TEST_PHONE_NUMBERS = "+15550000001:123456,+15550000002:654321"
    return {"+15550000001": "123456", "+15550000002": "654321"}
