"""Fixtures for distribution tests: callers of every kind, MMD's two centers, and event lookups."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.distribution.factories import api_key
from tests.factories import make_driver, make_staff, make_superuser, make_user

MMD_CENTER_ABC001 = uuid.UUID("48574f05-a29e-4735-a817-839b228c3e82")
MMD_CENTER_ABC002 = uuid.UUID("48574f05-a29e-4735-a817-839b228c3e81")


@pytest.fixture
def staff() -> Any:
    return make_staff(full_name="Sam Staff")


@pytest.fixture
def superuser() -> Any:
    return make_superuser()


@pytest.fixture
def driver() -> Any:
    return make_driver(full_name="Dana Driver")


@pytest.fixture
def non_staff() -> Any:
    """A STAFF-type user without staff powers (MMD's "user_1")."""
    return make_user(type="STAFF", is_staff=False)


@pytest.fixture
def distribution_key() -> str:
    return api_key("DISTRIBUTION")


@pytest.fixture
def heartbeat_key() -> str:
    return api_key("HEARTBEAT")


@pytest.fixture
def callers(staff, driver, non_staff, distribution_key, heartbeat_key) -> dict[str, Any]:
    return {
        "anonymous": None,
        "driver": driver,
        "non_staff": non_staff,
        "staff": staff,
        "distribution_key": distribution_key,
        "heartbeat_key": heartbeat_key,
    }


@pytest.fixture
def mmd_centers() -> list[Any]:
    """MMD's fixture centers ABC001 and ABC002 (tests/fixtures/distribution/center.json)."""
    from modules.distribution.models import DistributionCenter

    return [
        DistributionCenter.objects.create(
            uuid=MMD_CENTER_ABC001, center_code="ABC001", name="CENTER-ABC"
        ),
        DistributionCenter.objects.create(
            uuid=MMD_CENTER_ABC002, center_code="ABC002", name="CENTER-ABC2"
        ),
    ]
