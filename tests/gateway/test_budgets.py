"""Per-client cost budgets (schema/guard/budgets.py): a leaky bucket per user, API key or
address; THROTTLED with HTTP 429 and Retry-After when an operation does not fit."""

from __future__ import annotations

import multiprocessing
import os
import uuid

import pytest

from schema.guard import budgets
from schema.guard.budgets import Bucket, MemoryBudgets, RedisBudgets
from tests.conftest import bearer, call_graphql
from tests.factories import make_staff, make_superuser

pytestmark = pytest.mark.django_db

ME = "{ me { uuid } }"  # costs 1, requested and actual


@pytest.fixture
def small_buckets(settings):
    """Buckets of 3 points that do not refill within a test."""
    settings.GRAPHQL_COST_BUCKET_SIZE = 3
    settings.GRAPHQL_COST_RESTORE_RATE = 0.001


def test_a_client_spends_its_bucket_then_gets_429_with_retry_after(client, small_buckets):
    staff = bearer(make_staff())
    for left in (2, 1, 0):
        answer = call_graphql(client, ME, authorization=staff)
        assert "errors" not in answer
        assert answer.extensions["cost"]["throttleStatus"]["currentlyAvailable"] == left
    refused = client.post(
        "/graphql/", {"query": ME}, content_type="application/json", HTTP_AUTHORIZATION=staff
    )
    assert refused.status_code == 429
    body = refused.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["THROTTLED"]
    # One point at 0.001 per second: 1,000 seconds.
    assert refused["Retry-After"] == "1000"
    assert body["errors"][0]["extensions"]["retryAfter"] == 1000
    assert "data" not in body or body["data"] is None


def test_each_user_has_a_bucket_of_their_own(client, small_buckets):
    first, second = bearer(make_staff()), bearer(make_staff())
    for _ in range(3):
        call_graphql(client, ME, authorization=first)
    assert call_graphql(client, ME, authorization=first).status_code == 429
    assert "errors" not in call_graphql(client, ME, authorization=second)


def test_anonymous_callers_are_told_apart_by_address(client, small_buckets):
    # One object for anyone (anonymous calls answer few others: an error refunds its cost).
    query = '{ phoneNumberStatus(phoneNumber: "+821012345678") { registered } }'

    def from_address(address: str) -> int:
        return client.post(
            "/graphql/", {"query": query}, content_type="application/json", REMOTE_ADDR=address
        ).status_code

    assert [from_address("192.0.2.1") for _ in range(4)] == [200, 200, 200, 429]
    assert from_address("192.0.2.2") == 200


# sample: begin (a list of the logistics sample)
def test_what_an_operation_did_not_use_goes_back(client, network, settings):
    """Requested 101 (a page of 50), actual 7 (3 transports): the second call fits only because
    the first gave back what it did not use."""
    settings.GRAPHQL_COST_BUCKET_SIZE = 150
    settings.GRAPHQL_COST_RESTORE_RATE = 0.001
    staff = bearer(make_staff())
    query = "{ transports(first: 50) { edges { node { uuid } } } }"
    first = call_graphql(client, query, authorization=staff)
    assert first.extensions["cost"]["actualQueryCost"] == 7
    assert first.extensions["cost"]["throttleStatus"]["currentlyAvailable"] == 150 - 7
    assert "errors" not in call_graphql(client, query, authorization=staff)


# sample: end
def test_an_api_key_scope_may_have_a_larger_bucket(client, settings):
    from modules.auth.services import api_key_create

    settings.GRAPHQL_COST_BUCKETS_BY_SCOPE = {"EVENTS": (5000, 250.0)}
    events_key = api_key_create(name=f"watcher-{uuid.uuid4().hex[:6]}", scopes=["EVENTS"]).key
    other_key = api_key_create(name=f"beat-{uuid.uuid4().hex[:6]}", scopes=["HEARTBEAT"]).key
    status = {}
    for name, key in (("events", events_key), ("other", other_key)):
        answer = call_graphql(client, "{ __typename }", authorization=f"Api-Key {key}")
        status[name] = answer.extensions["cost"]["throttleStatus"]
    assert (status["events"]["maximumAvailable"], status["events"]["restoreRate"]) == (5000, 250.0)
    assert status["other"]["maximumAvailable"] == 2000


def test_the_most_throttled_clients_show_in_system_status(client, settings):
    settings.GRAPHQL_COST_BUCKET_SIZE = 30  # systemStatus costs 15 (its weight) + its objects
    settings.GRAPHQL_COST_RESTORE_RATE = 0.001
    throttled = make_staff()
    for _ in range(32):
        call_graphql(client, ME, authorization=bearer(throttled))
    watcher = bearer(make_superuser())
    answer = call_graphql(
        client, "{ systemStatus { throttledClients { client refusals } } }", authorization=watcher
    )
    assert {"client": f"user:{throttled.uuid}", "refusals": 2} in answer["data"]["systemStatus"][
        "throttledClients"
    ]


def test_with_the_budget_store_away_operations_run_unmetered(client, monkeypatch, caplog):
    unreachable = RedisBudgets("redis://127.0.0.1:1/0", "majestic.test.cost:")
    monkeypatch.setattr(budgets, "budget_store", lambda: unreachable)
    monkeypatch.setattr("schema.guard.extension.budget_store", lambda: unreachable)
    answer = call_graphql(client, ME, authorization=bearer(make_staff()))
    assert "errors" not in answer
    assert answer.extensions["cost"]["throttleStatus"]["currentlyAvailable"] is None
    assert "not metered" in caplog.text


# --- the stores themselves ----------------------------------------------------------------------


def test_a_memory_bucket_refills_at_its_rate_up_to_its_size():
    now = [0.0]
    store = MemoryBudgets(clock=lambda: now[0])
    bucket = Bucket(size=10, rate=2.0)
    assert store.take("c", 10, bucket).allowed
    refused = store.take("c", 4, bucket)
    assert not refused.allowed and refused.retry_after == 2.0
    now[0] = 2.0
    assert store.take("c", 4, bucket).allowed
    now[0] = 1000.0
    assert store.available("c", bucket) == 10  # never above its size


def test_a_cost_larger_than_the_bucket_never_fits():
    refused = MemoryBudgets().take("c", 11, Bucket(size=10, rate=1.0))
    assert not refused.allowed and refused.retry_after == float("inf")


def _spend(url: str, prefix: str, client: str, tries: int, results: multiprocessing.Queue) -> None:
    store = RedisBudgets(url, prefix)
    bucket = Bucket(size=300, rate=0.0)
    results.put(sum(store.take(client, 1, bucket).allowed for _ in range(tries)))


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)")
def test_a_redis_bucket_is_exact_across_processes(settings):
    """Two processes take 1 point 250 times each from one bucket of 300: exactly 300 succeed."""
    prefix = f"majestic.test.{uuid.uuid4().hex}:"
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue = context.Queue()
    workers = [
        context.Process(target=_spend, args=(settings.REDIS_URL, prefix, "shared", 250, results))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    allowed = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert sum(allowed) == 300
    assert all(0 < count < 250 + 1 for count in allowed)


def test_the_memory_store_forgets_full_buckets_by_their_own_size():
    now = [0.0]
    store = MemoryBudgets(clock=lambda: now[0])
    small, large = Bucket(size=10, rate=1.0), Bucket(size=1000, rate=1.0)
    store.take("small", 10, small)
    store.take("large", 500, large)
    now[0] = 61.0  # small is full again, large is not
    store.take("other", 1, small)  # a sweep runs
    assert "small" not in store._levels
    assert store.available("large", large) == 561
