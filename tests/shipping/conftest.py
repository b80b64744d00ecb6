"""Fixtures for shipping tests: callers of every kind and MMD's two centers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import make_driver, make_staff, make_superuser, make_user
from tests.shipping.factories import api_key, make_center


@pytest.fixture
def staff() -> Any:
    return make_staff(full_name="Sam Staff")


@pytest.fixture
def driver() -> Any:
    return make_driver(full_name="Dana Driver")


@pytest.fixture
def other_driver() -> Any:
    return make_driver(full_name="Otto Other")


@pytest.fixture
def non_staff() -> Any:
    """A STAFF-type user without staff powers (MMD's "user_1")."""
    return make_user(type="STAFF", is_staff=False)


@pytest.fixture
def superuser() -> Any:
    return make_superuser()


@pytest.fixture
def distribution_key() -> str:
    return api_key("DISTRIBUTION")


@pytest.fixture
def centers() -> list[Any]:
    """MMD's fixture centers ABC001 and ABC002."""
    return [make_center("ABC001", "CENTER-ABC"), make_center("ABC002", "CENTER-ABC2")]
