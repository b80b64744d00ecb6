"""Fixtures for jobs tests: callers of every kind, MMD's two centers, a worker run."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import make_driver, make_staff, make_user
from tests.live.fixtures import (  # noqa: F401  (live servers for test_live_updates)
    live_channel_prefix,
    live_database_url,
    start_server,
)
from tests.shipping.factories import make_center


@pytest.fixture
def staff() -> Any:
    return make_staff(full_name="Sam Staff")


@pytest.fixture
def other_staff() -> Any:
    return make_staff(full_name="Olga Staff")


@pytest.fixture
def driver() -> Any:
    return make_driver(full_name="Dana Driver")


@pytest.fixture
def non_staff() -> Any:
    return make_user(type="STAFF", is_staff=False)


@pytest.fixture
def centers() -> list[Any]:
    return [make_center("ABC001", "CENTER-ABC"), make_center("ABC002", "CENTER-ABC2")]


@pytest.fixture
def small_chunks(settings: Any) -> None:
    settings.JOBS_CHUNK_SIZE = 3


def run_jobs() -> int:
    """What a worker does: run every claimable job to its end, in this thread."""
    from modules.jobs.worker import work_available

    return work_available("test-worker")
