"""Socket counts shared between gateway processes through Redis (schema/kit/live_counts.py)."""

from __future__ import annotations

import time
import uuid

import pytest
from django.conf import settings

from schema.kit.live_counts import LiveCounts, Totals


def test_without_redis_a_process_counts_its_own(settings):
    settings.REDIS_URL = ""
    counts = LiveCounts()
    counts.change(connections=1, subscriptions=1)
    counts.change(connections=1)
    counts.change(subscriptions=-1)
    assert counts.totals() == Totals(connections=2, subscriptions=0)


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")
def test_processes_add_up_and_an_expired_one_counts_no_more():
    import redis

    connection = redis.Redis.from_url(settings.REDIS_URL)
    key = f"test-live-counts-{uuid.uuid4().hex}"  # the test's own processes only
    one, other = LiveCounts(key=key), LiveCounts(key=key)
    one.change(connections=2, subscriptions=3)
    other.change(connections=1)
    connection.hset(key, "gone:1:x", f"5 5 {time.time() - 1:.3f}")  # killed long ago

    deadline = time.monotonic() + 10
    # Each process's thread shares its counts right after its change, each in its own time.
    while (one.totals(), other.totals()) != (Totals(3, 3), Totals(3, 3)):
        assert time.monotonic() < deadline, (one.totals(), other.totals())
        time.sleep(0.05)
    assert b"gone:1:x" not in connection.hkeys(key)  # a reader removed it
    connection.delete(key)  # a refresh puts it back, to expire within seconds
